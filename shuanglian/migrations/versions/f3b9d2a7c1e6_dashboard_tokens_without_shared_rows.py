"""dashboard change tokens on PostgreSQL without a shared row: per-transaction `dash_changes`

The trigger function used to UPDATE the table's one row in `dash_versions`, which stayed locked
until commit: a long import blocked every other writer of the same table, and two transactions
writing two watched tables in opposite orders could deadlock. Now each writing transaction
upserts its own row (see shuanglian/dashboard/models.py). SQLite keeps its triggers (one writer
at a time there); the table exists on both so the schema is the same.

Revision ID: f3b9d2a7c1e6
Revises: e5a1c9d3b7f2
Create Date: 2026-12-06 00:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f3b9d2a7c1e6"
down_revision = "e5a1c9d3b7f2"
branch_labels = None
depends_on = None

PG_FUNCTION = """
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
PG_FUNCTION_BEFORE = """
CREATE OR REPLACE FUNCTION dash_bump() RETURNS trigger AS $$
BEGIN
    UPDATE dash_versions SET version = (random() * 9e18)::bigint WHERE name = TG_TABLE_NAME;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "dash_changes",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("txid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", "txid"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The tokens of the rows folded back into the one row per table: all change once.
        op.execute(PG_FUNCTION_BEFORE)
        op.execute(
            "UPDATE dash_versions SET version = (random() * 9e18)::bigint "
            "WHERE name IN (SELECT name FROM dash_changes)"
        )
    op.drop_table("dash_changes")
