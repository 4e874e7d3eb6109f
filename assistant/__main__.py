"""`python -m assistant` runs the same command line as `focus-assistant`."""

import sys

from assistant.cli import main

sys.exit(main())
