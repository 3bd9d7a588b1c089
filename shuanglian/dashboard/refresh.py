"""`shuanglian report refresh`: store the dashboards' pieces for every process (idempotent).

What changed since the last run is recomputed by its SQL aggregate and stored in
`dash_summaries` with the change tokens it was computed under (`dashboard.summary`); what did
not change is left as it is.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shuanglian.dashboard.models import DashSummary
from shuanglian.dashboard.service import build_dashboard
from shuanglian.dashboard.summary import Pieces, fold_changes
from shuanglian.figures import Scope, parse_period
from shuanglian.patents.models import Institution
from shuanglian.reference.regions import province_of


def refresh_scopes(today: date) -> list[Scope]:
    """What `refresh` computes: the platform and each province with institutions, for all
    time and for this month, quarter and year (the periods a bureau opens first)."""
    periods = [
        None,
        parse_period(f"{today.year}-{today.month:02d}"),
        parse_period(f"{today.year}Q{(today.month - 1) // 3 + 1}"),
        parse_period(str(today.year)),
    ]
    return [Scope(None, None, p) for p in periods]


def refresh(session: Session, *, today: date, scopes: list[Scope] | None = None) -> dict[str, int]:
    """Compute what changed since the last refresh and store it in `dash_summaries`
    (idempotent: pieces whose tables did not change are left as they are). The caller
    commits, and wrote nothing else in the transaction (the stored pieces are later brought
    up to date from what this transaction saw)."""
    if scopes is None:
        scopes = refresh_scopes(today)
        provinces = {
            p.code: p
            for r in session.scalars(select(Institution.region).distinct())
            if (p := province_of(r)) is not None
        }
        scopes += [Scope(None, p, None) for p in provinces.values()]
    folded = fold_changes(session)
    stored = kept = 0
    for scope in scopes:
        pieces = Pieces(session, use_memory=False, wrote_only_summaries=True)
        build_dashboard(session, scope=scope, today=today, pieces=pieces)
        kept += pieces.hits
        for key, recorded, payload in pieces.computed:
            session.execute(delete(DashSummary).where(DashSummary.key == key))
            session.add(DashSummary(key=key, versions=json.dumps(recorded), payload=payload,
                                    base=pieces.bases.get(key)))  # fmt: skip
            stored += 1
        session.flush()
    return {"scopes": len(scopes), "computed": stored, "unchanged": kept, "folded": folded}
