"""The chain end to end: push with intent → deal → manager → valuation → 作价入股 → company →
financing → production, with the income distribution computed; manager suggestions and the
track record follow from the rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from shuanglian.deals import pipeline
from shuanglian.deals.contracts import add_payment, create_contract
from shuanglian.deals.distribution import LAW_RULE, add_payout, distribution, set_rule
from shuanglian.deals.managers import save_manager, suggest_managers, track_record
from shuanglian.errors import DomainError
from shuanglian.supermarket.service import today_in_china
from tests.deals.helpers import build_world, contract_data
from tests.web.factories import make_user


def test_push_to_production_with_equity_and_distribution(db_session) -> None:
    w = build_world(db_session, intent="作价入股")
    other_user = make_user(db_session, "tech_manager")
    save_manager(
        db_session,
        actor=other_user,
        data={
            "user_id": other_user.id,
            "name": "王经理",
            "organisation": "某代理机构",
            "ipc_fields": ["H01M"],
            "industry_fields": ["C38"],
        },
    )
    form = pipeline.prefill_deal(db_session, actor=w.staff, push_id=w.push.id)
    deal = pipeline.create_deal(db_session, actor=w.staff, data=form)

    suggestions = suggest_managers(db_session, actor=w.staff, deal_id=deal.id)
    assert suggestions[0].manager.id == w.manager.id
    assert any("C04B" in r for r in suggestions[0].reasons)
    assert any("C30" in r for r in suggestions[0].reasons)
    assert suggestions[0].score > suggestions[1].score
    pipeline.assign_manager(db_session, actor=w.staff, deal_id=deal.id, manager_id=w.manager.id)

    start = today_in_china() - timedelta(days=40)
    deal.stage_changed_on = deal.opened_on = start
    m = w.manager_user
    pipeline.move_deal(db_session, actor=m, deal_id=deal.id, action="sign_nda", on=start)
    pipeline.move_deal(
        db_session,
        actor=m,
        deal_id=deal.id,
        action="start_due_diligence",
        on=start + timedelta(days=5),
    )
    pipeline.add_service(
        db_session,
        actor=m,
        deal_id=deal.id,
        data={
            "kind": "valuation",
            "status": "done",
            "started_on": start + timedelta(days=6),
            "finished_on": start + timedelta(days=12),
            "details": {
                "method": "收益法",
                "amount": "8500",
                "report_ref": "辽评报字[2025]第012号",
            },
        },
    )
    pipeline.move_deal(
        db_session, actor=m, deal_id=deal.id, action="negotiate", on=start + timedelta(days=13)
    )
    signed_on = start + timedelta(days=20)
    contract = create_contract(
        db_session,
        actor=m,
        data=contract_data(
            w,
            "equity",
            "capital_increase",
            deal_id=deal.id,
            institution_id=None,
            enterprise_id=None,
            amount="8500",
            technical_income="8500",
            signed_on=signed_on.isoformat(),
            valid_from=None,
            valid_until=None,
        ),
    )
    assert contract.listing_id == w.listing.id
    pipeline.move_deal(db_session, actor=m, deal_id=deal.id, action="sign", on=signed_on)
    company = pipeline.add_service(
        db_session,
        actor=m,
        deal_id=deal.id,
        data={
            "kind": "company",
            "status": "in_progress",
            "details": {"name": "辽宁固废新材料有限公司", "registered_capital": "10000"},
        },
    )
    pipeline.update_service_status(
        db_session,
        actor=m,
        deal_id=deal.id,
        service_id=company.id,
        status="done",
        finished_on=signed_on + timedelta(days=10),
        details={"credit_code": "91210200MA0QC0A019"},
    )
    assert company.details["credit_code"] == "91210200MA0QC0A019"
    pipeline.add_service(
        db_session,
        actor=m,
        deal_id=deal.id,
        data={
            "kind": "financing",
            "status": "done",
            "details": {
                "investor": "辽宁产业投资基金",
                "amount": "3000",
                "instrument": "股权",
                "round_name": "天使轮",
                "on": (signed_on + timedelta(days=15)).isoformat(),
            },
        },
    )
    pipeline.move_deal(
        db_session,
        actor=m,
        deal_id=deal.id,
        action="start_production",
        on=signed_on + timedelta(days=18),
    )
    assert deal.stage == "production"

    # The law's floor applies until the institution sets its own rule.
    add_payment(
        db_session,
        actor=w.staff,
        contract_id=contract.id,
        data={
            "received_on": signed_on.isoformat(),
            "amount": "100",
            "costs": "10",
            "reference": "分红-1",
        },
    )
    dist = distribution(db_session, actor=w.ent_user, contract_id=contract.id)
    assert dist.rule == LAW_RULE
    assert dist.payments[0].net == Decimal("90") and dist.payments[0].inventors == Decimal("45")
    assert dist.equity_pct == Decimal("20") and dist.inventors_equity_pct == Decimal("10")
    assert dist.inventors_registered_capital == Decimal("1000")
    set_rule(
        db_session,
        actor=w.staff,
        institution_id=w.inst.id,
        data={
            "inventor_pct": "70",
            "tto_pct": "10",
            "institution_pct": "20",
            "inventor_equity_pct": "70",
        },
    )
    add_payment(
        db_session,
        actor=m,
        contract_id=contract.id,
        data={"received_on": signed_on.isoformat(), "amount": "33.3333"},
    )
    dist = distribution(db_session, actor=w.staff, contract_id=contract.id)
    split = dist.payments[1]
    assert (split.inventors, split.tto) == (Decimal("23.3333"), Decimal("3.3333"))
    assert split.inventors + split.tto + split.institution == split.net
    assert dist.inventors_owed == Decimal("63") + Decimal("23.3333")
    assert dist.inventors_equity_pct == Decimal("14")
    add_payout(
        db_session,
        actor=w.staff,
        contract_id=contract.id,
        data={"paid_on": signed_on.isoformat(), "amount": "50"},
    )
    dist = distribution(db_session, actor=w.staff, contract_id=contract.id)
    assert dist.inventors_paid == Decimal("50")
    assert dist.inventors_outstanding == Decimal("36.3333")
    with pytest.raises(DomainError) as err:
        add_payout(
            db_session,
            actor=w.staff,
            contract_id=contract.id,
            data={"paid_on": signed_on.isoformat(), "amount": "40"},
        )
    assert err.value.field == "amount"

    record = track_record(db_session, manager_id=w.manager.id)
    assert record.by_stage["production"] == 1 and record.contracts == 1
    assert record.amount == Decimal("8500") and record.median_days_to_contract == 20
    db_session.expire(w.listing)
    assert w.listing.deals_signed == 1 and w.listing.signed_amount == Decimal("8500")
    log = [a.text for a in pipeline.timeline(db_session, actor=w.ent_user, deal_id=deal.id)]
    assert any("辽宁产业投资基金" in line for line in log)
    assert any("HT" in line and "8,500 万元" in line for line in log)
