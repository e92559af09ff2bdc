"""The garbage collector in the test processes: fewer full collections, none at exit.

A pytest-xdist worker holds moto, cfn-lint, botocore's models and the suite's modules:
about a million objects, which every full (oldest-generation) collection walks. With
Python's default thresholds a worker ran 11-19 of them, 0.3-0.8 s each, and the workers
spent 31 s of the run's CPU in the collector (measured with ``gc.callbacks``; 9 s with
what follows). Here:

- ``freeze_loaded_objects`` (after collection, and once the worker's moto server has
  started) moves what the imports and the server's warm-up built to the permanent
  generation (``gc.freeze``), which no collection walks again;
- ``collect_oldest_less_often`` lets ten times more young collections pass between two
  full ones (the third threshold); young cycles are still collected as often as before;
- ``freeze_objects_at_exit``: the interpreter's teardown skips its last collections over
  the whole heap (1-2 s per process). atexit handlers (coverage's data file among them)
  still run, and the OS frees the memory. The command-line tool does the same after its
  command (``src/database/__main__.py``).

Only the test processes do this: the package itself never changes the collector's
settings of the application that imports it.
"""

from __future__ import annotations

import atexit
import gc

OLDEST_GENERATION_FACTOR = 10


def freeze_objects_at_exit() -> None:
    """Freeze the collector's objects when this process exits, before the interpreter's teardown."""
    atexit.register(gc.freeze)


def freeze_loaded_objects() -> None:
    """Move every object alive now (the imported modules' above all) out of the collector's walks."""
    gc.freeze()


def collect_oldest_less_often() -> None:
    """Let ``OLDEST_GENERATION_FACTOR`` times more young collections pass between two full ones."""
    young, middle, oldest = gc.get_threshold()
    gc.set_threshold(young, middle, oldest * OLDEST_GENERATION_FACTOR)
