"""Demo deals: managers and deals in every stage, with contracts (one 作价入股 with its company
and financing round) and an open licence taken by two enterprises, built from the demo
institutions, enterprises and listings already loaded. Runs once: a second call finds deals
and changes nothing. Everything goes through the services, so the demo obeys the same rules
(and writes the same audit entries) as real use.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.accounts.service import create_user
from shuanglian.deals import pipeline
from shuanglian.deals.contracts import add_payment, create_contract
from shuanglian.deals.managers import save_manager
from shuanglian.deals.models import Deal, Manager
from shuanglian.deals.open_licences import declare_open_licence, take_open_licence
from shuanglian.enterprises.models import Enterprise
from shuanglian.enterprises.validators import compute_credit_check_char
from shuanglian.supermarket.models import Listing
from shuanglian.supermarket.service import today_in_china

# username, name, organisation, IPC fields, industry fields, certification
MANAGERS = (
    ("manager", "陈立新", "大学技术转移中心", ["C04B", "B09B"], ["C30", "N77"], "senior"),
    ("manager2", "周敏", "省技术市场服务中心", ["H01M", "H02J"], ["C38", "D44"], "intermediate"),
    ("manager3", "吴昊", "知识产权运营有限公司", ["A01", "C12N"], ["A01", "C27"], "junior"),
)
# stage the deal ends in → the steps that lead there
PATHS: dict[str, tuple[str, ...]] = {
    "contact": (),
    "nda": ("sign_nda",),
    "due_diligence": ("sign_nda", "start_due_diligence"),
    "negotiation": ("sign_nda", "start_due_diligence", "negotiate"),
    "contract": ("sign_nda", "start_due_diligence", "negotiate", "sign"),
    "pilot": ("sign_nda", "start_due_diligence", "negotiate", "sign", "start_pilot"),
    "production": ("sign_nda", "start_due_diligence", "negotiate", "sign", "start_production"),
    "closed": ("sign_nda", "start_due_diligence", "close"),
}


def _demo_credit_code(prefix: str, region: str, serial: int) -> str:
    """A code that passes the GB 32100 check (for demo parties without a real one)."""
    body = f"{prefix}{region}{serial:09d}"[:17]
    return body + compute_credit_check_char(body)


def _manager_user(session: Session, username: str, name: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = create_user(
            session, username=username, password=password, role="tech_manager", display_name=name
        )
    return user


def _contract_data(deal: Deal, kind: str, subtype: str, signed: Any, **kw: Any) -> dict[str, Any]:
    patent_id = deal.items[0].patent_id
    data: dict[str, Any] = {
        "kind": kind,
        "subtype": subtype,
        "title": deal.title,
        "deal_id": deal.id,
        "patent_id": patent_id,
        "signed_on": signed.isoformat(),
        "valid_from": signed.isoformat(),
        "valid_until": (signed + timedelta(days=365 * 3)).isoformat(),
        "seller_region_code": "210200",
        "buyer_region_code": "320500",
        "seller_credit_code": _demo_credit_code("12", "210200", deal.institution_id),
        "buyer_credit_code": deal.enterprise.credit_code
        or _demo_credit_code("91", "320500", deal.enterprise_id),
        "tech_field": "新材料",
        "expected_investment": "300",
        "expected_output": "2000",
    }
    data.update(kw)
    return data


def seed_deals_demo(session: Session, *, password: str) -> dict[str, Any]:
    """Create the demo's managers, deals, contracts and open licence (once)."""
    if session.scalar(select(func.count()).select_from(Deal)):
        return {"skipped": "deals exist", "deals": 0}
    admin = session.scalar(select(User).where(User.role == "admin").order_by(User.id))
    if admin is None:
        return {"skipped": "no admin user", "deals": 0}
    listings = list(
        session.scalars(
            # A deal is about patents: listings of a technology without one (非专利技术) are
            # not offered.
            select(Listing)
            .where(Listing.status == "published", Listing.patent_id.is_not(None))
            .order_by(Listing.id)
            .limit(40)
        )
    )
    enterprises = list(session.scalars(select(Enterprise).order_by(Enterprise.id).limit(20)))
    if len(listings) < 10 or len(enterprises) < 3:
        return {"skipped": "too few listings or enterprises", "deals": 0}
    profiles: list[Manager] = []
    for username, name, org, ipcs, industries, level in MANAGERS:
        user = _manager_user(session, username, name, str(password))
        existing = session.scalar(select(Manager).where(Manager.user_id == user.id))
        profiles.append(
            existing
            or save_manager(
                session,
                actor=admin,
                data={
                    "user_id": user.id,
                    "name": name,
                    "organisation": org,
                    "ipc_fields": ipcs,
                    "industry_fields": industries,
                    "certification_level": level,
                    "certified_by": "中国技术市场协会",
                    "languages": ["zh", "en"],
                },
            )
        )
    today = today_in_china()
    counts = {"deals": 0, "contracts": 0, "open_licence_takers": 0}
    stages = [*PATHS, "contact", "negotiation", "production"]  # every stage, some twice
    deals: dict[str, Deal] = {}
    for i, stage in enumerate(stages):
        listing = listings[i]
        ent = enterprises[i % len(enterprises)]
        deal = pipeline.create_deal(
            session,
            actor=admin,
            data={
                "title": f"{listing.title} — {ent.name}"[:300],
                "institution_id": listing.institution_id,
                "enterprise_id": ent.id,
                "listing_id": listing.id,
                "manager_id": profiles[i % 2 if i < 11 else 2].id,
                "note": "演示数据 (demo)",
            },
        )
        start = today - timedelta(days=12 * len(PATHS[stage]) + 10)
        deal.opened_on = deal.stage_changed_on = start
        on = start
        for step in PATHS[stage]:
            on = on + timedelta(days=10)
            if step == "sign":
                kind = (
                    ("equity", "capital_increase")
                    if stage == "production" and ("production" not in deals)
                    else ("licence", "ordinary")
                    if i % 2
                    else ("transfer", "patent_right")
                )
                extra: dict[str, Any] = {
                    "amount": str(50 + 30 * i),
                    "technical_income": str(50 + 30 * i),
                }
                if kind[0] == "equity":
                    pipeline.add_service(
                        session,
                        actor=admin,
                        deal_id=deal.id,
                        data={
                            "kind": "valuation",
                            "status": "done",
                            "started_on": on - timedelta(days=8),
                            "finished_on": on - timedelta(days=2),
                            "details": {
                                "method": "收益法",
                                "amount": "8500",
                                "report_ref": "辽评报字[2026]第012号",
                            },
                        },
                    )
                    extra = {
                        "amount": "8500",
                        "technical_income": "8500",
                        "valid_until": (on + timedelta(days=365 * 20)).isoformat(),
                        "details": {
                            "company_name": f"{ent.name[:20]}新材料科技有限公司",
                            "valuation": "8500",
                            "registered_capital": "2000",
                            "percentage": "20",
                            "equity_date": on.isoformat(),
                            "valuation_report_ref": "辽评报字[2026]第012号",
                        },
                    }
                elif kind[0] == "licence":
                    extra["details"] = {"field_of_use": "工业化生产", "territory": "中国大陆"}
                contract = create_contract(
                    session, actor=admin, data=_contract_data(deal, *kind, on, **extra)
                )
                add_payment(
                    session,
                    actor=admin,
                    contract_id=contract.id,
                    data={
                        "received_on": on.isoformat(),
                        "amount": str(min(contract.amount, 100)),
                        "reference": f"到账-{contract.id}",
                    },
                )
                counts["contracts"] += 1
            pipeline.move_deal(
                session,
                actor=admin,
                deal_id=deal.id,
                action=step,
                on=on,
                note="演示记录",
                reason="price" if step == "close" else None,
                pilot_booking_ref="ZS-DEMO-001" if step == "start_pilot" else None,
            )
        if stage == "production" and "production" not in deals:
            pipeline.add_service(
                session,
                actor=admin,
                deal_id=deal.id,
                data={
                    "kind": "company",
                    "status": "done",
                    "finished_on": on.isoformat(),
                    "details": {
                        "name": f"{ent.name[:20]}新材料科技有限公司",
                        "registered_capital": "10000",
                    },
                },
            )
            pipeline.add_service(
                session,
                actor=admin,
                deal_id=deal.id,
                data={
                    "kind": "financing",
                    "status": "done",
                    "details": {
                        "investor": "省产业投资基金",
                        "amount": "3000",
                        "instrument": "股权",
                        "round_name": "天使轮",
                        "on": on.isoformat(),
                    },
                },
            )
        if stage in pipeline.OPEN_STAGES:
            late = i % 3 == 0
            pipeline.add_next_action(
                session,
                actor=admin,
                deal_id=deal.id,
                title="跟进企业反馈" if not late else "催办尽调材料",
                due_on=today + timedelta(days=-3 if late else 7),
            )
        deals.setdefault(stage, deal)
        counts["deals"] += 1
    # An open licence on a listing no deal touched, taken by two enterprises.
    free = listings[len(stages)]
    declaration = declare_open_licence(
        session,
        actor=admin,
        data={
            "patent_id": free.patent_id,
            "fee_mode": "lump_sum",
            "fee_amount": "5",
            "payment_method": "银行转账，一次付清",
            "term_years": 3,
            "declared_on": today - timedelta(days=30),
        },
    )
    for ent in enterprises[:2]:
        take_open_licence(
            session,
            actor=admin,
            licence_id=declaration.id,
            data={
                "enterprise_id": ent.id,
                "notice": f"{ent.name}书面通知实施该专利。",
                "notice_on": (today - timedelta(days=10)).isoformat(),
                "paid_amount": "5",
                "payment_reference": f"开放许可费-{ent.id}",
                "buyer_region_code": "320500",
            },
        )
        counts["open_licence_takers"] += 1
    counts["managers"] = len(profiles)
    return counts
