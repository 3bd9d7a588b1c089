"""dashboard appends: a push or a feedback form no longer recomputes what reads its table

`dash_changes.first_id` marks a transaction that only appended rows to `inventory_pushes` or
`inventory_feedback` (the lowest id it added; NULL for any other write). The INSERT trigger of
those tables records it on PostgreSQL; on SQLite an INSERT above every id replaces the table's
`#add` token and leaves its own token alone. A kept figure over those tables is then brought up
to date by adding the new rows (shuanglian/dashboard/appends.py); `dash_summaries.base` says
where a stored piece may be brought up to date from. Nothing to backfill: change rows written
before carry NULL and stored pieces no base, which only means "recompute".

Revision ID: a7d4e2c9f1b3
Revises: f3b9d2a7c1e6
Create Date: 2026-12-06 03:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a7d4e2c9f1b3"
down_revision = "f3b9d2a7c1e6"
branch_labels = None
depends_on = None

APPENDED = ("inventory_feedback", "inventory_pushes")

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
PG_FUNCTION_BEFORE = """
CREATE OR REPLACE FUNCTION dash_bump() RETURNS trigger AS $$
BEGIN
    INSERT INTO dash_changes (name, txid, value)
    VALUES (TG_TABLE_NAME, txid_current(), (random() * 9e18)::bigint)
    ON CONFLICT (name, txid) DO UPDATE SET value = excluded.value;
    IF random() < 0.01 THEN
        DELETE FROM dash_changes WHERE ctid IN (
            SELECT ctid FROM dash_changes
            WHERE name = TG_TABLE_NAME AND txid <> txid_current()
            FOR UPDATE SKIP LOCKED);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


def _sqlite_insert_trigger(t: str, appended: bool) -> str:
    if appended:
        return (
            f"CREATE TRIGGER dash_bump_{t}_insert AFTER INSERT ON {t} BEGIN "
            f"UPDATE dash_versions SET version = random() WHERE name = '{t}' "
            f"AND NEW.id < (SELECT max(id) FROM {t}); "
            f"UPDATE dash_versions SET version = random() WHERE name = '{t}#add'; END"
        )
    return (
        f"CREATE TRIGGER dash_bump_{t}_insert AFTER INSERT ON {t} BEGIN "
        f"UPDATE dash_versions SET version = random() WHERE name = '{t}'; END"
    )


def upgrade() -> None:
    op.add_column("dash_changes", sa.Column("first_id", sa.BigInteger(), nullable=True))
    op.add_column("dash_summaries", sa.Column("base", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        for function in (PG_FOLD_FUNCTION, PG_FUNCTION, PG_APPEND_FUNCTION):
            op.execute(function)
        for t in APPENDED:
            op.execute(f"DROP TRIGGER IF EXISTS dash_bump_{t} ON {t}")
            op.execute(
                f"CREATE TRIGGER dash_bump_{t} AFTER UPDATE OR DELETE OR TRUNCATE "
                f"ON {t} FOR EACH STATEMENT EXECUTE FUNCTION dash_bump()"
            )
            op.execute(
                f"CREATE TRIGGER dash_bump_{t}_append AFTER INSERT ON {t} "
                "REFERENCING NEW TABLE AS dash_new "
                "FOR EACH STATEMENT EXECUTE FUNCTION dash_append()"
            )
        return
    for t in APPENDED:
        op.execute(
            f"INSERT INTO dash_versions (name, version) VALUES ('{t}#add', 0) "
            "ON CONFLICT (name) DO NOTHING"
        )
        op.execute(f"DROP TRIGGER IF EXISTS dash_bump_{t}_insert")
        op.execute(_sqlite_insert_trigger(t, True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for t in APPENDED:
            op.execute(f"DROP TRIGGER IF EXISTS dash_bump_{t}_append ON {t}")
            op.execute(f"DROP TRIGGER IF EXISTS dash_bump_{t} ON {t}")
            op.execute(
                f"CREATE TRIGGER dash_bump_{t} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {t} FOR EACH STATEMENT EXECUTE FUNCTION dash_bump()"
            )
        op.execute(PG_FUNCTION_BEFORE)
        op.execute("DROP FUNCTION IF EXISTS dash_append()")
        op.execute("DROP FUNCTION IF EXISTS dash_fold(text)")
        # Every change row now counts as a plain write: the appended tables' tokens move.
        op.execute(
            "UPDATE dash_changes SET value = (random() * 9e18)::bigint WHERE first_id IS NOT NULL"
        )
        op.drop_column("dash_changes", "first_id")
        op.drop_column("dash_summaries", "base")
        return
    for t in APPENDED:
        op.execute(f"DROP TRIGGER IF EXISTS dash_bump_{t}_insert")
        op.execute(_sqlite_insert_trigger(t, False))
        # The table's token changes: what was kept under the two tokens is not reused.
        op.execute(f"UPDATE dash_versions SET version = random() WHERE name = '{t}'")
        op.execute(f"DELETE FROM dash_versions WHERE name = '{t}#add'")
    with op.batch_alter_table("dash_changes") as batch:
        batch.drop_column("first_id")
    with op.batch_alter_table("dash_summaries") as batch:
        batch.drop_column("base")
