"""SHUANGLIAN_TIMEZONE: pages show stored moments on the configured clock, labelled; the API
keeps ISO times with their offset whatever the setting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuanglian.audit import AuditEntry
from shuanglian.clock import zone_label
from shuanglian.config import Settings
from tests.web.factories import login, make_user

# 2026-01-15 23:30 UTC: 07:30 the next day in Beijing, 18:30 the same day in New York.
MOMENT = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)


def _entry(db_session) -> AuditEntry:  # type: ignore[no-untyped-def]
    entry = AuditEntry(at=MOMENT, actor_name="system", action="tz.check", detail={})
    db_session.add(entry)
    db_session.flush()
    return entry


def _audit_page(app: FastAPI, client: TestClient, db_session, zone: str | None) -> str:  # type: ignore[no-untyped-def]
    if zone is not None:
        app.state.settings = app.state.settings.model_copy(update={"timezone": zone})
    _entry(db_session)
    login(client, make_user(db_session, "admin"))
    page = client.get("/admin/audit?action=tz.check")
    assert page.status_code == 200, page.text[:300]
    return page.text


def test_pages_show_the_configured_zone_labelled(
    app: FastAPI, client: TestClient, db_session
) -> None:  # type: ignore[no-untyped-def]
    text = _audit_page(app, client, db_session, "America/New_York")
    assert "2026-01-15 18:30:00" in text
    assert "America/New_York UTC-5" in text
    assert "北京时间" not in text


def test_the_default_zone_is_beijing_time(app: FastAPI, client: TestClient, db_session) -> None:  # type: ignore[no-untyped-def]
    text = _audit_page(app, client, db_session, None)
    assert "2026-01-16 07:30:00" in text and "北京时间 UTC+8" in text


def test_day_filters_follow_the_zone(app: FastAPI, client: TestClient, db_session) -> None:  # type: ignore[no-untyped-def]
    app.state.settings = app.state.settings.model_copy(update={"timezone": "America/New_York"})
    _entry(db_session)
    login(client, make_user(db_session, "admin"))
    # The moment is on the 15th in New York (the 16th in Beijing).
    on_15th = client.get("/api/v1/audit?action=tz.check&date_from=2026-01-15&date_to=2026-01-15")
    assert on_15th.json()["total"] == 1
    on_16th = client.get("/api/v1/audit?action=tz.check&date_from=2026-01-16&date_to=2026-01-16")
    assert on_16th.json()["total"] == 0
    # The API answer keeps the ISO moment with its offset.
    at = datetime.fromisoformat(on_15th.json()["items"][0]["at"].replace("Z", "+00:00"))
    assert at == MOMENT and at.utcoffset() is not None


def test_a_summer_time_zone_labels_its_offset_of_the_day() -> None:
    assert zone_label("Europe/Berlin", datetime(2026, 7, 1, tzinfo=UTC)) == "Europe/Berlin UTC+2"
    assert zone_label("Asia/Kolkata", MOMENT) == "Asia/Kolkata UTC+5:30"


def test_an_unknown_zone_stops_the_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="Mars/Olympus"):
        Settings(home=tmp_path, timezone="Mars/Olympus")


def test_an_english_page_names_beijing_time_in_english(
    app: FastAPI, client: TestClient, db_session
) -> None:  # type: ignore[no-untyped-def]
    _entry(db_session)
    login(client, make_user(db_session, "admin"))
    english = client.get("/admin/audit?action=tz.check&lang=en").text
    assert "Beijing time UTC+8" in english and "北京时间" not in english
    assert zone_label("Asia/Shanghai", MOMENT, lang="en") == "Beijing time UTC+8"
