"""How ``put_many``/``delete_many`` back off: the retry policy and one pause shared by every worker."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import ConfigurationError
from ..settings import validate_count

DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_BACKOFF_BASE = 0.05
DEFAULT_BACKOFF_CAP = 2.0


def backoff_delay(
    retry: int,
    *,
    base: float = DEFAULT_BACKOFF_BASE,
    cap: float = DEFAULT_BACKOFF_CAP,
    uniform: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds to wait before retry number ``retry`` (0-based): full jitter, ``U(0, min(cap, base * 2**retry))``.

    Full jitter is the variant AWS recommends for retries of throttled requests
    ("Exponential Backoff And Jitter", AWS Architecture Blog).
    """
    return uniform(0.0, min(cap, base * 2 ** min(retry, 64)))  # 2**64 * base passes any cap


@dataclass(frozen=True)
class RetryPolicy:
    """How often an unprocessed request is re-sent and how long the writer pauses before."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base: float = DEFAULT_BACKOFF_BASE
    backoff_cap: float = DEFAULT_BACKOFF_CAP
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def __post_init__(self) -> None:
        validate_count(self.max_attempts, "max_attempts")
        if not 0 < self.backoff_base <= self.backoff_cap:
            raise ConfigurationError(
                f"Backoff needs 0 < backoff_base <= backoff_cap, got base {self.backoff_base} "
                f"and cap {self.backoff_cap}."
            )


class SharedBackoff:
    """One backoff for every worker of a call: a pause holds the gate all senders pass."""

    def __init__(self, policy: RetryPolicy, remaining: Callable[[], float]) -> None:
        self._policy = policy
        self._remaining = remaining
        self._gate = threading.Lock()
        self._streak = 0

    def wait(self) -> None:
        """Block while another worker pauses."""
        with self._gate:
            pass

    def pause(self) -> None:
        """Pause every worker for the next backoff delay (or wait for the pause already under way)."""
        if not self._gate.acquire(blocking=False):
            self.wait()
            return
        try:
            delay = backoff_delay(self._streak, base=self._policy.backoff_base, cap=self._policy.backoff_cap)
            self._streak += 1
            self._policy.sleep(max(0.0, min(delay, self._remaining())))  # never past the deadline
        finally:
            self._gate.release()

    def reset(self) -> None:
        """A batch went through completely: the next pause starts small again."""
        self._streak = 0
