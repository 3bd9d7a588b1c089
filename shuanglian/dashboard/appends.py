"""Kept aggregates brought up to date from the rows appended since, not recomputed (issue 15).

A push or a feedback form adds one row to a table of a million; recomputing every count that
reads the table took seconds. When the only change since an aggregate was kept is rows
appended to `APPENDED` tables (with ids above every id the aggregate saw — `summary.Pieces`
checks this against the change tokens), the aggregate over all rows is the kept one plus what
the new rows add:

- a COUNT or SUM (grouped or not): the same statement over the new rows, added group by group;
- a COUNT(DISTINCT x): the new rows' values of x that no old row in the same group has — the
  same statement over the new rows, with NOT EXISTS an old row (the statement's own joins and
  conditions, on aliases, ids up to the old mark) with the same x and group: an index lookup
  per new row.

Anything else (a statement reading an appended table inside a subquery, ORDER BY, LIMIT, a
median) is recomputed, unless its caller says how to fold it (`summary.rows`: `fold_as`, a
one-level statement with the same rows; `delta`, the statement of the rows to add). Updates
and deletes always recompute: their tokens change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import functions, operators
from sqlalchemy.sql.elements import BindParameter, ClauseList, Label, UnaryExpression
from sqlalchemy.sql.expression import Join, TableClause
from sqlalchemy.sql.util import ClauseAdapter, find_tables

from shuanglian.dashboard.models import APPENDED
from shuanglian.dashboard.piece_json import dumps, loads

_aliases: dict[tuple[str, str], Any] = {}


def _alias(table: TableClause, role: str) -> Any:
    """One alias per table and role for the process: an alias builds its column collection
    once (a wide table's took milliseconds per statement), and the statements it is in keep
    the same SQL, so SQLAlchemy compiles each shape once."""
    key = (table.name, role)
    if key not in _aliases:
        _aliases[key] = table.alias(f"{table.name}_{role}")
    return _aliases[key]


def mark(versions: dict[str, int], table: str) -> int:
    """The highest id of an `APPENDED` table under these versions (`summary.mark_key`)."""
    return versions.get(f"{table}#id", 0)


@dataclass
class Shape:
    """What a one-level aggregate SELECT is made of, as far as folding goes."""

    tables: list[TableClause]  # the tables of its FROM (joins included)
    keys: list[int]  # positions of the GROUP BY columns
    sums: list[int]  # positions of the COUNT/SUM columns (or the one COUNT(DISTINCT))
    distinct: Any = None  # x of its one COUNT(DISTINCT x)


def _unlabel(col: Any) -> Any:
    return col.element if isinstance(col, Label) else col


def group_columns(stmt: Select[Any]) -> list[Any]:
    """The GROUP BY expressions (SQLAlchemy wraps a function in a list of one label)."""
    out: list[Any] = []

    def add(clause: Any) -> None:
        if isinstance(clause, ClauseList):
            for c in clause.clauses:
                add(c)
        else:
            out.append(_unlabel(clause))

    for clause in stmt._group_by_clauses:
        add(clause)
    return out


def _distinct_of(col: Any) -> Any:
    """x when `col` is COUNT(DISTINCT x), else None."""
    if not isinstance(col, functions.count):
        return None
    args = list(col.clauses)
    if len(args) != 1:
        return None
    arg = args[0]
    if isinstance(arg, functions.Function) and arg.name == "distinct":
        inner = list(arg.clauses)
        return inner[0] if len(inner) == 1 else None
    if isinstance(arg, UnaryExpression) and arg.operator is operators.distinct_op:
        return arg.element
    return None


def _additive(col: Any) -> bool:
    """COUNT(*), COUNT(x), SUM(x) or COALESCE(SUM(x), 0): the sum of its parts' values."""
    if isinstance(col, functions.count):
        return _distinct_of(col) is None
    if isinstance(col, functions.sum):
        return True
    if isinstance(col, functions.coalesce):
        args = list(col.clauses)
        return (
            len(args) == 2
            and isinstance(args[0], functions.sum)
            and isinstance(args[1], BindParameter)
            and args[1].value == 0
        )
    return False


def _reads_appended(clause: Any) -> bool:
    """Whether an appended table is read inside `clause` (a subquery), not just named."""
    return clause is not None and any(t.name in APPENDED for t in find_tables(clause))


def shape(stmt: Any) -> Shape | None:
    """The shape of `stmt` when its new rows can be added to it, else None."""
    if not isinstance(stmt, Select):
        return None
    if (
        stmt._order_by_clauses
        or stmt._limit_clause is not None
        or stmt._offset_clause is not None
        or stmt._distinct
        or stmt._having_criteria
    ):
        return None
    tables: list[TableClause] = []
    others: list[Any] = []

    def walk(f: Any) -> bool:
        if isinstance(f, Join):
            if (f.isouter or f.full) and _reads_appended(f):
                return False  # a new row may turn a row padded with NULLs into a match
            return walk(f.left) and walk(f.right) and not _reads_appended(f.onclause)
        if isinstance(f, TableClause):
            tables.append(f)
            return True
        others.append(f)
        return not _reads_appended(f)

    if not all(walk(f) for f in stmt.get_final_froms()):
        return None
    names = [t.name for t in tables]
    appended = [n for n in names if n in APPENDED]
    if not appended or len(set(names)) != len(names):
        return None
    if _reads_appended(stmt.whereclause):
        return None
    group = group_columns(stmt)
    if any(_reads_appended(g) for g in group):
        return None
    keys, sums, distinct = [], [], []
    for i, col in enumerate(stmt.selected_columns):
        inner = _unlabel(col)
        if _reads_appended(inner):
            return None
        if any(inner.compare(g) for g in group):
            keys.append(i)
        elif _additive(inner):
            sums.append(i)
        elif (x := _distinct_of(inner)) is not None:
            sums.append(i)
            distinct.append(x)
        else:
            return None
    if distinct and (len(sums) != 1 or others):
        # A distinct count beside other aggregates, or over a subquery the old rows' copy
        # would share with the new ones: recompute.
        return None
    if len(keys) != len(group):
        return None
    return Shape(tables, keys, sums, distinct[0] if distinct else None)


def delta_statements(
    stmt: Select[Any], found: Shape, old: dict[str, int], new: dict[str, int]
) -> list[Select[Any]]:
    """The statements whose rows, added group by group to the kept rows, give the rows of
    `stmt` under `new` (empty when no row was appended)."""
    appended = [t for t in found.tables if t.name in APPENDED]
    lo = {t.name: mark(old, t.name) for t in appended}
    hi = {t.name: mark(new, t.name) for t in appended}
    changed = [t for t in appended if hi[t.name] > lo[t.name]]
    if not changed:
        return []
    # Rows past the marks (committed while the page was computed) belong to the next fold.
    upto = [t.c.id <= hi[t.name] for t in appended]
    fresh = {t.name: t.c.id > lo[t.name] for t in changed}
    if found.distinct is None:
        # The new rows of a join: those with a new row of the first changed table, then those
        # with old rows of it and a new row of the second, …
        return [
            by_id(
                stmt.where(fresh[t.name], *upto, *[u.c.id <= lo[u.name] for u in changed[:i]]),
                t,
                old,
                new,
            )
            for i, t in enumerate(changed)
        ]
    adapter: ClauseAdapter | None = None
    aliases = {}
    for t in found.tables:
        aliases[t.name] = _alias(t, "old")
        one = ClauseAdapter(aliases[t.name])
        adapter = one if adapter is None else adapter.chain(one)
    assert adapter is not None
    same: list[Any] = [adapter.traverse(found.distinct) == found.distinct]
    for i in found.keys:
        g = _unlabel(stmt.selected_columns[i])
        same.append(adapter.traverse(g).is_not_distinct_from(g))
    old_rows = [aliases[t.name].c.id <= lo[t.name] for t in appended]
    where = [adapter.traverse(stmt.whereclause)] if stmt.whereclause is not None else []
    seen = exists(
        select(literal(1))
        .select_from(*[adapter.traverse(f) for f in stmt.get_final_froms()])
        .where(*where, *old_rows, *same)
    )
    out = stmt.where(or_(*fresh.values()), *upto, ~seen)
    return [by_id(out, changed[0], old, new) if len(changed) == 1 else out]


def by_id(stmt: Select[Any], table: Any, old: dict[str, int], new: dict[str, int]) -> Select[Any]:
    """`stmt` reading `table`'s new rows by their ids, from a list of them. SQLite's planner
    knows nothing of the values compared and, with only the id range, would rather scan a
    covering index of dates (a million entries) than look up the few rows above an id."""
    table = getattr(table, "__table__", table)
    ids = _alias(table, "new")
    listed = select(ids.c.id).where(new_rows(ids, old, new, name=table.name))
    return stmt.where(table.c.id.in_(listed))


def merge(kept: list[list[Any]], added: list[list[Any]], found: Shape) -> list[list[Any]]:
    """The kept rows with the added ones summed in, group by group."""
    out = [list(r) for r in kept]
    index = {tuple(r[k] for k in found.keys): r for r in out}
    for row in added:
        key = tuple(row[k] for k in found.keys)
        if key not in index:
            index[key] = list(row)
            out.append(index[key])
            continue
        target = index[key]
        for i in found.sums:
            if row[i] is not None:
                target[i] = row[i] if target[i] is None else target[i] + row[i]
    return out


def fold_rows(
    session: Session,
    stmt: Any,
    kept: list[list[Any]],
    old: dict[str, int],
    new: dict[str, int],
    *,
    delta: Callable[[dict[str, int], dict[str, int]], Any] | None = None,
) -> list[list[Any]] | None:
    """`stmt`'s rows under `new` from its rows `kept` under `old` (only appends between), or
    None when they cannot be worked out that way."""
    if delta is not None:
        added_stmt = delta(old, new)
        if added_stmt is None:
            return None
        statements = [added_stmt] if isinstance(added_stmt, Select) else list(added_stmt)
        if not statements:
            return kept
        group = group_columns(statements[0])
        keys = [
            i
            for i, c in enumerate(statements[0].selected_columns)
            if any(_unlabel(c).compare(g) for g in group)
        ]
        n = len(statements[0].selected_columns)
        found = Shape([], keys, [i for i in range(n) if i not in keys])
    else:
        got = shape(stmt)
        if got is None:
            return None
        found = got
        statements = delta_statements(stmt, found, old, new)
    added: list[list[Any]] = []
    conn = session.connection()  # Core statements: no ORM bookkeeping around them
    for s in statements:
        added += [list(r) for r in conn.execute(s)]
    return merge(kept, loads(dumps(added)), found)


def new_rows(
    table: Any, old: dict[str, int], new: dict[str, int], *, name: str | None = None
) -> Any:
    """The condition keeping the rows of an `APPENDED` table (or an alias of it: `name`)
    added between two versions."""
    table = getattr(table, "__table__", table)
    name = name or table.name
    return and_(table.c.id > mark(old, name), table.c.id <= mark(new, name))
