"""Demand visibility: public, anonymous (company hidden) or only matched institutions.

Revision ID: d4b8e1f2a7c9
Revises: c7e2a9d41b30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d4b8e1f2a7c9"
down_revision = "c7e2a9d41b30"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("demands") as batch:
        batch.add_column(
            sa.Column("visibility", sa.String(length=20), nullable=False, server_default="public")
        )


def downgrade() -> None:
    with op.batch_alter_table("demands") as batch:
        batch.drop_column("visibility")
