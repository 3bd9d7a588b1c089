"""A cap on concurrent password checks, for logins from anyone.

An argon2 check costs 64 MiB and ~0.1–0.8 s of CPU; twelve clients posting random user names
used to keep every core busy and, run on the event loop, stalled every other request. A login
now waits here for one of `slots` checks (`Settings.password_hash_concurrency`) without
holding a thread — waiting is a suspended coroutine — and runs its check in a worker thread
of its own limiter, so the web's shared thread pool stays free for pages and `/healthz`. When
more than `max_waiting` logins are already queued the next one is answered 503 at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from shuanglian.errors import TooManyRequests

T = TypeVar("T")

# Logins that may queue per check slot before new ones are turned away.
WAITING_PER_SLOT = 16


class Busy(TooManyRequests):
    """Too much of this work is already waiting; the client should come back shortly."""

    code = "busy"
    status = 503


class HashGate:
    """Run password checks at most `slots` at a time, off the event loop."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.max_waiting = WAITING_PER_SLOT * slots
        self._limiter: anyio.CapacityLimiter | None = None

    def _capacity(self) -> anyio.CapacityLimiter:
        # Created on first use, inside the server's event loop.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.slots)
        return self._limiter

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` in a worker thread once a slot is free; Busy when the queue is full."""
        limiter = self._capacity()
        if limiter.statistics().tasks_waiting >= self.max_waiting:
            raise Busy(
                "登录请求过多，请稍后再试 (too many logins at once; retry shortly)", retry_after=5
            )
        return await anyio.to_thread.run_sync(work, limiter=limiter)
