"""Headline counts for `shuanglian stats` (the dashboard domain builds on the same queries)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.patents.models import Institution, Patent


def database_counts(session: Session) -> dict[str, int]:
    """Rows per main table, plus patents by type."""
    counts = {
        "institutions": session.scalar(select(func.count()).select_from(Institution)) or 0,
        "patents": session.scalar(select(func.count()).select_from(Patent)) or 0,
        "enterprises": session.scalar(select(func.count()).select_from(Enterprise)) or 0,
        "demands": session.scalar(select(func.count()).select_from(Demand)) or 0,
        "users": session.scalar(select(func.count()).select_from(User)) or 0,
    }
    for ptype, n in session.execute(
        select(Patent.patent_type, func.count()).group_by(Patent.patent_type)
    ):
        counts[f"patents_{ptype or 'unknown'}"] = n
    return counts
