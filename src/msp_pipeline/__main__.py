import sys

from msp_pipeline.cli import main

sys.exit(main())
