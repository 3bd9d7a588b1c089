"""/admin/audit and /api/v1/audit: imports by file name, who sees what, filters, words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.audit import AuditEntry, record_audit
from tests.web.factories import csrf_of, login, make_enterprise, make_institution, make_user
from tests.web.upload_helpers import XLSX, sample_path

FILE = "2025年度存量专利-导出.csv"


def _staff_uploads_patents(client: TestClient, db_session: Session, shared_dir: Path):  # type: ignore[no-untyped-def]
    institution = make_institution(db_session, "中科大数据研究院")
    staff = make_user(db_session, "institution_staff", institution_id=institution.id)
    login(client, staff)
    token = csrf_of(client, "/workspace/institution/imports")
    response = client.post(
        "/workspace/institution/patents/upload",
        data={"csrf_token": token},
        files={"file": (FILE, sample_path(shared_dir).read_bytes(), XLSX)},
    )
    assert response.status_code == 200, response.text[:1000]
    return institution, staff


def test_admin_sees_a_patent_import_by_file_name_and_counts(
    client: TestClient, db_session: Session, shared_dir: Path
) -> None:
    institution, staff = _staff_uploads_patents(client, db_session, shared_dir)
    [entry] = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "import.patents"))
    assert entry.actor_id == staff.id and entry.institution_id == institution.id
    assert entry.detail["file"] == FILE and entry.detail["inserted"] == 10
    client.post("/logout", data={"csrf_token": csrf_of(client, "/account")})
    login(client, make_user(db_session, "admin"))
    page = client.get("/admin/audit", params={"action": "import"})
    assert page.status_code == 200
    assert "<td>导入专利</td>" in page.text
    assert f"文件 {FILE}：新增 10，更新 0，未变 0，拒绝 0" in page.text
    assert (
        f'<a href="/patents?institution_id={institution.id}">机构：中科大数据研究院</a>'
        in page.text
    )
    english = client.get("/admin/audit", params={"action": "import", "lang": "en"}).text
    assert "Imported patents" in english and f"file {FILE}: 10 new" in english
    api = client.get("/api/v1/audit", params={"action": "import.patents", "lang": "zh"}).json()
    assert api["total"] == 1
    [item] = api["items"]
    assert item["action_label"] == "导入专利" and item["username"] == staff.username
    assert (
        FILE in item["detail_text"] and item["link"] == f"/patents?institution_id={institution.id}"
    )


def test_staff_see_only_their_institution_and_others_are_refused(
    client: TestClient, db_session: Session
) -> None:
    mine, theirs = make_institution(db_session), make_institution(db_session)
    staff = make_user(db_session, "institution_staff", institution_id=mine.id)
    record_audit(db_session, actor=None, action="pool.tiers", subject=mine, detail={"n": 1})
    record_audit(db_session, actor=None, action="pool.tiers", subject=theirs, detail={"n": 2})
    record_audit(db_session, actor=None, action="pool.assess", subject=None)  # platform-wide
    login(client, staff)
    items = client.get("/api/v1/audit").json()["items"]
    assert items and {i["institution_id"] for i in items} == {mine.id}
    assert [i["detail"] for i in items if i["action"] == "pool.tiers"] == [{"n": 1}]
    page = client.get("/admin/audit")
    assert page.status_code == 200 and "仅显示与本机构有关的记录" in page.text
    client.post("/logout", data={"csrf_token": csrf_of(client, "/account")})
    enterprise = make_enterprise(db_session)
    for role in ("tech_manager", "enterprise_user", "pilot_platform"):
        login(client, make_user(db_session, role, enterprise_id=enterprise.id))
        assert client.get("/api/v1/audit").status_code == 403
        assert client.get("/admin/audit").status_code == 403
        client.post("/logout", data={"csrf_token": csrf_of(client, "/account")})
    assert client.get("/api/v1/audit").status_code in (401, 403)


def test_filters_by_user_action_kind_and_day(client: TestClient, db_session: Session) -> None:
    admin = make_user(db_session, "admin")
    other = make_user(db_session, "admin")
    inst = make_institution(db_session)
    listing = ("market_listings", 7)
    change = {"from": "published", "to": "withdrawn"}
    a = record_audit(
        db_session, actor=other, action="listing.status", subject=listing, detail=change
    )
    b = record_audit(db_session, actor=other, action="institution.create", subject=inst)
    old = record_audit(
        db_session, actor=other, action="listing.update", subject=("market_listings", 7)
    )
    old.at = datetime(2024, 1, 10, 17, 0, tzinfo=UTC)  # 2024-01-11 01:00 in Beijing
    db_session.flush()
    login(client, admin)

    def ids(**params: str) -> list[int]:
        rows = client.get("/api/v1/audit", params={"limit": 100, **params}).json()["items"]
        return [r["id"] for r in rows]

    assert set(ids(username=other.username)) == {a.id, b.id, old.id}
    assert ids(username=other.username, action="listing") == [
        old.id,
        a.id,
    ]  # newest (highest id) first
    assert ids(username=other.username, action="listing.status") == [a.id]
    assert ids(username=other.username, subject_type="institutions") == [b.id]
    assert ids(username=other.username, date_from="2024-01-11", date_to="2024-01-11") == [old.id]
    assert old.id not in ids(username=other.username, date_to="2024-01-10")
    today = (datetime.now(UTC) + timedelta(hours=8)).date().isoformat()
    assert set(ids(username=other.username, date_from=today)) == {a.id, b.id}
    page = client.get("/admin/audit", params={"username": other.username, "action": "listing"})
    assert "已上架 → 已下架/已撤回" in page.text and "成果 #7" in page.text
    bad = client.get("/admin/audit", params={"date_from": "2024-13-01"})
    assert bad.status_code in (400, 422) and "YYYY-MM-DD" in bad.text
    reversed_ = client.get(
        "/api/v1/audit", params={"date_from": "2024-02-01", "date_to": "2024-01-01"}
    )
    assert reversed_.status_code in (400, 422) and reversed_.json()["error"]["field"] == "date_from"
