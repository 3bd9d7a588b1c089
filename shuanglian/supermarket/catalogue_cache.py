"""Counts the catalogue would otherwise recount on every page, kept for a short while.

A catalogue page, search or API list counts its matches (up to COUNT_CAP), first counts each
search term's postings (up to POSTINGS_COUNT_CAP) to choose its plan, and then finds its page.
None of that depends on the visitor, and under a hundred visitors it was most of the server's
CPU (issue 10, `benchmarks/web_load.py`). The counts and each page's listing ids (never the
listings themselves, which every page reads fresh) are kept here:

- per database (the URL of the session's engine), so tests and tools that open several
  databases in one process never see each other's numbers;
- cleared as soon as a session of this process writes a listing or its search terms (ORM
  objects, or an INSERT/UPDATE/DELETE statement on those tables), and again when it commits,
  so a publisher sees their own change at once; a session with such uncommitted writes
  neither reads nor keeps counts (its numbers are not everyone's);
- for at most TTL_S (counts) or PAGE_TTL_S (which listings a page shows) otherwise: a change
  committed by another process (a second worker, a CLI import) shows within that time. A
  listing withdrawn meanwhile drops out of a kept page at once (its status is read fresh).

The view and scan counters are updated with `UNCHANGED_CATALOGUE` set: they change no count.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from shuanglian.supermarket.models import Listing, ListingTerm

TTL_S = 120.0
# Which listings a page shows: shorter, as a new listing should reach "newest" soon.
PAGE_TTL_S = 30.0
# Whole anonymous catalogue responses (`web.page_cache`): shorter still.
RESPONSE_TTL_S = 10.0
MAX_ENTRIES = 20_000
# Execution option for statements that write listings without changing what they match.
UNCHANGED_CATALOGUE = "catalogue_unchanged"
CATALOGUE_TABLES = frozenset({"market_listings", "market_listing_terms"})
_CHANGED = "catalogue_changed"


class ExpiringCache:
    """A bounded, thread-safe map whose entries expire `ttl_s` after they were put."""

    def __init__(self, *, ttl_s: float = TTL_S, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0

    @property
    def generation(self) -> int:
        """Changes at every `clear`: read it before counting, hand it to `put`."""
        return self._generation

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry[0] >= self.ttl_s:
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: Hashable, value: Any, *, counted_at: int) -> None:
        """Keep `value`, unless the cache was cleared since `counted_at` (its generation
        when the counting began): a count that raced a change is not kept."""
        with self._lock:
            if counted_at != self._generation:
                return
            self._entries[key] = (time.monotonic(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1


postings = ExpiringCache()  # (database, term) -> listings indexed under it (capped)
totals = ExpiringCache()  # (database, search) -> (matches, capped?)
pages = ExpiringCache(ttl_s=PAGE_TTL_S)  # (database, search, sort, offset, limit) -> ids, total
# (database, path, query, language, HTMX headers) -> (response start message, body)
responses = ExpiringCache(ttl_s=RESPONSE_TTL_S, max_entries=1000)


def database_of(session: Session) -> str:
    """Which database a session reads: the key that keeps databases apart."""
    return str(session.get_bind().engine.url)


def clear() -> None:
    """Forget every kept count (a listing changed)."""
    postings.clear()
    totals.clear()
    pages.clear()
    responses.clear()


def usable(session: Session) -> bool:
    """Whether `session` may read and keep counts: not while it holds uncommitted writes to
    the catalogue."""
    return not session.info.get(_CHANGED)


def _note_change(session: Session) -> None:
    session.info[_CHANGED] = True
    clear()


def _touches_catalogue(objects: Any) -> bool:
    return any(isinstance(obj, Listing | ListingTerm) for obj in objects)


@event.listens_for(Session, "before_flush")
def _note_flushed_listings(session: Session, _context: Any, _instances: Any) -> None:
    if _touches_catalogue([*session.new, *session.dirty, *session.deleted]):
        _note_change(session)


@event.listens_for(Session, "do_orm_execute")
def _note_listing_statements(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    if state.execution_options.get(UNCHANGED_CATALOGUE):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in CATALOGUE_TABLES:
        _note_change(state.session)


@event.listens_for(Session, "after_commit")
def _clear_after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        clear()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)
