"""Chinese sources: second-language patent texts, imported listings, demand modes and window

* `patents.alt_title / alt_abstract / alt_language`: the other language a source gives (a
  PatSnap export carries 简体中文 and English title and abstract);
* `market_listings.patent_id` becomes nullable (a 科技成果 without a patent: 非专利技术), and
  listings record the file and row they were imported from;
* `demands.modes` (cooperation modes, fenced codes) and `demands.valid_from` (the start of the
  validity window; `deadline` is its end).

Revision ID: c7e2a9d41b30
Revises: 8ad44ad30b8f
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

revision = "c7e2a9d41b30"
down_revision = "8ad44ad30b8f"
branch_labels = None
depends_on = None

# SQLite's batch mode rebuilds market_listings and cannot carry expression indexes over, so
# the catalogue's sort indexes (revision 955dae63c0a3) are created again where they went.
SORT_INDEXES = {
    "ix_market_listings_by_popular": "status, (view_count + scan_count) DESC, id DESC",
    "ix_market_listings_by_price_asc": "status, (price IS NULL), price ASC, id DESC",
    "ix_market_listings_by_price_desc": "status, (price IS NULL), price DESC, id DESC",
    "ix_market_listings_by_trl": "status, (trl IS NULL), trl DESC, id DESC",
}


def _restore_sort_indexes() -> None:
    for name, columns in SORT_INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON market_listings ({columns})")


def upgrade() -> None:
    with op.batch_alter_table("patents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alt_title", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("alt_abstract", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("alt_language", sa.String(length=8), nullable=True))
    # Reflection skips the expression indexes (restored below) and says so on every `init`.
    with (
        warnings.catch_warnings(),
        op.batch_alter_table("market_listings", schema=None) as batch_op,
    ):
        warnings.filterwarnings("ignore", "Skipped unsupported reflection")
        batch_op.alter_column("patent_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("source_file", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("source_row", sa.Integer(), nullable=True))
    _restore_sort_indexes()
    with op.batch_alter_table("demands", schema=None) as batch_op:
        batch_op.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("modes", sa.String(length=200), nullable=False, server_default=",")
        )


def downgrade() -> None:
    with op.batch_alter_table("demands", schema=None) as batch_op:
        batch_op.drop_column("modes")
        batch_op.drop_column("valid_from")
    with op.batch_alter_table("market_listings", schema=None) as batch_op:
        batch_op.drop_column("source_row")
        batch_op.drop_column("source_file")
        batch_op.alter_column("patent_id", existing_type=sa.Integer(), nullable=False)
    _restore_sort_indexes()
    with op.batch_alter_table("patents", schema=None) as batch_op:
        batch_op.drop_column("alt_language")
        batch_op.drop_column("alt_abstract")
        batch_op.drop_column("alt_title")
