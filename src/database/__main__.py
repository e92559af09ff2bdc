"""Entry point of ``python -m src.database``."""

import sys

from .cli import main

sys.exit(main())
