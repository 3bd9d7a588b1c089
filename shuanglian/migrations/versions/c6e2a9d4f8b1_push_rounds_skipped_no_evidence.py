"""push rounds count the pairs skipped for want of evidence: `skipped_no_evidence`

A round no longer pushes a pair whose explanation has nothing a person could check (only
generic words or character pairs in common, no shared patent class, no industry link); the
count sits beside the pairs skipped as already pushed and at the cap. Rounds from before
read 0.

Revision ID: c6e2a9d4f8b1
Revises: b3f8c1d6e4a2
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c6e2a9d4f8b1"
down_revision = "b3f8c1d6e4a2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inventory_push_rounds") as batch:
        batch.add_column(
            sa.Column("skipped_no_evidence", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("inventory_push_rounds") as batch:
        batch.drop_column("skipped_no_evidence")
