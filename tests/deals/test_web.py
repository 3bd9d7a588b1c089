"""Deals over HTTP: the JSON API and pages call the same services; the permission matrix of
every deal endpoint (parties, their manager and admins see documents, amounts and log)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shuanglian.deals import pipeline
from shuanglian.deals.contracts import add_payment, create_contract
from tests.deals.helpers import build_world, contract_data, open_deal
from tests.web.factories import csrf_of, login, make_enterprise, make_institution, make_user


def _world(db_session):  # type: ignore[no-untyped-def]
    w = build_world(db_session)
    deal = open_deal(db_session, w, manager_id=w.manager.id)
    pipeline.add_document(
        db_session,
        actor=w.staff,
        deal_id=deal.id,
        kind="nda",
        filename="nda.pdf",
        content=b"%PDF-1.4 x",
    )
    contract = create_contract(
        db_session,
        actor=w.staff,
        data=contract_data(w, "transfer", "patent_right", deal_id=deal.id),
    )
    add_payment(
        db_session,
        actor=w.staff,
        contract_id=contract.id,
        data={"received_on": "2025-03-02", "amount": "100"},
    )
    users = {
        "admin": w.admin,
        "staff": w.staff,
        "enterprise": w.ent_user,
        "manager": w.manager_user,
        "other_staff": make_user(
            db_session, "institution_staff", institution_id=make_institution(db_session).id
        ),
        "other_enterprise": make_user(
            db_session, "enterprise_user", enterprise_id=make_enterprise(db_session).id
        ),
        "other_manager": make_user(db_session, "tech_manager"),
    }
    return w, deal, contract, users


PARTIES = {"admin", "staff", "enterprise", "manager"}
READS = {
    "/deals/{deal}": PARTIES,
    "/api/v1/deals/{deal}": PARTIES,
    "/api/v1/deals/{deal}/documents/{doc}": PARTIES,
    "/api/v1/contracts/{contract}": PARTIES,
    "/api/v1/contracts/{contract}/distribution": PARTIES,
    "/api/v1/deals/{deal}/manager-suggestions": PARTIES,
    "/deals/board": {"admin", "manager"},
    "/api/v1/contracts/registration.json?ids={contract}": {"admin", "staff"},
}


@pytest.mark.parametrize(
    "role", ["anonymous", *PARTIES, "other_staff", "other_enterprise", "other_manager"]
)
def test_permission_matrix(db_session, client: TestClient, role: str) -> None:
    w, deal, contract, users = _world(db_session)
    doc = pipeline.documents(db_session, actor=w.staff, deal_id=deal.id)[0]
    if role != "anonymous":
        login(client, users[role])
    for path, allowed in READS.items():
        url = path.format(deal=deal.id, doc=doc.id, contract=contract.id)
        if path == "/deals/board" and role == "admin":
            url += f"?manager_id={w.manager.id}"
        response = client.get(url)
        if role in allowed:
            assert response.status_code == 200, (url, role, response.text[:300])
        else:
            assert response.status_code in (401, 403, 404), (url, role, response.status_code)
            assert "100" not in response.text or "nda" not in response.text


def test_api_flow_and_errors(db_session, client: TestClient) -> None:
    w, deal, contract, users = _world(db_session)
    login(client, w.manager_user)
    token = csrf_of(client, "/deals")
    headers = {"x-csrf-token": token}
    r = client.post(
        f"/api/v1/deals/{deal.id}/transitions", json={"action": "negotiate"}, headers=headers
    )
    assert r.status_code == 400 and r.json()["error"]["field"] == "action"
    assert "接洽" in r.json()["error"]["message"]
    r = client.post(
        f"/api/v1/deals/{deal.id}/transitions",
        json={"action": "sign_nda", "note": "已签保密协议"},
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["stage"] == "nda"
    r = client.get(f"/api/v1/deals/{deal.id}")
    assert r.json()["timeline"][0]["to"] == "nda"
    r = client.get(f"/api/v1/managers/{w.manager.id}")
    assert r.json()["track_record"]["by_stage"]["nda"] == 1
    r = client.post(
        "/api/v1/contracts",
        headers=headers,
        json=contract_data(w, "transfer", "patent_right", deal_id=deal.id, amount="-5"),
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "amount"
    r = client.get(f"/deals/{deal.id}")
    assert r.status_code == 200 and "保密协议" in r.text and "100 万元" in r.text
    r = client.get(f"/deals/{deal.id}?lang=en")
    assert "Timeline" in r.text
    r = client.get("/deals/board")
    assert r.status_code == 200 and deal.title in r.text
