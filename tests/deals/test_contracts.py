"""Contracts: the registration export of every type (Excel opened with openpyxl, JSON), the
refusal that lists what is missing, and the validation rules."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from shuanglian.deals import open_licences as ol
from shuanglian.deals import registration as reg
from shuanglian.deals.contracts import add_payment, create_contract
from shuanglian.deals.distribution import set_rule
from shuanglian.deals.schemas import CONTRACT_KINDS, CONTRACT_SUBTYPES
from shuanglian.errors import DomainError, PermissionDenied
from shuanglian.supermarket.service import today_in_china
from tests.deals.helpers import build_world, contract_data

# The licence is ordinary: an exclusive one would forbid the open licence declared below.
KINDS = [
    (k, "ordinary" if k == "licence" else next(iter(CONTRACT_SUBTYPES[k])))
    for k in CONTRACT_KINDS
    if k != "open_licence"
]


def _open_licence_contract(session, w):  # type: ignore[no-untyped-def]
    declaration = ol.declare_open_licence(
        session,
        actor=w.staff,
        data={
            "patent_id": w.patent.id,
            "fee_mode": "royalty",
            "royalty_rate": "3",
            "payment_method": "按年结算",
            "term_years": 2,
        },
    )
    contract = ol.take_open_licence(
        session,
        actor=w.ent_user,
        licence_id=declaration.id,
        data={
            "enterprise_id": w.ent.id,
            "notice": "书面通知",
            "notice_on": today_in_china().isoformat(),
            "paid_amount": "0",
            "payment_reference": "首期",
            "buyer_region_code": "210200",
        },
    )
    return contract


def test_registration_export_of_every_type(db_session) -> None:
    w = build_world(db_session)
    ids = [
        create_contract(db_session, actor=w.staff, data=contract_data(w, k, s)).id for k, s in KINDS
    ]
    olc = _open_licence_contract(db_session, w)
    # The open licence lacks what the notice does not say: the office's form lists it.
    with pytest.raises(DomainError) as err:
        reg.registration_rows(db_session, actor=w.staff, contract_ids=[*ids, olc.id])
    for name in ("卖方行政区划代码", "卖方统一社会信用代码", "技术领域", "预计新增投入（万元）"):
        assert name in err.value.message
    assert olc.number in err.value.message
    olc.seller_region_code, olc.seller_credit_code = "210200", "12210000MB0P12345M"
    olc.tech_field, olc.expected_investment, olc.expected_output = "新材料", 10, 50
    rows = reg.registration_rows(db_session, actor=w.staff, contract_ids=[*ids, olc.id])
    wb = load_workbook(io.BytesIO(reg.registration_xlsx(rows)))
    ws = wb["技术合同登记"]
    header = [c.value for c in ws[1]]
    assert header == [h for _, h, _ in reg.COLUMNS]
    data = [
        dict(zip(header, [c.value for c in row], strict=True)) for row in ws.iter_rows(min_row=2)
    ]
    assert len(data) == len(KINDS) + 1
    assert {d["合同类型"] for d in data} == {v[0] for v in CONTRACT_KINDS.values()}
    for row, kind in zip(data, [k for k, _ in KINDS] + ["open_licence"], strict=True):
        for key in reg.required_keys(kind):
            assert row[reg.HEADERS[key]] not in (None, ""), (kind, key)
        assert row["买方统一社会信用代码"] == "91210200MA0QC0A019"
        assert row["卖方性质"] == "高校" and row["买方性质"] == "企业"
    as_json = json.loads(reg.registration_json(rows))
    assert len(as_json["contracts"]) == len(rows)
    assert as_json["contracts"][0]["amount"] == "100.0000"


def test_registration_refusals_and_rights(db_session) -> None:
    w = build_world(db_session)
    c = create_contract(
        db_session,
        actor=w.staff,
        data=contract_data(w, "consulting", "general", buyer_region_code=None, tech_field=None),
    )
    with pytest.raises(DomainError) as err:
        reg.registration_rows(db_session, actor=w.staff, contract_ids=[c.id])
    assert "买方行政区划代码" in err.value.message and "技术领域" in err.value.message
    assert "预计新增" not in err.value.message  # consulting contracts are not asked for it
    for user in (w.ent_user, w.manager_user):
        with pytest.raises(PermissionDenied):
            reg.registration_rows(db_session, actor=user)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"technical_income": "-0.01"}, "technical_income"),
        ({"technical_income": "101"}, "technical_income"),
        ({"royalty_rate": "101", "payment_mode": "royalty"}, "royalty_rate"),
        ({"payment_mode": "royalty"}, "royalty_rate"),
        ({"payment_mode": "instalments"}, "schedule"),
        (
            {"payment_mode": "instalments", "schedule": [{"due_on": "2025-02-01", "amount": "10"}]},
            "schedule",
        ),
        ({"schedule": [{"due_on": "2025-04-01", "amount": "-5"}]}, "schedule.0.amount"),
        ({"schedule": [{"due_on": "2025-04-01", "amount": "101"}]}, "schedule"),
        ({"valid_until": "2024-01-01"}, "valid_until"),
        ({"seller_region_code": "12345"}, "seller_region_code"),
        ({"buyer_region_code": "990100"}, "buyer_region_code"),
        ({"seller_credit_code": "12210000MB0P12345X"}, "seller_credit_code"),
        ({"subtype": "exclusive"}, "subtype"),
        ({"kind": "gift"}, "kind"),
        ({"kind": "open_licence"}, "kind"),
    ],
)
def test_contract_validation(db_session, change, field) -> None:
    w = build_world(db_session)
    with pytest.raises(DomainError) as err:
        data = contract_data(w, "transfer", "patent_right")
        if change.get("kind") == "open_licence":
            data["subtype"] = "ordinary"
        create_contract(db_session, actor=w.staff, data={**data, **change})
    assert err.value.field == field
    assert re.search(r"[(（][a-z]", err.value.message)  # zh first, English after


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({"percentage": "100.01"}, "details.percentage"),
        ({"percentage": "-1"}, "details.percentage"),
        ({"valuation": "-1"}, "details.valuation"),
        ({"registered_capital": None}, "details.registered_capital"),
        ({"valuation_report_ref": ""}, "details.valuation_report_ref"),
    ],
)
def test_equity_validation(db_session, details, field) -> None:
    w = build_world(db_session)
    data = contract_data(w, "equity", "contribution")
    data["details"] = {**data["details"], **details}
    with pytest.raises(DomainError) as err:
        create_contract(db_session, actor=w.staff, data=data)
    assert err.value.field == field


def test_payment_and_rule_validation(db_session) -> None:
    w = build_world(db_session)
    c = create_contract(
        db_session, actor=w.staff, data=contract_data(w, "transfer", "patent_right")
    )
    for data, field in (
        ({"received_on": "2025-02-28", "amount": "1"}, "received_on"),
        ({"received_on": "2025-03-01", "amount": "-1"}, "amount"),
        ({"received_on": "2025-03-01", "amount": "1", "costs": "2"}, "costs"),
    ):
        with pytest.raises(DomainError) as err:
            add_payment(db_session, actor=w.staff, contract_id=c.id, data=data)
        assert err.value.field == field
    assert add_payment(
        db_session,
        actor=w.staff,
        contract_id=c.id,
        data={"received_on": "2025-03-01", "amount": "0"},
    ).amount == Decimal(0)
    for data, field in (
        ({"inventor_pct": 60, "institution_pct": 30, "inventor_equity_pct": 50}, "inventor_pct"),
        ({"inventor_pct": 120, "institution_pct": -20, "inventor_equity_pct": 50}, "inventor_pct"),
        (
            {"inventor_pct": 50, "institution_pct": 50, "inventor_equity_pct": 101},
            "inventor_equity_pct",
        ),
    ):
        with pytest.raises(DomainError) as err:
            set_rule(db_session, actor=w.staff, institution_id=w.inst.id, data=data)
        assert err.value.field == field
    with pytest.raises(PermissionDenied):
        set_rule(
            db_session,
            actor=w.ent_user,
            institution_id=w.inst.id,
            data={"inventor_pct": 50, "institution_pct": 50, "inventor_equity_pct": 50},
        )
