"""Entry point of ``python -m src.database``."""

import gc
import sys

from .cli.parser import main

code = main()
# The command is done. Freezing the collector's objects (gc.freeze) lets the interpreter's
# teardown skip its last collections over every object moto and cfn-lint built: 1-2 s of CPU
# per command that used them, measured on this project's test machines. Output is still
# flushed and atexit handlers (logging's among them) still run; the OS frees the memory.
gc.freeze()
sys.exit(code)
