"""The garbage collector in the test processes: fewer full collections, none at exit.

A pytest-xdist worker holds moto, cfn-lint, botocore's models and the suite's modules:
about a million objects, which every full (oldest-generation) collection walks, while
almost none of them ever becomes garbage. So here:

- ``freeze_loaded_objects`` (after collection, and once the worker's moto server has
  started) moves what the imports and the server's warm-up built to the permanent
  generation (``gc.freeze``), which no collection walks again;
- ``collect_oldest_less_often`` lets ten times more young collections pass between two
  full ones (the third threshold); young cycles are still collected as often as before;
- ``freeze_objects_at_exit``: the interpreter's teardown skips its last collections over
  the whole heap, which the OS frees anyway. atexit handlers (coverage's data file among
  them) still run.

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
