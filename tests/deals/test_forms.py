"""The deals forms in the browser's terms (HTTP posts of HTML forms), on SQLite and PostgreSQL:
each form with good input (the row is there, the page redirects) and bad input (422, the
message zh-CN first with English after, under the field it concerns, nothing stored)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.deals import contract_pages, pipeline
from shuanglian.deals.models import (
    Contract,
    Deal,
    DealDocument,
    DealService,
    DistributionRule,
    InventorPayout,
    OpenLicence,
    Payment,
)
from shuanglian.supermarket.models import Inquiry
from tests.deals.helpers import World, build_world, open_deal
from tests.web.factories import csrf_of, login, make_enterprise

# A Chinese page shows the Chinese half of a "中文 (English)" message (issue 14): Chinese, and
# no English gloss left in brackets.
ZH_ONLY = re.compile(r"^[^()]*[\u4e00-\u9fff][^()]*$")


def _post(client: TestClient, path: str, data: dict[str, Any], **kw: Any) -> Any:
    token = csrf_of(client, "/deals")
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False, **kw)


def _error(html: str, field: str) -> str:
    """The message shown under `field` ("" when none)."""
    match = re.search(
        rf'<p class="field-error[^"]*" id="err-{re.escape(field)}"[^>]*>(.*?)</p>', html
    )
    return unescape(match.group(1)) if match else ""


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def world(db_session: Session) -> World:
    return build_world(db_session)


# --------------------------------------------------------------------------- start a deal


def test_start_a_deal_with_pickers(db_session: Session, client: TestClient, world: World) -> None:
    login(client, world.staff)
    page = client.get(f"/deals/new?push_id={world.push.id}")
    assert page.status_code == 200
    assert f"{world.inst.name} (#{world.inst.id})" in page.text  # a name, not a bare id
    assert 'list="dl-pat"' in page.text and world.patent.application_number in page.text
    r = _post(
        client,
        "/deals",
        {
            "title": "从推送发起",
            "source": "push",
            "push_id": str(world.push.id),
            "institution_id": world.inst.name,  # typed by name
            "enterprise_id": world.ent.name[:4],  # a fragment matching one enterprise
            "patent_ids": world.patent.application_number,
        },
    )
    assert r.status_code == 303, r.text[:500]
    deal = db_session.get(Deal, int(r.headers["location"].rsplit("/", 1)[1]))
    assert deal is not None and deal.enterprise_id == world.ent.id
    assert [i.patent_id for i in deal.items] == [world.patent.id]


def test_start_a_deal_refused_fields(db_session: Session, client: TestClient, world: World) -> None:
    make_enterprise(db_session, "同名测试甲有限公司")
    make_enterprise(db_session, "同名测试乙有限公司")
    login(client, world.staff)
    before = _count(db_session, Deal)
    r = _post(
        client,
        "/deals",
        {"title": "x", "institution_id": world.inst.name, "enterprise_id": "同名测试"},
    )
    assert r.status_code == 422
    assert _error(r.text, "enterprise_id").startswith("有多个企业")
    assert ZH_ONLY.match(_error(r.text, "enterprise_id"))
    assert "同名测试甲有限公司 (#" in r.text  # offered back as options without JavaScript
    r = _post(
        client,
        "/deals",
        {"title": "", "institution_id": world.inst.name, "enterprise_id": world.ent.name},
    )
    assert r.status_code == 422 and _error(r.text, "title") == "必填"
    r = _post(
        client,
        "/deals",
        {
            "title": "x",
            "institution_id": world.inst.name,
            "enterprise_id": world.ent.name,
            "patent_ids": "CN-NO-SUCH",
        },
    )
    assert r.status_code == 422 and ZH_ONLY.match(_error(r.text, "patent_ids"))
    assert _count(db_session, Deal) == before


def test_start_a_deal_from_a_challenge_and_an_inquiry(
    db_session: Session, client: TestClient, world: World
) -> None:
    login(client, world.staff)
    # A challenge that does not exist (or is not this user's) is not offered as a source;
    # the prefill from a verified challenge is tested in tests/pilots/test_links.py.
    assert client.get("/deals/new?challenge_id=7").status_code == 404
    inquiry = Inquiry(
        listing_id=world.listing.id, name="王工", organisation=world.ent.name, message="想了解"
    )
    db_session.add(inquiry)
    db_session.flush()
    workspace = client.get("/workspace/institution")
    assert f"/deals/new?inquiry_id={inquiry.id}" in workspace.text
    page = client.get(f"/deals/new?inquiry_id={inquiry.id}")
    assert f"{world.ent.name} (#{world.ent.id})" in page.text
    login(client, world.ent_user)
    workspace = client.get("/workspace/enterprise")
    assert f"/deals/new?push_id={world.push.id}" in workspace.text


def test_lookup_endpoints(client: TestClient, world: World) -> None:
    assert client.get("/deals/lookup/institutions?q=x").status_code in (401, 403)
    login(client, world.ent_user)
    found = client.get("/deals/lookup/patents", params={"q": "胶凝"}).json()
    assert {
        "id": world.patent.id,
        "label": f"{world.patent.application_number} {world.patent.title} (#{world.patent.id})",
    } in found
    found = client.get("/deals/lookup/enterprises", params={"q": world.ent.name}).json()
    assert [f["id"] for f in found] == [world.ent.id]
    # An unknown lookup kind names nothing: not found on a page request, the field named to a
    # script that asks for JSON.
    assert client.get("/deals/lookup/users").status_code == 404
    as_json = client.get("/deals/lookup/users", headers={"accept": "application/json"})
    assert as_json.status_code == 422 and as_json.json()["error"]["field"] == "what"


# --------------------------------------------------------------------------- contracts


GOOD_DETAILS: dict[str, dict[str, str]] = {
    "transfer": {},
    "licence": {"details.field_of_use": "建筑材料", "details.territory": "中国大陆"},
    "equity": {
        "details.company_name": "辽宁固废新材料有限公司",
        "details.valuation": "8500",
        "details.registered_capital": "2000",
        "details.percentage": "20",
        "details.equity_date": "2025-03-10",
        "details.valuation_report_ref": "辽评报字[2025]第012号",
    },
    "development": {"details.subject": "配方优化"},
    "consulting": {"details.subject": "工艺咨询"},
    "service": {"details.subject": "检测服务"},
}
SUBTYPE = {
    "transfer": "patent_right",
    "licence": "ordinary",
    "equity": "contribution",
    "development": "commissioned",
    "consulting": "general",
    "service": "general",
}
# A required field particular to each type, left empty.
MISSING = {
    "licence": "details.territory",
    "equity": "details.valuation_report_ref",
    "development": "details.subject",
    "consulting": "details.subject",
    "service": "details.subject",
}


def _contract_form(world: World, kind: str, **changes: str) -> dict[str, str]:
    form = {
        "kind": kind,
        "subtype": SUBTYPE[kind],
        "title": f"{kind} 合同",
        "patent_id": str(world.patent.id),
        "signed_on": "2025-03-01",
        "valid_from": "2025-03-01",
        "valid_until": "2030-02-28",
        "amount": "100",
        "payment_mode": "lump_sum",
        **GOOD_DETAILS[kind],
    }
    form.update(changes)
    return form


@pytest.mark.parametrize("kind", contract_pages.ENTERED_KINDS)
def test_contract_form_of_each_type(
    db_session: Session, client: TestClient, world: World, kind: str
) -> None:
    deal = open_deal(db_session, world)
    login(client, world.staff)
    page = client.get(f"/deals/{deal.id}/contracts/new?kind={kind}")
    assert page.status_code == 200
    for other, fields in GOOD_DETAILS.items():
        for name in fields:
            shown = f'name="{name}"' in page.text
            assert shown == (name in GOOD_DETAILS[kind]), (kind, other, name)
    if kind in MISSING:
        bad = _contract_form(world, kind, **{MISSING[kind]: ""})
        r = _post(client, f"/deals/{deal.id}/contracts", bad)
        assert r.status_code == 422
        assert _error(r.text, MISSING[kind]) == "必填"
        assert f'value="{bad["title"]}"' in r.text  # what was typed comes back
    r = _post(client, f"/deals/{deal.id}/contracts", _contract_form(world, kind, amount="-1"))
    assert r.status_code == 422 and _error(r.text, "amount").startswith("金额须大于或等于 0")
    r = _post(client, f"/deals/{deal.id}/contracts", _contract_form(world, kind, amount="abc"))
    assert r.status_code == 422 and _error(r.text, "amount") == "须为数字，如 12.5"
    assert _count(db_session, Contract) == 0
    r = _post(client, f"/deals/{deal.id}/contracts", _contract_form(world, kind))
    assert r.status_code == 303, r.text[:800]
    contract = db_session.scalars(select(Contract)).one()
    assert contract.kind == kind and contract.subtype == SUBTYPE[kind]
    if kind == "equity":
        assert contract.details["percentage"] == "20"
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and contract.number in page.text


def test_contract_schedule_and_payments(
    db_session: Session, client: TestClient, world: World
) -> None:
    deal = open_deal(db_session, world)
    login(client, world.staff)
    rows = {
        "schedule-0-due_on": "2025-04-01",
        "schedule-0-amount": "40",
        "schedule-1-due_on": "2025-10-01",
        "schedule-1-amount": "60",
        "schedule-1-note": "验收后",
    }
    bad = _contract_form(world, "transfer", payment_mode="instalments")
    r = _post(client, f"/deals/{deal.id}/contracts", bad)
    assert r.status_code == 422 and _error(r.text, "schedule").startswith("分期支付须填写付款计划")
    early = {**rows, "schedule-0-due_on": "2025-01-01"}
    r = _post(client, f"/deals/{deal.id}/contracts", {**bad, **early})
    assert r.status_code == 422 and "付款日期不能早于合同签订日期" in _error(r.text, "schedule")
    r = _post(client, f"/deals/{deal.id}/contracts", {**bad, **rows})
    assert r.status_code == 303
    contract = db_session.scalars(select(Contract)).one()
    assert [(s.due_on.isoformat(), s.note) for s in contract.schedule] == [
        ("2025-04-01", None),
        ("2025-10-01", "验收后"),
    ]
    url = f"/contracts/{contract.id}"
    r = _post(client, f"{url}/payments", {"pay.received_on": "2025-02-01", "pay.amount": "40"})
    assert r.status_code == 422 and _error(r.text, "pay.received_on").startswith("付款日期不能早于")
    r = _post(
        client,
        f"{url}/payments",
        {
            "pay.received_on": "2025-04-02",
            "pay.amount": "40",
            "pay.costs": "4",
            "pay.reference": "B1",
        },
    )
    assert r.status_code == 303
    page = client.get(url).text
    # Law's floor (no rule): 50 % of the net 36 万元 to the inventors.
    assert "18 万元" in page and "B1" in page
    r = _post(client, f"{url}/payouts", {"out.paid_on": "2025-05-01", "out.amount": "20"})
    assert r.status_code == 422 and "超过应发未发" in _error(r.text, "out.amount")
    r = _post(client, f"{url}/payouts", {"out.paid_on": "2025-05-01", "out.amount": "18"})
    assert r.status_code == 303
    assert _count(db_session, Payment) == 1 and _count(db_session, InventorPayout) == 1
    login(client, world.ent_user)
    page = client.get(url)
    assert page.status_code == 200 and 'action="/contracts/' not in page.text  # no forms
    r = _post(client, f"{url}/payments", {"pay.received_on": "2025-06-01", "pay.amount": "1"})
    assert r.status_code == 403


def test_contracts_list_and_distribution_rule(
    db_session: Session, client: TestClient, world: World
) -> None:
    login(client, world.staff)
    page = client.get("/distribution-rule")
    assert page.status_code == 200 and 'value="50"' in page.text  # the law's floor
    r = _post(
        client,
        "/distribution-rule",
        {
            "inventor_pct": "70",
            "tto_pct": "10",
            "institution_pct": "30",
            "inventor_equity_pct": "60",
        },
    )
    assert r.status_code == 422 and "之和须为 100%" in _error(r.text, "inventor_pct")
    r = _post(
        client,
        "/distribution-rule",
        {
            "inventor_pct": "70",
            "tto_pct": "x",
            "institution_pct": "20",
            "inventor_equity_pct": "60",
        },
    )
    assert r.status_code == 422 and _error(r.text, "tto_pct") == "须为数字，如 12.5"
    assert _count(db_session, DistributionRule) == 0
    r = _post(
        client,
        "/distribution-rule",
        {
            "inventor_pct": "70",
            "tto_pct": "10",
            "institution_pct": "20",
            "inventor_equity_pct": "60",
        },
    )
    assert r.status_code == 303
    assert db_session.scalars(select(DistributionRule)).one().inventor_pct == 70
    assert "70%" in client.get("/contracts").text
    login(client, world.ent_user)
    assert client.get("/distribution-rule").status_code == 403
    r = _post(client, "/distribution-rule", {"inventor_pct": "100", "institution_pct": "0"})
    assert r.status_code == 403


# --------------------------------------------------------------------------- the deal page


SERVICES = {
    "valuation": {"method": "收益法", "amount": "8500", "report_ref": "辽评报字[2025]第012号"},
    "company": {"name": "辽宁固废新材料有限公司", "registered_capital": "10000"},
    "financing": {
        "investor": "辽宁产业投资基金",
        "amount": "3000",
        "instrument": "股权",
        "on": "2025-06-01",
    },
    "pilot": {"platform": "大连中试基地", "booking_ref": "ZS-2025-001"},
    "subsidy": {"programme": "科技成果转化专项", "amount": "50"},
}


def test_services_forms(db_session: Session, client: TestClient, world: World) -> None:
    deal = open_deal(db_session, world, manager_id=world.manager.id)
    login(client, world.manager_user)
    r = _post(
        client, f"/deals/{deal.id}/services", {"kind": "financing", "svc-financing.amount": "1"}
    )
    assert r.status_code == 422
    assert _error(r.text, "svc-financing.investor") == "必填"
    assert '<details class="service-form" id="add-financing" open>' in r.text
    assert _count(db_session, DealService) == 0
    login(client, world.staff)
    for kind, fields in SERVICES.items():
        data = {"kind": kind, f"svc-{kind}.status": "in_progress"}
        data.update({f"svc-{kind}.{k}": v for k, v in fields.items()})
        r = _post(client, f"/deals/{deal.id}/services", data)
        assert r.status_code == 303, (kind, r.text[:600])
    assert _count(db_session, DealService) == 5
    company = db_session.scalars(select(DealService).where(DealService.kind == "company")).one()
    prefix = f"svcu-{company.id}."
    url = f"/deals/{deal.id}/services/{company.id}"
    r = _post(client, url, {f"{prefix}status": "done", f"{prefix}credit_code": "123"})
    assert r.status_code == 422 and _error(r.text, f"{prefix}credit_code")
    r = _post(
        client,
        url,
        {
            f"{prefix}status": "done",
            f"{prefix}finished_on": "2025-07-01",
            f"{prefix}credit_code": "91210200MA0QC0A019",
        },
    )
    assert r.status_code == 303
    db_session.refresh(company)
    assert company.status == "done" and company.details["credit_code"] == "91210200MA0QC0A019"
    page = client.get(f"/deals/{deal.id}").text
    assert "辽宁产业投资基金" in page and "评估方法：收益法" in page
    login(client, world.ent_user)
    assert "svc-valuation.method" not in client.get(f"/deals/{deal.id}").text
    r = _post(client, f"/deals/{deal.id}/services", {"kind": "pilot", "svc-pilot.platform": "x"})
    assert r.status_code == 403


def test_documents_upload(db_session: Session, client: TestClient, world: World) -> None:
    deal = open_deal(db_session, world)
    login(client, world.ent_user)  # every party may add a document
    url = f"/deals/{deal.id}/documents/upload"
    r = _post(
        client,
        url,
        {"doc.kind": "nda"},
        files={"doc.file": ("保密协议.pdf", b"%PDF-1.4 signed", "application/pdf")},
    )
    assert r.status_code == 303
    doc = db_session.scalars(select(DealDocument)).one()
    assert doc.filename == "保密协议.pdf" and doc.kind == "nda"
    r = _post(
        client,
        url,
        {"doc.kind": "nda"},
        files={"doc.file": ("x.pdf", b"MZ\x90\x00", "application/pdf")},
    )
    assert r.status_code == 422 and _error(r.text, "doc.file").startswith(
        "文件内容与扩展名 .pdf 不符"
    )
    r = _post(
        client, url, {"doc.kind": "nda"}, files={"doc.file": ("x.exe", b"MZ", "application/x")}
    )
    assert r.status_code == 422 and _error(r.text, "doc.file").startswith("只接受 .pdf")
    r = _post(client, url, {"doc.kind": "nda"})
    assert r.status_code == 422 and _error(r.text, "doc.file")
    assert _count(db_session, DealDocument) == 1
    page = client.get(f"/deals/{deal.id}").text
    assert "保密协议.pdf" in page and 'data-max-bytes="10485760"' in page


# --------------------------------------------------------------------------- open licences


def test_open_licence_declare_take_withdraw(
    db_session: Session, client: TestClient, world: World
) -> None:
    login(client, world.staff)
    assert client.get("/open-licences/new").status_code == 200
    form = {
        "patent_id": world.patent.application_number,
        "fee_mode": "lump_sum",
        "payment_method": "银行转账",
        "term_years": "3",
    }
    r = _post(client, "/open-licences", form)
    assert r.status_code == 422 and _error(r.text, "fee_amount").startswith("一次性付费须填写")
    r = _post(client, "/open-licences", {**form, "fee_amount": "5", "term_years": "30"})
    assert r.status_code == 422 and _error(r.text, "term_years") == "须不大于 20"
    assert _count(db_session, OpenLicence) == 0
    r = _post(client, "/open-licences", {**form, "fee_amount": "5"})
    assert r.status_code == 303
    ol = db_session.scalars(select(OpenLicence)).one()
    assert r.headers["location"] == f"/open-licences/{ol.id}"

    login(client, world.ent_user)
    page = client.get(f"/open-licences/{ol.id}")
    assert page.status_code == 200 and f'action="/open-licences/{ol.id}/take"' in page.text
    assert "withdraw" not in page.text.split("<main", 1)[1]
    take = {
        "notice": "本企业接受开放许可条件",
        "notice_on": pipeline.today_in_china().isoformat(),
        "paid_amount": "4",
        "payment_reference": "TX-1",
    }
    r = _post(client, f"/open-licences/{ol.id}/take", take)
    assert r.status_code == 422 and _error(r.text, "paid_amount").startswith("付款金额须不少于")
    r = _post(client, f"/open-licences/{ol.id}/take", {**take, "paid_amount": "5"})
    assert r.status_code == 303
    contract_url = r.headers["location"]
    page = client.get(contract_url).text
    assert f'href="{contract_url}/licence.pdf"' in page
    pdf = client.get(f"{contract_url}/licence.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    r = _post(client, f"/open-licences/{ol.id}/take", {**take, "paid_amount": "5"})
    assert r.status_code == 422 and "已获得该许可" in r.text
    assert client.post(f"/open-licences/{ol.id}/withdraw").status_code in (403, 422)
    r = _post(client, f"/open-licences/{ol.id}/withdraw", {"withdraw.note": "x"})
    assert r.status_code == 403

    login(client, world.staff)
    page = client.get(f"/open-licences/{ol.id}").text
    assert world.ent.name in page  # the holders list
    r = _post(client, f"/open-licences/{ol.id}/withdraw", {"withdraw.note": "转为独占许可"})
    assert r.status_code == 303
    db_session.refresh(ol)
    assert ol.status == "withdrawn"
    assert "已撤回" in client.get("/open-licences").text
    r = _post(client, f"/open-licences/{ol.id}/withdraw", {"withdraw.note": ""})
    assert r.status_code == 422 and "已撤回" in r.text
    assert client.get(f"{contract_url}/licence.pdf").status_code == 200  # still valid
