"""Bad input from the issue (10, "Bad input"): each is a 4xx naming the field, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.factories import csrf_of, login, make_institution, make_user

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/api/v1/inventory/items?batch_id={HUGE}", "batch_id"),
        (f"/api/v1/inventory/pool?institution_id={HUGE}", "institution_id"),
        (f"/api/v1/inventory/pushes?enterprise_id={HUGE}", "enterprise_id"),
        (f"/api/v1/inventory/report?institution_id={HUGE}", "institution_id"),
        ("/api/v1/inventory/pool?tier=99999999999", "tier"),
        (f"/workspace/institution/assessments/template.xlsx?batch_id={HUGE}", "batch_id"),
        ("/api/v1/listings?price_min=1e-999999", "price_min"),
        ("/api/v1/listings?price_max=1e999", "price_max"),
    ],
)
def test_out_of_range_numbers_are_4xx_naming_the_field(
    path: str, field: str, client: TestClient, db_session
) -> None:
    admin = make_user(db_session, "admin")
    login(client, admin)
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:300])
    if response.headers["content-type"].startswith("application/json"):
        assert response.json()["error"]["field"] == field, response.json()
    else:
        assert field in response.text or "price" in response.text


def test_a_vanishingly_small_price_filter_is_zero_on_the_page(client: TestClient) -> None:
    """PostgreSQL's numeric cannot hold 1e-999999: the form's amount is rounded to the stored
    4 decimal places first (it was a 500 on PostgreSQL)."""
    assert client.get("/market?price_min=1e-999999").status_code == 200


def test_writes_with_bad_ids_and_long_text_are_4xx_naming_the_field(
    client: TestClient, db_session
) -> None:
    inst = make_institution(db_session)
    login(client, make_user(db_session, "admin"))
    headers = {"X-CSRF-Token": csrf_of(client, "/account")}
    cases = [
        ("/api/v1/inventory/push-rounds", {"institution_id": 0}, "institution_id"),
        ("/api/v1/inventory/batches", {"institution_id": inst.id, "name": "批" * 201}, "name"),
        (
            "/api/v1/inventory/batches",
            {"institution_id": int(HUGE), "name": "批"},
            "institution_id",
        ),
        ("/api/v1/inventory/batches", {"institution_id": inst.id, "name": "a\x00b"}, "name"),
        (
            "/api/v1/inventory/feedback",
            {"patent_id": int(HUGE), "prospect": 3, "intent": "无"},
            "patent_id",
        ),
        (
            "/api/v1/deals",
            {"institution_id": inst.id, "enterprise_id": int(HUGE), "title": "x"},
            "enterprise_id",
        ),
        ("/api/v1/notifications/read", {"ids": [int(HUGE)]}, "ids"),
    ]
    wrong = []
    for path, body, field in cases:
        r = client.post(path, json=body, headers=headers)
        error = (
            r.json().get("error", {})
            if r.headers["content-type"].startswith("application/json")
            else {}
        )
        if not (400 <= r.status_code < 500) or field not in str(error.get("field")):
            wrong.append((path, body if len(str(body)) < 80 else field, r.status_code, error))
    assert not wrong, wrong


def test_1e999_in_a_feedback_csv_is_a_row_error(client: TestClient, db_session) -> None:
    from shuanglian.inventory.importers import FEEDBACK_HEADERS
    from tests.web.factories import make_enterprise

    ent = make_enterprise(db_session)
    login(client, make_user(db_session, "enterprise_user", enterprise_id=ent.id))
    header = list(FEEDBACK_HEADERS.values())
    row = {h: "" for h in header}
    row[FEEDBACK_HEADERS["push_id"]] = "1e999"
    row[FEEDBACK_HEADERS["prospect"]] = "1e999"
    row[FEEDBACK_HEADERS["intent"]] = "洽谈"
    body = (",".join(header) + "\n" + ",".join(row[h] for h in header) + "\n").encode()
    r = client.post(
        "/api/v1/inventory/feedback/upload?dry_run=true",
        files={"file": ("f.csv", body, "text/csv")},
        headers={"X-CSRF-Token": csrf_of(client, "/account")},
    )
    assert r.status_code == 200, r.text[:300]
    report = r.json()
    assert report["rejected"] == 1
    assert report["errors"][0]["field"] == FEEDBACK_HEADERS["push_id"]


def test_every_moment_in_an_api_answer_carries_its_time_zone(
    client: TestClient, db_session
) -> None:
    """SQLite hands back naive UTC; the API answer must still say it is UTC."""
    from datetime import datetime

    from shuanglian.accounts import service

    user = make_user(db_session, "tech_manager")
    service.create_api_token(db_session, user=user, name="ci")
    db_session.commit()
    login(client, user)
    [token] = client.get("/api/v1/tokens").json()
    stamp = datetime.fromisoformat(token["created_at"].replace("Z", "+00:00"))
    assert stamp.utcoffset() is not None


def test_pages_show_beijing_time_labelled() -> None:
    from datetime import UTC, datetime

    from shuanglian.web.templating import local_time

    naive_utc = datetime(2026, 1, 1, 0, 30)  # as SQLite hands it back
    shown = str(local_time({}, naive_utc))
    assert "2026-01-01 08:30" in shown and "北京时间" in shown
    assert str(local_time({}, datetime(2026, 1, 1, 0, 30, tzinfo=UTC))) == shown
    assert str(local_time({}, None)) == "—"
