"""patent search terms

Adds the patents' inverted index (`patent_terms`: the words of each patent's titles, as the
catalogue's `keyword_terms` makes them), filled here for the patents already in the
database, so `/api/v1/patents?q=` reads posting lists instead of scanning every patent.

Revision ID: e5a7c3d9b1f4
Revises: e5a2c8d3f1b4
Create Date: 2026-12-05 21:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e5a7c3d9b1f4'
down_revision = 'e5a2c8d3f1b4'
branch_labels = None
depends_on = None

BACKFILL_BATCH = 2000


def upgrade() -> None:
    op.create_table(
        "patent_terms",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patent_id"],
            ["patents.id"],
            name=op.f("fk_patent_terms_patent_id_patents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term", "patent_id", name=op.f("pk_patent_terms")),
    )
    with op.batch_alter_table("patent_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patent_terms_patent_id"), ["patent_id"], unique=False)
    _backfill_terms()


def _backfill_terms() -> None:
    """Index the patents that exist already, with the same terms the service writes."""
    from shuanglian.patents.models import patent_terms_for

    conn = op.get_bind()
    patents = sa.table(
        "patents",
        sa.column("id", sa.Integer),
        sa.column("title", sa.Text),
        sa.column("alt_title", sa.Text),
    )
    terms = sa.table("patent_terms", sa.column("term"), sa.column("patent_id"))
    last_id = 0
    while True:
        rows = conn.execute(
            sa.select(patents)
            .where(patents.c.id > last_id)
            .order_by(patents.c.id)
            .limit(BACKFILL_BATCH)
        ).all()
        if not rows:
            return
        values = [
            {"term": term, "patent_id": row.id}
            for row in rows
            for term in sorted(patent_terms_for(row.title, row.alt_title))
        ]
        if values:
            conn.execute(sa.insert(terms), values)
        last_id = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("patent_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patent_terms_patent_id"))
    op.drop_table("patent_terms")
