"""Login rate limiting: a sliding window of failures per (client address, username).

Kept in process memory on purpose: one `shuanglian serve` process is the deployment unit, and
a restart forgetting failures is acceptable. Several workers would each count separately.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginLimiter:
    """Allow at most `max_failures` failed logins per key within `window_s` seconds."""

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: tuple[str, str]) -> deque[float]:
        now = self._clock()
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def retry_after(self, client: str, username: str) -> int:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        key = (client, username.strip().lower())
        with self._lock:
            times = self._prune(key)
            if len(times) < self.max_failures:
                return 0
            return max(1, int(self.window_s - (self._clock() - times[0])) + 1)

    def record_failure(self, client: str, username: str) -> None:
        """Count one failed attempt."""
        key = (client, username.strip().lower())
        with self._lock:
            self._prune(key).append(self._clock())

    def reset(self, client: str, username: str) -> None:
        """Forget failures after a successful login."""
        with self._lock:
            self._failures.pop((client, username.strip().lower()), None)
