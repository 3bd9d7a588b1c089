"""Editing what was recorded, in the browser's terms, on SQLite and PostgreSQL: a manager's
profile (their own at /managers/me, anyone's for an admin) and a contract's own fields or the
whole contract while nothing has been received. Good input, bad input (422, the message zh-CN
first with English after, under its field, nothing changed) and who may do it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.audit import AuditEntry
from shuanglian.deals import contracts
from shuanglian.deals.models import Contract, Manager
from tests.deals.helpers import World, build_world, contract_data, open_deal
from tests.deals.test_forms import ZH_ONLY, _error, _post
from tests.web.factories import login, make_institution, make_user


@pytest.fixture
def world(db_session: Session) -> World:
    return build_world(db_session)


def _audits(session: Session, action: str) -> int:
    return session.scalar(select(func.count()).where(AuditEntry.action == action)) or 0


# --------------------------------------------------------------------------- manager profiles

PROFILE = {
    "name": "王经理",
    "organisation": "大连技术转移中心",
    "languages": "zh、en",
    "ipc_fields": "h01m10, C04B",
    "industry_fields": "C38 C30",
    "certification_level": "intermediate",
    "certified_by": "中国技术市场协会",
    "phone": "0411-12345678",
    "email": "wang@example.cn",
    "bio": "十年锂电池技术转移经验",
}


def test_manager_creates_and_edits_own_profile(
    db_session: Session, client: TestClient, world: World
) -> None:
    newcomer = make_user(db_session, "tech_manager", display_name="王新")
    login(client, newcomer)
    page = client.get("/managers/me")
    assert page.status_code == 200 and 'value="王新"' in page.text
    assert 'name="contracts"' not in page.text and 'name="amount"' not in page.text
    r = _post(client, "/managers/me", PROFILE)
    assert r.status_code == 303, r.text[:800]
    manager = db_session.scalars(select(Manager).where(Manager.user_id == newcomer.id)).one()
    assert manager.ipc_fields == ["H01M10", "C04B"]
    assert manager.industry_fields == ["C38", "C30"]
    assert manager.languages == ["zh", "en"]
    assert (manager.certification_level, manager.certified_by) == (
        "intermediate",
        "中国技术市场协会",
    )
    assert (manager.phone, manager.email) == ("0411-12345678", "wang@example.cn")
    page = client.get("/managers/me")
    assert 'value="大连技术转移中心"' in page.text
    assert client.get("/managers").text.count(f'href="/managers/{manager.id}/edit"') == 1
    r = _post(client, "/managers/me", {**PROFILE, "certification_level": "senior", "phone": ""})
    assert r.status_code == 303
    db_session.expire_all()
    again = db_session.get(Manager, manager.id)
    assert again is not None and again.certification_level == "senior" and again.phone is None
    assert db_session.scalar(select(func.count()).select_from(Manager)) == 2  # not a second one
    r = _post(client, f"/managers/{manager.id}/edit", {**PROFILE, "name": "王经理二"})
    assert r.status_code == 303
    db_session.expire_all()
    assert db_session.get(Manager, manager.id).name == "王经理二"  # type: ignore[union-attr]
    assert _audits(db_session, "manager.save") >= 4  # build_world's one and these three


@pytest.mark.parametrize(
    ("field", "value", "starts"),
    [
        ("name", "", "必填"),
        ("organisation", "", "必填"),
        ("certification_level", "master", "认证等级"),
        ("certified_by", "x" * 201, ""),
    ],
)
def test_manager_profile_refused(
    db_session: Session, client: TestClient, world: World, field: str, value: str, starts: str
) -> None:
    newcomer = make_user(db_session, "tech_manager")
    login(client, newcomer)
    r = _post(client, "/managers/me", {**PROFILE, field: value})
    assert r.status_code == 422
    message = _error(r.text, field)
    assert message.startswith(starts) and ZH_ONLY.match(message), message
    assert 'value="大连技术转移中心"' in r.text or field == "organisation"  # typed values stay
    assert db_session.scalar(select(Manager).where(Manager.user_id == newcomer.id)) is None
    # The same on an existing profile: nothing changes.
    login(client, world.manager_user)
    r = _post(client, f"/managers/{world.manager.id}/edit", {**PROFILE, field: value})
    assert r.status_code == 422 and _error(r.text, field) == message
    db_session.expire_all()
    assert db_session.get(Manager, world.manager.id).name == "李经理"  # type: ignore[union-attr]


def test_manager_profile_permissions(db_session: Session, client: TestClient, world: World) -> None:
    other_user = make_user(db_session, "tech_manager")
    login(client, other_user)
    assert _post(client, "/managers/me", PROFILE).status_code == 303
    assert client.get(f"/managers/{world.manager.id}/edit").status_code == 403
    r = _post(client, f"/managers/{world.manager.id}/edit", {**PROFILE, "name": "冒名"})
    assert r.status_code == 403
    login(client, world.staff)
    assert client.get("/managers/me").status_code == 403
    assert client.get(f"/managers/{world.manager.id}/edit").status_code == 403
    db_session.expire_all()
    assert db_session.get(Manager, world.manager.id).name == "李经理"  # type: ignore[union-attr]
    login(client, world.admin)
    assert client.get("/managers/me").status_code == 403  # an admin has no profile of their own
    page = client.get(f"/managers/{world.manager.id}/edit")
    assert page.status_code == 200 and 'value="李经理"' in page.text
    assert f'href="/managers/{world.manager.id}/edit"' in client.get("/managers").text
    r = _post(client, f"/managers/{world.manager.id}/edit", {**PROFILE, "name": "李经理（更正）"})
    assert r.status_code == 303
    db_session.expire_all()
    fixed = db_session.get(Manager, world.manager.id)
    assert fixed is not None and fixed.name == "李经理（更正）"
    assert fixed.user_id == world.manager_user.id
    assert client.get("/managers/999999/edit").status_code == 404
    login(client, world.manager_user)
    assert f'href="/managers/{world.manager.id}/edit"' in client.get("/deals/board").text


# --------------------------------------------------------------------------- contract edits

EDIT = {
    "title": "更正后的转让合同",
    "amount": "120",
    "signed_on": "2025-03-02",
    "valid_from": "2025-03-02",
    "valid_until": "2030-03-01",
    "schedule-0-due_on": "2025-04-01",
    "schedule-0-amount": "60",
    "schedule-0-note": "首期",
    "schedule-1-due_on": "2025-09-01",
    "schedule-1-amount": "60",
}


def _contract(
    session: Session, world: World, kind: str = "transfer", subtype: str = "patent_right"
) -> Contract:
    deal = open_deal(session, world, manager_id=world.manager.id)
    data = contract_data(world, kind, subtype, deal_id=deal.id)
    return contracts.create_contract(session, actor=world.staff, data=data)


def test_contract_edit_and_delete(db_session: Session, client: TestClient, world: World) -> None:
    contract = _contract(db_session, world)
    login(client, world.staff)
    page = client.get(f"/contracts/{contract.id}")
    assert f'href="/contracts/{contract.id}/edit"' in page.text
    form = client.get(f"/contracts/{contract.id}/edit")
    assert form.status_code == 200 and 'value="transfer 合同"' in form.text
    r = _post(client, f"/contracts/{contract.id}/edit", EDIT)
    assert r.status_code == 303, r.text[:800]
    db_session.expire_all()
    fixed = db_session.get(Contract, contract.id)
    assert fixed is not None and fixed.title == "更正后的转让合同"
    assert fixed.amount == Decimal(120) and fixed.signed_on == date(2025, 3, 2)
    assert [(s.due_on, s.amount, s.note) for s in fixed.schedule] == [
        (date(2025, 4, 1), Decimal(60), "首期"),
        (date(2025, 9, 1), Decimal(60), None),
    ]
    assert fixed.technical_income == Decimal(90) and fixed.details == {}  # untouched
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "contract.update")
    ).one()
    assert set(entry.detail["changed"]) >= {"title", "amount", "signed_on", "schedule"}
    # Clearing a row removes that instalment.
    r = _post(
        client,
        f"/contracts/{contract.id}/edit",
        {**EDIT, "schedule-1-due_on": "", "schedule-1-amount": ""},
    )
    assert r.status_code == 303
    db_session.expire_all()
    assert len(db_session.get(Contract, contract.id).schedule) == 1  # type: ignore[union-attr]
    # The deal's manager and an admin may edit too.
    for who in (world.manager_user, world.admin):
        login(client, who)
        r = _post(client, f"/contracts/{contract.id}/edit", {**EDIT, "title": who.username})
        assert r.status_code == 303, (who.role, r.text[:500])
    db_session.expire_all()
    assert db_session.get(Contract, contract.id).title == world.admin.username  # type: ignore[union-attr]
    r = _post(client, f"/contracts/{contract.id}/delete", {})
    assert r.status_code == 303 and r.headers["location"] == f"/deals/{contract.deal_id}"
    db_session.expire_all()
    assert db_session.get(Contract, contract.id) is None
    assert _audits(db_session, "contract.delete") == 1


@pytest.mark.parametrize(
    ("changes", "field", "starts"),
    [
        ({"amount": "-1"}, "amount", "金额须大于或等于 0"),
        ({"amount": "abc"}, "amount", ""),
        ({"title": ""}, "title", "必填"),
        ({"signed_on": ""}, "signed_on", "必填"),
        ({"valid_until": "2024-01-01"}, "valid_until", "有效期截止日不能早于起始日"),
        ({"schedule-1-amount": "100"}, "schedule", "付款计划合计超过合同金额"),
        ({"schedule-0-due_on": "2025-01-01"}, "schedule", "付款日期不能早于合同签订日期"),
        ({"valid_until": "2041-01-01"}, "valid_until", ""),
    ],
)
def test_contract_edit_refused(
    db_session: Session,
    client: TestClient,
    world: World,
    changes: dict[str, str],
    field: str,
    starts: str,
) -> None:
    contract = _contract(db_session, world, kind="licence", subtype="ordinary")
    login(client, world.staff)
    r = _post(client, f"/contracts/{contract.id}/edit", {**EDIT, **changes})
    assert r.status_code == 422, r.text[:500]
    message = _error(r.text, field)
    assert message.startswith(starts) and ZH_ONLY.match(message), message
    assert 'value="更正后的转让合同"' in r.text or field == "title"  # typed values come back
    db_session.expire_all()
    same = db_session.get(Contract, contract.id)
    assert same is not None and same.title == "licence 合同" and same.amount == Decimal(100)
    assert same.schedule == [] and _audits(db_session, "contract.update") == 0


def test_contract_edit_permissions_and_payments(
    db_session: Session, client: TestClient, world: World
) -> None:
    contract = _contract(db_session, world)
    login(client, world.ent_user)  # a party, but not one who records the contract
    assert f'/contracts/{contract.id}/edit"' not in client.get(f"/contracts/{contract.id}").text
    assert client.get(f"/contracts/{contract.id}/edit").status_code == 403
    assert _post(client, f"/contracts/{contract.id}/edit", EDIT).status_code == 403
    assert _post(client, f"/contracts/{contract.id}/delete", {}).status_code == 403
    other = make_institution(db_session, name="另一所大学")
    login(client, make_user(db_session, "institution_staff", institution_id=other.id))
    assert _post(client, f"/contracts/{contract.id}/edit", EDIT).status_code == 404
    assert _post(client, f"/contracts/{contract.id}/delete", {}).status_code == 404
    login(client, make_user(db_session, "tech_manager"))  # not the deal's manager
    assert _post(client, f"/contracts/{contract.id}/edit", EDIT).status_code in (403, 404)
    db_session.expire_all()
    assert db_session.get(Contract, contract.id).title == "transfer 合同"  # type: ignore[union-attr]
    # Once money is received the contract stays as it is.
    contracts.add_payment(
        db_session,
        actor=world.staff,
        contract_id=contract.id,
        data={"received_on": "2025-04-01", "amount": "10"},
    )
    db_session.commit()
    login(client, world.staff)
    assert f'/contracts/{contract.id}/edit"' not in client.get(f"/contracts/{contract.id}").text
    page = client.get(f"/contracts/{contract.id}/edit")
    assert "合同已有到账或发放记录" in page.text and 'action="/contracts/' not in page.text
    r = _post(client, f"/contracts/{contract.id}/edit", EDIT)
    assert (
        r.status_code == 422
        and "合同已有到账或发放记录，不能修改或删除" in r.text
        and "(payments" not in r.text
    )
    r = _post(client, f"/contracts/{contract.id}/delete", {})
    assert (
        r.status_code == 422
        and "合同已有到账或发放记录，不能修改或删除" in r.text
        and "(payments" not in r.text
    )
    db_session.expire_all()
    kept = db_session.get(Contract, contract.id)
    assert kept is not None and kept.title == "transfer 合同"
    assert _audits(db_session, "contract.update") + _audits(db_session, "contract.delete") == 0
