"""Computed figures and tables kept until the tables they were computed from change.

Every figure is still an SQL aggregate (`shuanglian.figures`, `dashboard.service`); this module
only avoids computing the same aggregate again while its inputs are unchanged. When a piece (one
figure or one table, for one scope and day) is computed, the tables its statements read are
recorded with their change tokens (`dash_versions`, replaced by a trigger in the transaction
of every write — see `dashboard.models`). The piece is reused only while all those tokens are
the same, so a page never shows a number the database no longer gives: a push invalidates what
reads pushes and nothing else, at the moment it commits.

Inside a piece, each aggregate statement is kept as a piece of its own (`rows`), named by its
SQL and parameters: a write then recomputes only the statements that read the written table —
a push redoes the push counts of a breakdown, not its patent and pool counts — and a statement
two pieces share (the pushed-patents card and the funnel's pushed step) runs once. A piece
built from kept statements records their tables as if it had read them itself.

Pieces live in the process's memory and, when `dashboard.refresh` computed them (`shuanglian
report refresh`, idempotent, for cron or after a bulk import), in `dash_summaries` where every
process finds them. A page never writes.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from sqlalchemy import Table as SATable
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import find_tables

from shuanglian.dashboard.models import UNWATCHED, DashChange, DashSummary, DashVersion
from shuanglian.dashboard.tables import Column, Table
from shuanglian.figures import Scope

MEMORY_ENTRIES = 10000  # a scope is about 100 pieces (figures, tables, their statements)
_memory: OrderedDict[tuple[str, str], tuple[dict[str, int], str]] = OrderedDict()
_lock = threading.Lock()
# True while a piece looks for a kept copy of itself (not a read of the piece's inputs).
_looking_up: ContextVar[bool] = ContextVar("dash_looking_up", default=False)
# The Pieces whose piece is being computed (statements inside it are kept through it).
_current: ContextVar[Pieces | None] = ContextVar("dash_pieces", default=None)


def scope_key(scope: Scope) -> str:
    region = scope.region.code if scope.region else ""
    period = scope.period.key if scope.period else ""
    return f"i={scope.institution_id or ''};r={region};p={period}"


# ----------------------------------------------------------------------------- JSON


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, Table):
        return {"$t": {k: _encode(v) for k, v in asdict(value).items()}}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _table(data: dict[str, Any]) -> Table:
    data = dict(data)
    data["columns"] = [Column(**c) for c in data["columns"]]
    data["extra"] = {k: v if isinstance(v, Table) else _table(v) for k, v in data["extra"].items()}
    return Table(**data)


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$d"}:
            return Decimal(value["$d"])
        if set(value) == {"$t"}:
            return _table({k: _decode(v) for k, v in value["$t"].items()})
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(_encode(value), ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Any:
    return _decode(json.loads(text))


# ----------------------------------------------------------------------------- reading


def current_versions(session: Session) -> dict[str, int]:
    """Every table's change token as this transaction sees it.

    On PostgreSQL the token also sums the table's `dash_changes` rows (one per writing
    transaction, each with a random value; see `dashboard.models`): a committed write adds a
    row, so the count and sum change."""
    base = {n: int(v) for n, v in session.execute(select(DashVersion.name, DashVersion.version))}
    if base and session.get_bind().dialect.name == "postgresql":
        changes = select(DashChange.name, func.count(), func.sum(DashChange.value)).group_by(
            DashChange.name
        )
        for name, n, total in session.execute(changes):
            if name in base:
                base[name] += int(n) * 2**128 + int(total)
    return base


def fold_changes(session: Session) -> int:
    """PostgreSQL: replace the `dash_changes` rows of each table that has several by one row
    of this transaction (that table's token changes once more, so nothing kept is wrongly
    reused; a table with one row is left alone, so a refresh after no write changes nothing).
    Rows another transaction is folding are skipped, so this never waits. The caller commits;
    returns the rows removed (0 on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return 0
    gone = session.execute(
        text(
            "DELETE FROM dash_changes WHERE ctid IN (SELECT ctid FROM dash_changes "
            "WHERE txid <> txid_current() AND name IN (SELECT name FROM dash_changes "
            "GROUP BY name HAVING count(*) > 1) FOR UPDATE SKIP LOCKED) RETURNING name"
        )
    ).all()
    for name in sorted({n for (n,) in gone}):
        session.execute(
            text(
                "INSERT INTO dash_changes (name, txid, value) VALUES (:n, txid_current(), "
                "(random() * 9e18)::bigint) ON CONFLICT (name, txid) DO UPDATE "
                "SET value = excluded.value"
            ),
            {"n": name},
        )
    return len(gone)


@contextmanager
def reads(session: Session) -> Iterator[set[str]]:
    """The names of the tables the statements run inside the block read ("?" for a statement
    whose tables are not known, such as text SQL)."""
    conn = session.connection()
    seen: set[str] = set()

    def before_execute(_conn: Any, clause: Any, *_args: Any) -> None:
        if _looking_up.get():
            return
        tables = [t for t in find_tables(clause) if isinstance(t, SATable)]
        if not tables and not hasattr(clause, "get_final_froms"):
            seen.add("?")
        seen.update(str(t.name) for t in tables if getattr(t, "schema", None) is None)

    event.listen(conn, "before_execute", before_execute)
    try:
        yield seen
    finally:
        event.remove(conn, "before_execute", before_execute)


def _db_key(session: Session, key: str) -> tuple[str, str]:
    bind = session.get_bind()
    return (str(bind.engine.url if hasattr(bind, "engine") else bind), key)


class Pieces:
    """Kept pieces for one page or report: the tokens are read once, before anything is
    computed (so a kept piece is never older than the tokens it is filed under)."""

    def __init__(
        self, session: Session, *, use_database: bool = True, use_memory: bool = True
    ) -> None:
        self.session = session
        self.use_memory = use_memory
        self.versions = current_versions(session)
        self.use_database = use_database and bool(self.versions)
        self.computed: list[tuple[str, dict[str, int], str]] = []  # for `refresh`
        self.hits = 0
        self._reading: list[set[str]] = []  # the read sets of the pieces being computed
        self._here: dict[str, tuple[dict[str, int], str]] = {}  # computed by this one

    def _hit(self, recorded: dict[str, int], payload: str, *, count: bool = True) -> Any:
        """A kept piece: the pieces being computed around it read its tables too."""
        self.hits += count
        for seen in self._reading:
            seen.update(recorded)
        return loads(payload)

    def _valid(self, recorded: dict[str, int]) -> bool:
        return all(self.versions.get(t) == v for t, v in recorded.items())

    def get(self, key: str, compute: Callable[[], Any]) -> Any:
        """The piece named `key`, kept or computed now."""
        if not self.versions:  # the tables predate the tokens: nothing can be kept
            return compute()
        if key in self._here:
            return self._hit(*self._here[key], count=False)
        mem_key = _db_key(self.session, key)
        with _lock:
            found = _memory.get(mem_key) if self.use_memory else None
        if found is not None and self._valid(found[0]):
            return self._hit(*found)
        if self.use_database:
            looking = _looking_up.set(True)
            try:
                row = self.session.get(DashSummary, key)
            finally:
                _looking_up.reset(looking)
            if row is not None:
                recorded = json.loads(row.versions)
                if self._valid(recorded):
                    self._remember(mem_key, recorded, row.payload)
                    return self._hit(recorded, row.payload)
        with reads(self.session) as tables:
            self._reading.append(tables)
            outer = _current.set(self)
            try:
                value = compute()
            finally:
                _current.reset(outer)
                self._reading.pop()
        if "?" in tables or tables & UNWATCHED or not tables <= set(self.versions):
            return value  # read something without a token: never kept
        recorded = {t: self.versions[t] for t in sorted(tables)}
        payload = dumps(value)
        self._remember(mem_key, recorded, payload)
        self._here[key] = (recorded, payload)
        self.computed.append((key, recorded, payload))
        return loads(payload)

    @staticmethod
    def _remember(mem_key: tuple[str, str], recorded: dict[str, int], payload: str) -> None:
        with _lock:
            _memory[mem_key] = (recorded, payload)
            _memory.move_to_end(mem_key)
            while len(_memory) > MEMORY_ENTRIES:
                _memory.popitem(last=False)


def rows(session: Session, stmt: Any) -> list[tuple[Any, ...]]:
    """The rows of an aggregate SELECT (numbers, text, None: what JSON keeps), kept as a piece
    of its own while inside a piece being computed, else straight from the database."""
    pieces = _current.get()
    if pieces is None or pieces.session is not session:
        return [tuple(r) for r in session.execute(stmt)]
    compiled = stmt.compile(dialect=session.get_bind().dialect)
    text_ = f"{compiled}\n{sorted(compiled.params.items())!r}"
    key = "sql:" + hashlib.sha1(text_.encode()).hexdigest()
    got = pieces.get(key, lambda: [list(r) for r in session.execute(stmt)])
    return [tuple(r) for r in got]


def forget_memory() -> None:
    """Drop the pieces kept in this process (benchmarks measuring a cold page)."""
    with _lock:
        _memory.clear()
