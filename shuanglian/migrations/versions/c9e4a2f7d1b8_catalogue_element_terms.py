"""catalogue element terms

The catalogue now also indexes each chemical element a listing's Chinese names (锂 inside
锂离子电池, `supermarket.search_terms.element_terms`), so that an English search for `lithium`
reads as 锂. Listings saved before get those terms here; no schema change.

Revision ID: c9e4a2f7d1b8
Revises: a7d3e9c2b5f1
Create Date: 2026-12-07 11:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c9e4a2f7d1b8"
down_revision = "a7d3e9c2b5f1"
branch_labels = None
depends_on = None

BACKFILL_BATCH = 2000

_LISTINGS = sa.table(
    "market_listings", sa.column("id", sa.Integer), sa.column("search_text", sa.Text)
)
_TERMS = sa.table("market_listing_terms", sa.column("term", sa.String), sa.column("listing_id"))


def upgrade() -> None:
    """Add the element terms of the listings that exist, batch by batch, skipping any a listing
    saved by the new code already has."""
    from shuanglian.supermarket.search_terms import element_terms

    conn = op.get_bind()
    last_id = 0
    while True:
        rows = conn.execute(
            sa.select(_LISTINGS)
            .where(_LISTINGS.c.id > last_id)
            .order_by(_LISTINGS.c.id)
            .limit(BACKFILL_BATCH)
        ).all()
        if not rows:
            return
        wanted = {(term, row.id) for row in rows for term in element_terms(row.search_text)}
        if wanted:
            have = conn.execute(
                sa.select(_TERMS.c.term, _TERMS.c.listing_id).where(
                    _TERMS.c.listing_id.in_([row.id for row in rows]),
                    _TERMS.c.term.in_(sorted({term for term, _id in wanted})),
                )
            ).all()
            new = wanted - {(term, listing_id) for term, listing_id in have}
            if new:
                conn.execute(
                    sa.insert(_TERMS),
                    [{"term": term, "listing_id": lid} for term, lid in sorted(new)],
                )
        last_id = rows[-1].id


def downgrade() -> None:
    """Remove them again: before this revision no term was one element character."""
    from shuanglian.text.elements import ELEMENT_CHARS

    op.execute(sa.delete(_TERMS).where(_TERMS.c.term.in_(sorted(ELEMENT_CHARS))))
