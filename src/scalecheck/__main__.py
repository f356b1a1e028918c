"""``python -m scalecheck`` runs the command line, as the ``scalecheck`` script does."""

import sys

from scalecheck.cli import main

sys.exit(main())
