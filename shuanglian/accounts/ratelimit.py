"""Rate limiting: a sliding window of events per (client address, key).

Used for failed logins (key: the key) and for the supermarket's contact form (key: the
listing, and one overall key), which e-mails an institution's staff and so must not be floodable.

Kept in process memory on purpose: one `shuanglian serve` process is the deployment unit, and
a restart forgetting failures is acceptable. Several workers would each count separately.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """Allow at most `max_events` events per (client, key) within `window_s` seconds."""

    def __init__(
        self,
        *,
        max_events: int = 5,
        window_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_events = max_events
        self.window_s = window_s
        self._clock = clock
        self._events: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _slot(self, client: str, key: str) -> tuple[str, str]:
        return client, key.strip().lower()

    def _prune(self, slot: tuple[str, str]) -> deque[float]:
        now = self._clock()
        times = self._events.setdefault(slot, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def retry_after(self, client: str, key: str) -> int:
        """Seconds until another event is allowed; 0 when allowed now."""
        slot = self._slot(client, key)
        with self._lock:
            times = self._prune(slot)
            if not times:
                del self._events[slot]  # keep memory to the clients active in the window
            if len(times) < self.max_events:
                return 0
            return max(1, int(self.window_s - (self._clock() - times[0])) + 1)

    def record(self, client: str, key: str) -> None:
        """Count one event (a failed login, a sent inquiry)."""
        slot = self._slot(client, key)
        with self._lock:
            self._prune(slot).append(self._clock())

    def reset(self, client: str, key: str) -> None:
        """Forget the events of a key (a successful login clears its failures)."""
        with self._lock:
            self._events.pop(self._slot(client, key), None)
