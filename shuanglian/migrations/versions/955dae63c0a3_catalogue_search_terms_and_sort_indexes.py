"""catalogue search terms and sort indexes

Adds the catalogue's inverted index (`market_listing_terms`), filled here for the listings
already in the database, and one index per catalogue sort order. The sort indexes are
expression indexes written as SQL that SQLite and PostgreSQL both accept; they repeat
`supermarket.models.SORT_INDEXES` (tests/test_migrations.py checks the names).

Revision ID: 955dae63c0a3
Revises: 9f01556e2361
Create Date: 2026-11-27 21:27:47.354974
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '955dae63c0a3'
down_revision = '9f01556e2361'
branch_labels = None
depends_on = None


SORT_INDEXES = {
    "ix_market_listings_by_popular": "status, (view_count + scan_count) DESC, id DESC",
    "ix_market_listings_by_price_asc": "status, (price IS NULL), price ASC, id DESC",
    "ix_market_listings_by_price_desc": "status, (price IS NULL), price DESC, id DESC",
    "ix_market_listings_by_trl": "status, (trl IS NULL), trl DESC, id DESC",
}
BACKFILL_BATCH = 2000


def upgrade() -> None:
    op.create_table(
        "market_listing_terms",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["market_listings.id"],
            name=op.f("fk_market_listing_terms_listing_id_market_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term", "listing_id", name=op.f("pk_market_listing_terms")),
    )
    with op.batch_alter_table("market_listing_terms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_listing_terms_listing_id"), ["listing_id"], unique=False
        )
    for name, columns in SORT_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON market_listings ({columns})")
    _backfill_terms()


def _backfill_terms() -> None:
    """Index the listings that exist already, with the same terms the service writes."""
    from shuanglian.supermarket.search_terms import listing_terms

    conn = op.get_bind()
    listings = sa.table(
        "market_listings",
        sa.column("id", sa.Integer),
        sa.column("search_text", sa.Text),
        sa.column("industries", sa.String),
        sa.column("modes", sa.String),
        sa.column("tech_field", sa.String),
        sa.column("region", sa.String),
    )
    terms = sa.table("market_listing_terms", sa.column("term"), sa.column("listing_id"))
    last_id = 0
    while True:
        rows = conn.execute(
            sa.select(listings)
            .where(listings.c.id > last_id)
            .order_by(listings.c.id)
            .limit(BACKFILL_BATCH)
        ).all()
        if not rows:
            return
        values = [
            {"term": term, "listing_id": row.id}
            for row in rows
            for term in listing_terms(
                search_text=row.search_text or "",
                industries=[c for c in (row.industries or "").split(",") if c],
                modes=[m for m in (row.modes or "").split(",") if m],
                tech_field=row.tech_field,
                region=row.region,
            )
        ]
        if values:
            conn.execute(sa.insert(terms), values)
        last_id = rows[-1].id


def downgrade() -> None:
    for name in SORT_INDEXES:
        op.execute(f"DROP INDEX {name}")
    with op.batch_alter_table("market_listing_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_listing_terms_listing_id"))
    op.drop_table("market_listing_terms")
