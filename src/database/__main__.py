"""Entry point of ``python -m src.database``."""

import sys

from .cli.parser import main

sys.exit(main())
