"""A small world for deal tests: an institution with staff, an enterprise with a user, a
manager, a pooled and listed patent, and a push the enterprise answered with an intent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.deals.managers import save_manager
from shuanglian.deals.models import Manager
from shuanglian.deals.pipeline import create_deal
from shuanglian.enterprises.models import Enterprise
from shuanglian.inventory.models import Feedback, Push, PushRound
from shuanglian.patents.models import Institution, Patent
from shuanglian.supermarket.models import Listing
from tests.web.factories import (
    make_enterprise,
    make_institution,
    make_listing,
    make_patent,
    make_user,
)


@dataclass
class World:
    inst: Institution
    staff: User
    ent: Enterprise
    ent_user: User
    manager_user: User
    manager: Manager
    admin: User
    patent: Patent
    listing: Listing
    push: Push


def build_world(session: Session, *, intent: str = "作价入股") -> World:
    inst = make_institution(session)
    staff = make_user(session, "institution_staff", institution_id=inst.id)
    ent = make_enterprise(session, credit_code="91210200MA0QC0A019", industry_code="C30")
    ent_user = make_user(session, "enterprise_user", enterprise_id=ent.id)
    manager_user = make_user(session, "tech_manager")
    admin = make_user(session, "admin")
    manager = save_manager(
        session,
        actor=admin,
        data={
            "user_id": manager_user.id,
            "name": "李经理",
            "organisation": "某技术转移中心",
            "ipc_fields": ["C04B"],
            "industry_fields": ["C30"],
            "certification_level": "senior",
            "certified_by": "中国技术市场协会",
        },
    )
    patent = make_patent(
        session,
        inst,
        title="一种固废基胶凝材料",
        main_ipc="C04B28/02",
        expiry_date=date(2040, 1, 1),
    )
    listing = make_listing(session, inst, title="固废基胶凝材料", patents=[patent])
    rnd = PushRound(per_patent=5, per_enterprise_cap=50)
    session.add(rnd)
    session.flush()
    push = Push(round_id=rnd.id, patent_id=patent.id, enterprise_id=ent.id, rank=1, score=0.8)
    session.add(push)
    session.flush()
    session.add(
        Feedback(
            push_id=push.id, patent_id=patent.id, enterprise_id=ent.id, prospect=5, intent=intent
        )
    )
    session.flush()
    return World(inst, staff, ent, ent_user, manager_user, manager, admin, patent, listing, push)


def open_deal(session: Session, w: World, **kw: Any):  # type: ignore[no-untyped-def]
    data = {
        "title": "固废基胶凝材料产业化",
        "institution_id": w.inst.id,
        "enterprise_id": w.ent.id,
        "patent_ids": [w.patent.id],
        "listing_id": w.listing.id,
        "source": "push",
        "push_id": w.push.id,
        **kw,
    }
    return create_deal(session, actor=w.staff, data=data)


def contract_data(w: World, kind: str, subtype: str, **kw: Any) -> dict[str, Any]:
    """A complete contract of `kind`, registration fields included."""
    details: dict[str, Any] = {}
    if kind == "licence":
        details = {"field_of_use": "建筑材料", "territory": "中国大陆"}
    if kind == "equity":
        details = {
            "company_name": "辽宁固废新材料有限公司",
            "valuation": "8500",
            "registered_capital": "2000",
            "percentage": "20",
            "equity_date": "2025-03-10",
            "valuation_report_ref": "辽评报字[2025]第012号",
        }
    if kind in ("development", "consulting", "service"):
        details = {"subject": "配方优化与工艺放大"}
    data = {
        "kind": kind,
        "subtype": subtype,
        "title": f"{kind} 合同",
        "institution_id": w.inst.id,
        "enterprise_id": w.ent.id,
        "patent_id": w.patent.id if kind in ("transfer", "licence", "equity") else None,
        "signed_on": "2025-03-01",
        "valid_from": "2025-03-01",
        "valid_until": "2030-02-28",
        "amount": "100",
        "technical_income": "90",
        "details": details,
        "seller_region_code": "210200",
        "buyer_region_code": "210200",
        "seller_credit_code": "12210000MB0P12345M",
        "tech_field": "新材料",
        "ip_type": None if kind in ("transfer", "licence", "equity") else "know_how",
        "expected_investment": "500",
        "expected_output": "3000",
    }
    data.update(kw)
    return data
