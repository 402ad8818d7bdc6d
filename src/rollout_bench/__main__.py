import sys

from rollout_bench.cli import main

sys.exit(main())
