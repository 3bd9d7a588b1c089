"""notifications in English: `title_en` and `body_en` beside the Chinese title and body

A notification is written once, when its event happens, in words the reader's page language
cannot change afterwards, so the English is stored with it. Both columns are nullable and
nothing is backfilled: rows written before read in Chinese in either language.

Revision ID: b3f8c1d6e4a2
Revises: a7d4e2c9f1b3
Create Date: 2026-12-07 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b3f8c1d6e4a2"
down_revision = "a7d4e2c9f1b3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("title_en", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("body_en", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("body_en")
        batch.drop_column("title_en")
