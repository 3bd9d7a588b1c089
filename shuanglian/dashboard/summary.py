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

A statement over pushes or feedback whose only change since is appended rows (ids above every
id it saw; see `Pieces._can_fold`) is not recomputed: the new rows' share is added to it
(`dashboard.appends`). Only a piece computed by a transaction that wrote no watched table
itself is brought up to date this way (what it saw may yet be rolled back).

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
from typing import Any

from sqlalchemy import Table as SATable
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import find_tables

from shuanglian.dashboard.models import (
    APPENDED,
    UNWATCHED,
    DashChange,
    DashSummary,
    DashVersion,
    appended_token,
)
from shuanglian.dashboard.piece_json import dumps, loads
from shuanglian.db import SQLITE_CHANGES_AT_BEGIN
from shuanglian.figures import Scope

# A kept piece in memory: the tokens it was computed under, its JSON, and its base — where
# new rows of an `APPENDED` table may be added to it from (None: never; PostgreSQL: the
# snapshot it was computed in; SQLite: "").
Kept = tuple[dict[str, int], str, str | None]
# Brings a kept value up to date from the tokens it was kept under to the current ones, or
# says it cannot (None).
Fold = Callable[[Any, dict[str, int], dict[str, int]], Any]


MEMORY_ENTRIES = 10000  # a scope is about 100 pieces (figures, tables, their statements)
_memory: OrderedDict[tuple[str, str], Kept] = OrderedDict()
_lock = threading.Lock()
# True while a piece looks for a kept copy of itself (not a read of the piece's inputs).
_looking_up: ContextVar[bool] = ContextVar("dash_looking_up", default=False)
# The Pieces whose piece is being computed (statements inside it are kept through it).
_current: ContextVar[Pieces | None] = ContextVar("dash_pieces", default=None)


def scope_key(scope: Scope) -> str:
    region = scope.region.code if scope.region else ""
    period = scope.period.key if scope.period else ""
    return f"i={scope.institution_id or ''};r={region};p={period}"


# ----------------------------------------------------------------------------- reading


def mark_key(table: str) -> str:
    """The version entry holding the highest id of an `APPENDED` table."""
    return f"{table}#id"


def mod_key(table: str) -> str:
    """The version entry of an `APPENDED` table that changes on every write but an append."""
    return f"{table}#mod"


def current_versions(session: Session) -> dict[str, int]:
    """Every table's change token as this transaction sees it.

    On PostgreSQL the token also sums the table's `dash_changes` rows (one per writing
    transaction, each with a random value; see `dashboard.models`): a committed write adds a
    row, so the count and sum change.

    An `APPENDED` table has two more entries: its highest id (`mark_key`) and a token that
    appends leave alone (`mod_key`) — what `Pieces` needs to add new rows to a kept result."""
    base = {n: int(v) for n, v in session.execute(select(DashVersion.name, DashVersion.version))}
    if not base:
        return base
    appended = sorted(t for t in APPENDED if t in base)
    if session.get_bind().dialect.name == "postgresql":
        modifying = DashChange.first_id.is_(None)
        changes = select(
            DashChange.name,
            func.count(),
            func.sum(DashChange.value),
            func.count().filter(modifying),
            func.coalesce(func.sum(DashChange.value).filter(modifying), 0),
        ).group_by(DashChange.name)
        mods = {t: base[t] for t in appended}
        for name, n, total, n_mod, total_mod in session.execute(changes):
            if name in base:
                base[name] += int(n) * 2**128 + int(total)
            if name in mods:
                mods[name] += int(n_mod) * 2**128 + int(total_mod)
        for t in appended:
            base[mod_key(t)] = mods[t]
    else:
        for t in appended:
            base[mod_key(t)] = base[t]
            base[t] = base[t] * 2**64 + base.pop(appended_token(t), 0)
    if appended:
        marks = select(
            *[select(func.max(_id_column(t))).scalar_subquery().label(t) for t in appended]
        )
        for t, top in zip(appended, session.execute(marks).one(), strict=True):
            base[mark_key(t)] = int(top or 0)
    return base


def _id_column(table: str) -> Any:
    return DashSummary.metadata.tables[table].c.id


def fold_changes(session: Session) -> int:
    """PostgreSQL: replace the `dash_changes` rows of each table that has several by one row
    of this transaction (`dash_fold`: that table's token changes once more, so nothing kept is
    wrongly reused; a table with one row is left alone, so a refresh after no write changes
    nothing). Rows another transaction is folding are skipped, so this never waits. The caller
    commits; returns the rows removed (0 on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return 0
    names = session.scalars(
        text("SELECT name FROM dash_changes GROUP BY name HAVING count(*) > 1 ORDER BY name")
    ).all()
    return sum(
        int(session.scalar(text("SELECT dash_fold(:n)"), {"n": name}) or 0) for name in names
    )


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
        self,
        session: Session,
        *,
        use_database: bool = True,
        use_memory: bool = True,
        wrote_only_summaries: bool = False,
    ) -> None:
        self.session = session
        self.use_memory = use_memory
        self.postgresql = session.get_bind().dialect.name == "postgresql"
        self.versions = current_versions(session)
        self.use_database = use_database and bool(self.versions)
        self.computed: list[tuple[str, dict[str, int], str]] = []  # for `refresh`
        self.bases: dict[str, str | None] = {}  # for `refresh`: each computed piece's base
        self.hits = 0
        self.folded = 0  # pieces brought up to date by adding new rows only
        self._reading: list[set[str]] = []  # the read sets of the pieces being computed
        self._here: dict[str, tuple[dict[str, int], str]] = {}  # computed by this one
        self._appended_ok: dict[tuple[str, str, int], bool] = {}
        # `wrote_only_summaries`: the caller (`refresh`) wrote nothing in this transaction
        # but kept pieces and folded change rows, which leave every figure as it was.
        self.wrote_only_summaries = wrote_only_summaries
        self._stored: bool | None = None  # whether `dash_summaries` holds anything
        self.base = self._base() if self.versions else None
        self._appended_tokens = self._read_appended_tokens() if self.base else None

    # ------------------------------------------------------------------ appends

    def _meta(self, stmt: Any, params: dict[str, Any] | None = None) -> Any:
        """Run a bookkeeping statement (not one of a piece's inputs)."""
        looking = _looking_up.set(True)
        try:
            return self.session.execute(stmt, params or {})
        finally:
            _looking_up.reset(looking)

    def _base(self) -> str | None:
        """What this transaction's pieces may later be brought up to date from: None when the
        transaction wrote a watched table itself (what it sees may yet be rolled back)."""
        if self.postgresql:
            # The snapshot, and the transaction's own id when it has one: its own change rows
            # (`refresh` folding others into them) are not in its snapshot but hold nothing it
            # did not see.
            snapshot, own, wrote = self._meta(
                text(
                    "SELECT txid_current_snapshot()::text, txid_current_if_assigned(), "
                    "EXISTS (SELECT 1 FROM dash_changes "
                    "WHERE txid = txid_current_if_assigned())"
                )
            ).one()
            if wrote and not self.wrote_only_summaries:
                return None
            return f"{snapshot}/{own if own is not None else -1}"
        if self.wrote_only_summaries:
            return ""
        conn = self.session.connection()
        at_begin = conn.info.get(SQLITE_CHANGES_AT_BEGIN)
        raw = conn.connection.dbapi_connection
        now = getattr(raw, "total_changes", None)
        return "" if at_begin is not None and now == at_begin else None

    def _read_appended_tokens(self) -> Any:
        """PostgreSQL: the `dash_changes` rows of the `APPENDED` tables, to see whether a
        transaction committed while a piece was computed (each statement of a READ COMMITTED
        transaction sees the commits made before it began)."""
        if not self.postgresql:
            return None
        stmt = (
            select(DashChange.name, func.count(), func.sum(DashChange.value))
            .where(DashChange.name.in_(sorted(APPENDED)))
            .group_by(DashChange.name)
        )
        return sorted(tuple(r) for r in self._meta(stmt))

    def _only_appended(self, table: str, base: str, mark: int) -> bool:
        """PostgreSQL: every transaction not visible in the base's snapshot (other than the
        base's own) that wrote `table` only appended rows with ids above `mark` (so the rows
        a piece computed in that snapshot did not see are exactly those above `mark`)."""
        key = (table, base, mark)
        if key not in self._appended_ok:
            snapshot, _, own = base.rpartition("/")
            ok = self._meta(
                text(
                    "SELECT coalesce(bool_and(coalesce(first_id > :m, false)), true) "
                    "FROM dash_changes WHERE name = :t AND txid <> :own "
                    "AND NOT txid_visible_in_snapshot(txid, CAST(:s AS txid_snapshot))"
                ),
                {"m": mark, "t": table, "s": snapshot, "own": int(own)},
            ).scalar()
            self._appended_ok[key] = bool(ok)
        return self._appended_ok[key]

    def _can_fold(self, recorded: dict[str, int], base: str | None) -> bool:
        """Whether the only changes since `recorded` are rows appended to `APPENDED` tables
        above the ids the piece saw."""
        if base is None or self.base is None:
            return False
        changed = False
        for name, token in recorded.items():
            if "#" in name:
                continue
            if name not in APPENDED:
                if self.versions.get(name) != token:
                    return False
                continue
            mark = recorded.get(mark_key(name))
            if mark is None or recorded.get(mod_key(name)) != self.versions.get(mod_key(name)):
                return False
            if self.versions[mark_key(name)] < mark:
                return False
            if self.versions.get(name) != token:
                changed = True
                if self.postgresql and not self._only_appended(name, base, mark):
                    return False
        return changed

    def _recorded(self, tables: set[str]) -> dict[str, int]:
        names = set(tables)
        for t in tables & APPENDED:
            names |= {mark_key(t), mod_key(t)}
        return {t: self.versions[t] for t in sorted(names)}

    # ------------------------------------------------------------------ pieces

    def _hit(self, recorded: dict[str, int], payload: str, *, count: bool = True) -> Any:
        """A kept piece: the pieces being computed around it read its tables too."""
        self.hits += count
        for seen in self._reading:
            seen.update(recorded)
        return loads(payload)

    def _valid(self, recorded: dict[str, int]) -> bool:
        return all(self.versions.get(t) == v for t, v in recorded.items())

    def _keep(self, key: str, mem_key: tuple[str, str], recorded: dict[str, int],
              value: Any, base: str | None) -> Any:  # fmt: skip
        payload = dumps(value)
        self._remember(mem_key, recorded, payload, base)
        self._here[key] = (recorded, payload)
        self.computed.append((key, recorded, payload))
        self.bases[key] = base
        return loads(payload)

    def _any_stored(self) -> bool:
        """Whether `dash_summaries` holds any piece (asked once: a site that never runs
        `report refresh` then looks up none)."""
        if self._stored is None:
            self._stored = self._meta(select(DashSummary.key).limit(1)).first() is not None
        return self._stored

    def get(self, key: str, compute: Callable[[], Any], fold: Fold | None = None) -> Any:
        """The piece named `key`: kept, kept and brought up to date by `fold` (new rows of
        `APPENDED` tables added), or computed now."""
        if not self.versions:  # the tables predate the tokens: nothing can be kept
            return compute()
        if key in self._here:
            return self._hit(*self._here[key], count=False)
        mem_key = _db_key(self.session, key)
        with _lock:
            found = _memory.get(mem_key) if self.use_memory else None
        if found is not None and self._valid(found[0]):
            return self._hit(found[0], found[1])
        if found is not None and fold is not None and self._can_fold(found[0], found[2]):
            value = fold(loads(found[1]), found[0], self.versions)
            if value is not None:
                recorded = {t: self.versions[t] for t in found[0]}
                self.folded += 1
                for seen in self._reading:
                    seen.update(recorded)
                return self._keep(key, mem_key, recorded, value, self.base)
        if self.use_database and self._any_stored():
            looking = _looking_up.set(True)
            try:
                row = self.session.get(DashSummary, key)
            finally:
                _looking_up.reset(looking)
            if row is not None:
                recorded = json.loads(row.versions)
                if self._valid(recorded):
                    self._remember(mem_key, recorded, row.payload, row.base)
                    return self._hit(recorded, row.payload)
                if fold is not None and self._can_fold(recorded, row.base):
                    value = fold(loads(row.payload), recorded, self.versions)
                    if value is not None:
                        new_recorded = {t: self.versions[t] for t in recorded}
                        self.folded += 1
                        for seen in self._reading:
                            seen.update(new_recorded)
                        return self._keep(key, mem_key, new_recorded, value, self.base)
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
        base = self.base if fold is not None else None
        if (
            base is not None
            and self.postgresql
            and tables & APPENDED
            and self._read_appended_tokens() != self._appended_tokens
        ):
            base = None  # a commit came between: the piece may hold rows past its marks
        return self._keep(key, mem_key, self._recorded(tables), value, base)

    @staticmethod
    def _remember(
        mem_key: tuple[str, str], recorded: dict[str, int], payload: str, base: str | None
    ) -> None:
        with _lock:
            _memory[mem_key] = (recorded, payload, base)
            _memory.move_to_end(mem_key)
            while len(_memory) > MEMORY_ENTRIES:
                _memory.popitem(last=False)


_compiled: dict[tuple[str, Any], Any] = {}


def statement_key(session: Session, stmt: Any) -> str:
    """A statement's name as a piece: its SQL and parameters, hashed. The SQL of a statement
    shape is compiled once per process (SQLAlchemy's cache key names the shape; a page has
    some fifty statements, and compiling them all again took a tenth of a second)."""
    dialect = session.get_bind().dialect
    cache_key = stmt._generate_cache_key()
    compiled = None
    if cache_key is not None:
        memo = (dialect.name, cache_key.key)
        compiled = _compiled.get(memo)
        if compiled is None:
            compiled = stmt.compile(dialect=dialect, cache_key=cache_key)
            with _lock:
                if len(_compiled) > MEMORY_ENTRIES:
                    _compiled.clear()
                _compiled[memo] = compiled
        params = compiled.construct_params(extracted_parameters=cache_key.bindparams)
    else:
        compiled = stmt.compile(dialect=dialect)
        params = compiled.params
    text_ = f"{compiled}\n{sorted(params.items())!r}"
    return "sql:" + hashlib.sha1(text_.encode()).hexdigest()


def rows(
    session: Session,
    stmt: Any,
    *,
    fold_as: Any = None,
    delta: Callable[[dict[str, int], dict[str, int]], Any] | None = None,
) -> list[tuple[Any, ...]]:
    """The rows of an aggregate SELECT (numbers, text, None: what JSON keeps), kept as a piece
    of its own while inside a piece being computed, else straight from the database.

    When only rows were appended to `APPENDED` tables since it was kept, the kept rows are
    brought up to date by adding what the new rows add (`dashboard.appends`): worked out from
    the statement itself, from `fold_as` (a plain one-level statement giving the same rows,
    for a statement written in two steps for speed), or by `delta(old, new)` (the statement of
    the rows to add — or None when it cannot say)."""
    pieces = _current.get()
    if pieces is None or pieces.session is not session:
        return [tuple(r) for r in session.execute(stmt)]
    key = statement_key(session, stmt)

    def fold(old_rows: Any, old: dict[str, int], new: dict[str, int]) -> Any:
        from shuanglian.dashboard.appends import fold_rows

        return fold_rows(session, fold_as if fold_as is not None else stmt, old_rows, old, new,
                         delta=delta)  # fmt: skip

    got = pieces.get(key, lambda: [list(r) for r in session.execute(stmt)], fold)
    return [tuple(r) for r in got]


def forget_memory() -> None:
    """Drop the pieces kept in this process (benchmarks measuring a cold page)."""
    with _lock:
        _memory.clear()
