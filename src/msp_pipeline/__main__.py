import sys

from msp_pipeline.processes import main

sys.exit(main())
