"""Tables that keep the dashboards fast and never stale (issue 15).

`dash_versions` lists the tables the figures read, each with a change token. A database
trigger changes a table's token on every INSERT, UPDATE or DELETE of it, inside the writing
transaction — so the token changes exactly when the table's committed contents do, whichever
code path wrote them (the ORM, a bulk INSERT … SELECT, psql). Tokens are random, never
counters: a rolled-back transaction's token is never seen again, so nothing computed inside it
can be mistaken for the committed state.

How the token changes differs by backend, because PostgreSQL runs writers concurrently:

- SQLite (one writer at a time anyway): the trigger replaces `dash_versions.version`.
- PostgreSQL: the trigger never updates a shared row — that row would stay locked until commit,
  so a long import would block every other writer of the table, and two transactions writing
  two tables in opposite orders could deadlock. Instead each writing transaction upserts its
  own row in `dash_changes` (table, transaction id, a random value); a table's token is the
  count and sum of its rows (`summary.current_versions`). Rows of different transactions never
  conflict, so writers never wait for each other here. A commit always adds a row nobody saw
  before, so the token changes with it. Old rows are folded away now and then (by a writer,
  skipping rows another is folding, and by `report refresh`); the folder's own new row changes
  the token too, so folding never makes an old token current again.

Appends to `APPENDED` tables (pushes, feedback) are told apart from other writes, so a kept
result over them can be brought up to date with the new rows alone (`dashboard.appends`):
on SQLite an INSERT above every id replaces the table's `#add` token and leaves the table's
own token alone; on PostgreSQL the INSERT trigger records the lowest id the transaction added
(`dash_changes.first_id`; NULL for any other write).

`dash_summaries` keeps computed figures and dashboard tables with the tokens of the tables
they were computed from (`shuanglian.dashboard.summary`); an entry is used only while every
one of those tokens is unchanged.

The indexes at the end are the ones the figures' period filters and breakdowns need.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, String, Text, event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from shuanglian.db import Base, utcnow
from shuanglian.inventory.models import Feedback, InventoryItem, Push

# Tables no figure reads (or written so often and in such bulk that a trigger would cost more
# than it saves): no token, and a figure that did read one is simply never kept.
UNWATCHED = frozenset({
    "api_tokens", "attachments", "audit_log", "notifications", "web_sessions",
    "match_bulk_jobs", "match_bulk_matches", "match_bulk_shards", "market_listing_terms",
    "dash_versions", "dash_summaries", "dash_changes", "patent_terms", "account_applications",
    "market_saved", "market_follows", "market_alerts_sent",
})  # fmt: skip
# Tables written mostly by appending rows (a push, a feedback form): a kept result over them is
# brought up to date by adding the new rows (ids above the ones it saw), not recomputed.
APPENDED = frozenset({"inventory_pushes", "inventory_feedback"})


class DashVersion(Base):
    """A table's change token (replaced by a trigger on every write to the table)."""

    __tablename__ = "dash_versions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class DashChange(Base):
    """PostgreSQL: one writing transaction's mark on a table (see the module docstring)."""

    __tablename__ = "dash_changes"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger)
    # The lowest id the transaction inserted into an `APPENDED` table; NULL when it did
    # anything else to the table (or the table is not one of those).
    first_id: Mapped[int | None] = mapped_column(BigInteger)


class DashSummary(Base):
    """A computed figure or table (JSON), valid while the tokens it records are current."""

    __tablename__ = "dash_summaries"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    versions: Mapped[str] = mapped_column(Text)  # JSON {table: token}
    payload: Mapped[str] = mapped_column(Text)  # JSON
    # Where rows appended since may be added to it from (`summary.Pieces`; None: never).
    base: Mapped[str | None] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# The period filters (pushes and feedback by date) had no index: every period was a full scan.
# The push indexes also hold the columns the figures count (distinct patents and enterprises,
# a patent's first push), so those counts read the index alone, never the rows.
_push = Push.__table__.c
PUSHES_CREATED_AT = Index(
    "ix_inventory_pushes_created_at", _push.created_at, _push.patent_id, _push.enterprise_id
)
PUSHES_PATENT_CREATED = Index(
    "ix_inventory_pushes_patent_created", _push.patent_id, _push.created_at
)
FEEDBACK_CREATED_AT = Index("ix_inventory_feedback_created_at", Feedback.__table__.c.created_at)
# The funnel's days from inventory to pool: an item's date found by its patent, in the index.
ITEMS_PATENT_CREATED = Index(
    "ix_inventory_items_patent_created",
    InventoryItem.__table__.c.patent_id,
    InventoryItem.__table__.c.created_at,
)


def watched_tables(names: Any) -> list[str]:
    """The tables among `names` that get a change token."""
    return sorted(n for n in names if n not in UNWATCHED)


# ----------------------------------------------------------------------------- trigger DDL
# The same statements are written out in the migration (a migration must not change when this
# module does); tests/dashboard/test_summaries.py checks both give the same triggers.

# Each writing transaction upserts its own row (never another's: no waiting, no deadlock); one
# call in a hundred also folds away the table's rows of committed transactions, skipping any
# another transaction is folding (`dash_fold`).
#
# Appends to the tables in `APPENDED` are marked apart: their INSERT trigger records the
# lowest id the transaction added (`first_id`); any other write (UPDATE, DELETE, TRUNCATE)
# leaves `first_id` NULL. A kept result over such a table can then be brought up to date by
# adding the new rows only (`dashboard.summary`) — when every transaction it did not see only
# appended rows above the highest id it saw.
PG_FOLD_FUNCTION = """
CREATE OR REPLACE FUNCTION dash_fold(tbl text) RETURNS bigint AS $$
DECLARE
    gone bigint;
    modified boolean;
    lowest bigint;
BEGIN
    WITH d AS (
        DELETE FROM dash_changes WHERE ctid IN (
            SELECT ctid FROM dash_changes
            WHERE name = tbl AND txid <> txid_current()
            FOR UPDATE SKIP LOCKED)
        RETURNING first_id)
    SELECT count(*), bool_or(first_id IS NULL), min(first_id) INTO gone, modified, lowest
    FROM d;
    IF gone > 0 THEN
        INSERT INTO dash_changes (name, txid, value, first_id)
        VALUES (tbl, txid_current(), (random() * 9e18)::bigint,
                CASE WHEN modified THEN NULL ELSE lowest END)
        ON CONFLICT (name, txid) DO UPDATE SET value = excluded.value,
            first_id = CASE WHEN dash_changes.first_id IS NULL OR excluded.first_id IS NULL
                            THEN NULL ELSE least(dash_changes.first_id, excluded.first_id) END;
    END IF;
    RETURN gone;
END
$$ LANGUAGE plpgsql
"""
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION dash_bump() RETURNS trigger AS $$
BEGIN
    INSERT INTO dash_changes (name, txid, value)
    VALUES (TG_TABLE_NAME, txid_current(), (random() * 9e18)::bigint)
    ON CONFLICT (name, txid) DO UPDATE SET value = excluded.value, first_id = NULL;
    IF random() < 0.01 THEN
        PERFORM dash_fold(TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
PG_APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION dash_append() RETURNS trigger AS $$
DECLARE
    lowest bigint;
BEGIN
    SELECT min(id) INTO lowest FROM dash_new;
    IF lowest IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO dash_changes (name, txid, value, first_id)
    VALUES (TG_TABLE_NAME, txid_current(), (random() * 9e18)::bigint, lowest)
    ON CONFLICT (name, txid) DO UPDATE SET value = excluded.value,
        first_id = CASE WHEN dash_changes.first_id IS NULL THEN NULL
                        ELSE least(dash_changes.first_id, excluded.first_id) END;
    IF random() < 0.01 THEN
        PERFORM dash_fold(TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
PG_FUNCTIONS = (PG_FOLD_FUNCTION, PG_FUNCTION, PG_APPEND_FUNCTION)


def appended_token(table: str) -> str:
    """SQLite: the `dash_versions` row an in-order INSERT into an `APPENDED` table replaces
    (its own row changes only on other writes)."""
    return f"{table}#add"


def trigger_ddl(dialect: str, table: str) -> list[str]:
    """The statements that make writes to `table` replace its token."""
    appended = table in APPENDED
    if dialect == "postgresql":
        events = "UPDATE OR DELETE OR TRUNCATE"
        if not appended:
            events = "INSERT OR " + events
        out = [
            f"DROP TRIGGER IF EXISTS dash_bump_{table} ON {table}",
            f"CREATE TRIGGER dash_bump_{table} AFTER {events} "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION dash_bump()",
        ]
        if appended:
            out += [
                f"DROP TRIGGER IF EXISTS dash_bump_{table}_append ON {table}",
                f"CREATE TRIGGER dash_bump_{table}_append AFTER INSERT ON {table} "
                "REFERENCING NEW TABLE AS dash_new "
                "FOR EACH STATEMENT EXECUTE FUNCTION dash_append()",
            ]
        return out
    out = []
    for op in ("insert", "update", "delete"):
        out.append(f"DROP TRIGGER IF EXISTS dash_bump_{table}_{op}")
        if appended and op == "insert":
            # A row above every other is an append; one below (an id given by hand) is not.
            out.append(
                f"CREATE TRIGGER dash_bump_{table}_{op} AFTER {op.upper()} ON {table} BEGIN "
                f"UPDATE dash_versions SET version = random() WHERE name = '{table}' "
                f"AND NEW.id < (SELECT max(id) FROM {table}); "
                f"UPDATE dash_versions SET version = random() "
                f"WHERE name = '{appended_token(table)}'; END"
            )
            continue
        out.append(
            f"CREATE TRIGGER dash_bump_{table}_{op} AFTER {op.upper()} ON {table} BEGIN "
            f"UPDATE dash_versions SET version = random() WHERE name = '{table}'; END"
        )
    return out


def install_triggers(conn: Connection, tables: list[str]) -> None:
    """Token rows and triggers for `tables` (idempotent)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        for function in PG_FUNCTIONS:
            conn.exec_driver_sql(function)
    for t in tables:
        names = [t, appended_token(t)] if t in APPENDED and dialect != "postgresql" else [t]
        for name in names:
            conn.exec_driver_sql(
                f"INSERT INTO dash_versions (name, version) VALUES ('{name}', 0) "
                "ON CONFLICT (name) DO NOTHING"
            )
        for sql in trigger_ddl(dialect, t):
            conn.exec_driver_sql(sql)


@event.listens_for(Base.metadata, "after_create")
def _triggers_after_create(target: Any, connection: Connection, **_: Any) -> None:
    """`create_all` (tests, benchmarks) installs the triggers the migration installs."""
    present = set(inspect(connection).get_table_names())
    if "dash_versions" in present:
        install_triggers(connection, watched_tables(present & set(target.tables)))
