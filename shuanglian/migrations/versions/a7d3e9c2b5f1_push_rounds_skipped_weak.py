"""push rounds count the weak pairs they left out: `skipped_weak`; bulk jobs: `weak_limit`

A patent pushes at most a few pairs whose match level is 低 in one round (the rest of its
list is 中 or 高, or stays short); the count sits beside the other skips. Rounds from before
read 0. A bulk job records whether it applies the same limit (off unless asked for); jobs
from before read false.

Revision ID: a7d3e9c2b5f1
Revises: c6e2a9d4f8b1
Create Date: 2026-12-06 22:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a7d3e9c2b5f1"
down_revision = "c6e2a9d4f8b1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inventory_push_rounds") as batch:
        batch.add_column(sa.Column("skipped_weak", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("match_bulk_jobs") as batch:
        batch.add_column(
            sa.Column("weak_limit", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("match_bulk_jobs") as batch:
        batch.drop_column("weak_limit")
    with op.batch_alter_table("inventory_push_rounds") as batch:
        batch.drop_column("skipped_weak")
