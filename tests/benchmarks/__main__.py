"""Entry point of ``python -m tests.benchmarks``."""

import sys

from .cli import main

sys.exit(main())
