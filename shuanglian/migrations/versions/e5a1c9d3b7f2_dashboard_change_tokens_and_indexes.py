"""dashboard change tokens (triggers), kept summaries, covering indexes for the figures

Revision ID: e5a1c9d3b7f2
Revises: e5a7c3d9b1f4
Create Date: 2026-12-05 21:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e5a1c9d3b7f2"
down_revision = "e5a7c3d9b1f4"
branch_labels = None
depends_on = None

# The tables whose writes replace their change token at this revision (the figures' inputs).
WATCHED = (
    "challenge_applications", "challenge_indicators", "challenge_measurements",
    "challenge_messages", "challenge_milestones", "challenge_nda_acceptances",
    "challenge_suggestions", "challenge_verifications", "challenges", "deal_activities",
    "deal_contracts", "deal_distribution_rules", "deal_documents", "deal_inventor_payouts",
    "deal_items", "deal_managers", "deal_next_actions", "deal_open_licences",
    "deal_payment_schedule", "deal_payments", "deal_services", "deals", "demands",
    "enterprises", "institutions", "inventory_batches", "inventory_colleges",
    "inventory_feedback", "inventory_items", "inventory_pool", "inventory_push_rounds",
    "inventory_pushes", "inventory_reviewers", "inventory_self_assessments",
    "market_inquiries", "market_listing_daily", "market_listing_patents", "market_listings",
    "patents", "pilot_bookings", "pilot_platform_managers", "pilot_platforms", "users",
)  # fmt: skip

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION dash_bump() RETURNS trigger AS $$
BEGIN
    UPDATE dash_versions SET version = (random() * 9e18)::bigint WHERE name = TG_TABLE_NAME;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
SQLITE_OPS = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table(
        "dash_versions",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "dash_summaries",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("versions", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(
        "ix_inventory_pushes_created_at",
        "inventory_pushes",
        ["created_at", "patent_id", "enterprise_id"],
    )
    op.create_index(
        "ix_inventory_pushes_patent_created", "inventory_pushes", ["patent_id", "created_at"]
    )
    op.create_index("ix_inventory_feedback_created_at", "inventory_feedback", ["created_at"])
    op.create_index(
        "ix_inventory_items_patent_created", "inventory_items", ["patent_id", "created_at"]
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(PG_FUNCTION)
    for t in WATCHED:
        op.execute(f"INSERT INTO dash_versions (name, version) VALUES ('{t}', 0)")
        if postgres:
            op.execute(
                f"CREATE TRIGGER dash_bump_{t} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {t} FOR EACH STATEMENT EXECUTE FUNCTION dash_bump()"
            )
        else:
            for o in SQLITE_OPS:
                op.execute(
                    f"CREATE TRIGGER dash_bump_{t}_{o} AFTER {o.upper()} ON {t} BEGIN "
                    f"UPDATE dash_versions SET version = random() WHERE name = '{t}'; END"
                )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for t in WATCHED:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS dash_bump_{t} ON {t}")
        else:
            for o in SQLITE_OPS:
                op.execute(f"DROP TRIGGER IF EXISTS dash_bump_{t}_{o}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS dash_bump()")
    op.drop_index("ix_inventory_items_patent_created", table_name="inventory_items")
    op.drop_index("ix_inventory_feedback_created_at", table_name="inventory_feedback")
    op.drop_index("ix_inventory_pushes_patent_created", table_name="inventory_pushes")
    op.drop_index("ix_inventory_pushes_created_at", table_name="inventory_pushes")
    op.drop_table("dash_summaries")
    op.drop_table("dash_versions")
