"""The demo deals: every stage shown, a 作价入股 contract, an open licence taken twice; once."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from shuanglian.deals import registration as reg
from shuanglian.deals.demo import seed_deals_demo
from shuanglian.deals.models import Contract, Deal
from shuanglian.deals.pipeline import STAGES
from tests.web.factories import (
    make_enterprise,
    make_institution,
    make_listing,
    make_patent,
    make_user,
)


def test_seed_deals_demo(db_session) -> None:
    inst = make_institution(db_session)
    admin = make_user(db_session, "admin")
    for i in range(14):
        patent = make_patent(db_session, inst, expiry_date=date(2040, 1, 1))
        make_listing(db_session, inst, title=f"演示成果{i}", patents=[patent])
    for _ in range(4):
        make_enterprise(db_session)
    counts = seed_deals_demo(db_session, password="demo-password-1")
    assert counts["deals"] == 11 and counts["open_licence_takers"] == 2
    stages = set(db_session.scalars(select(Deal.stage)))
    assert stages == set(STAGES)
    kinds = list(db_session.scalars(select(Contract.kind)))
    assert "equity" in kinds and kinds.count("open_licence") == 2
    assert seed_deals_demo(db_session, password="demo-password-1")["deals"] == 0
    assert db_session.scalar(select(func.count()).select_from(Deal)) == 11
    rows = reg.registration_rows(
        db_session,
        actor=admin,
        contract_ids=list(
            db_session.scalars(select(Contract.id).where(Contract.kind != "open_licence"))
        ),
    )
    assert len(rows) == len(kinds) - 2
