"""Admins manage the registry in the browser: create and edit a platform with refusals at the
field, and upload the pilots spreadsheet with the row-error report (dry run writes nothing)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.audit import AuditEntry
from shuanglian.pilots.models import PilotPlatform
from tests.web.factories import csrf_of, login, make_user

FORM = {
    "name": "江苏新材料中试基地",
    "operator": "江苏省产业技术研究院",
    "level": "provincial",
    "province": "江苏",
    "city": "苏州",
    "industries": "26，30",
    "ipc_classes": "C22B",
    "services": ["pilot", "testing"],
    "capacity": "2",
    "equipment": "反应釜 2000L",
    "open_booking": "on",
}
CSV = """平台名称,运营单位,级别,省份,城市,行业代码,IPC分类,服务,产能
国家稀土功能材料中试平台,包头稀土研究院,国家级,内蒙古,包头,32,C22B,中试,1
坏行,某单位,县级,江苏,,26,,中试,1
坏产能,某单位,市级,江苏,,26,,中试,两个
"""


def _named(session: Session, name: str) -> PilotPlatform | None:
    return session.scalar(select(PilotPlatform).where(PilotPlatform.name == name))


def test_admin_creates_and_edits_a_platform(client: TestClient, db_session: Session) -> None:
    s = db_session
    admin = make_user(s, "admin")
    pilot_user = make_user(s, "pilot_platform")
    login(client, pilot_user)
    assert client.get("/pilots/new").status_code == 403
    assert client.get("/admin/pilots").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_of(client, "/challenges")})

    login(client, admin)
    assert "/admin/pilots" in client.get("/admin/users").text
    token = csrf_of(client, "/pilots/new")
    bad = client.post("/pilots/new", data={**FORM, "industries": "99", "csrf_token": token})
    assert bad.status_code == 422 and "未知的行业代码" in bad.text
    assert 'value="江苏新材料中试基地"' in bad.text  # what was typed stays
    assert _named(s, FORM["name"]) is None
    bad = client.post("/pilots/new", data={**FORM, "services": [], "csrf_token": token})
    assert bad.status_code == 422 and "至少选择一项服务" in bad.text
    made = client.post("/pilots/new", data={**FORM, "csrf_token": token}, follow_redirects=False)
    assert made.status_code == 303
    p = _named(s, FORM["name"])
    assert p is not None and p.industries == ",26,30," and p.capacity == 2
    assert f"/pilots/{p.id}/edit" in client.get(f"/pilots/{p.id}").text
    dup = client.post("/pilots/new", data={**FORM, "csrf_token": token})
    assert dup.status_code == 422 and "已存在" in dup.text

    edit = client.get(f"/pilots/{p.id}/edit")
    assert edit.status_code == 200 and 'value="反应釜' not in edit.text  # textarea, not input
    assert "反应釜 2000L" in edit.text and 'name="back" value="edit"' in edit.text
    bad = client.post(
        f"/pilots/{p.id}/edit",
        data={**FORM, "capacity": "0", "back": "edit", "csrf_token": token},
    )
    assert bad.status_code == 422 and "产能" in bad.text and "编辑平台" in bad.text
    s.refresh(p)
    assert p.capacity == 2
    saved = client.post(
        f"/pilots/{p.id}/edit",
        data={**FORM, "capacity": "5", "level": "national", "back": "edit", "csrf_token": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    s.refresh(p)
    assert (p.capacity, p.level) == (5, "national")
    listed = client.get("/admin/pilots?q=新材料")
    assert FORM["name"] in listed.text and f"/pilots/{p.id}/edit" in listed.text
    actions = set(s.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == admin.id)))
    assert {"pilot.create", "pilot.update"} <= actions


def test_admin_uploads_the_pilots_spreadsheet(client: TestClient, db_session: Session) -> None:
    s = db_session
    login(client, make_user(s, "admin"))
    token = csrf_of(client, "/admin/pilots")
    files = {"file": ("pilots.csv", CSV.encode(), "text/csv")}
    dry = client.post(
        "/admin/pilots/upload", data={"csrf_token": token, "dry_run": "true"}, files=files
    )
    assert dry.status_code == 200 and "试运行" in dry.text
    assert 'data-count="inserted">1<' in dry.text and 'data-count="rejected">2<' in dry.text
    assert _named(s, "国家稀土功能材料中试平台") is None  # a dry run writes nothing
    real = client.post("/admin/pilots/upload", data={"csrf_token": token}, files=files)
    assert real.status_code == 200 and 'data-count="inserted">1<' in real.text
    assert "级别" in real.text and "产能" in real.text and "<td>3</td>" in real.text
    assert "/workspace/imports/errors/" in real.text  # the full list as CSV
    assert _named(s, "国家稀土功能材料中试平台") is not None
    wrong = client.post(
        "/admin/pilots/upload",
        data={"csrf_token": token},
        files={"file": ("pilots.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert wrong.status_code == 415 and "不支持的文件类型" in wrong.text
    none = client.post("/admin/pilots/upload", data={"csrf_token": token})
    assert none.status_code == 422 and "请选择要上传的文件" in none.text
