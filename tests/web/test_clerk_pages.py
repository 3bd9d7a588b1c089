"""Issue 14 pages through HTTP: the all-rejected import, /admin/orgs refusals, the flow page's
refusals beside their fields, GET on a job URL (never 405), reports for the own institution
only, and the CLI review queue naming number and title."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.audit import AuditEntry
from shuanglian.patents.models import Institution
from tests.patents.factories import cnipa_row
from tests.web.factories import csrf_of, login, make_institution, make_patent, make_user
from tests.web.upload_helpers import app_number, xlsx_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_file_whose_every_row_is_rejected_says_so(
    client: TestClient, db_session: Session
) -> None:
    institution = make_institution(db_session, "全拒大学")
    staff = make_user(db_session, "institution_staff", institution_id=institution.id)
    db_session.commit()
    login(client, staff)
    token = csrf_of(client, "/workspace/institution/imports")
    rows = [cnipa_row(申请号=app_number(f"20231000000{n}"), 专利名称="") for n in range(1, 4)]
    response = client.post(
        "/workspace/institution/patents/upload",
        data={"csrf_token": token},
        files={"file": ("bad.xlsx", xlsx_bytes(rows), XLSX)},
    )
    assert response.status_code == 200
    assert "全部 3 行均被拒绝" in response.text
    assert "其余 0 行" not in response.text


def test_admin_adds_an_institution_and_refusals_sit_beside_the_field(
    client: TestClient, db_session: Session
) -> None:
    admin = make_user(db_session, "admin")
    make_institution(db_session, "已有大学")
    db_session.commit()
    login(client, admin)
    token = csrf_of(client, "/admin/orgs")
    clash = client.post(
        "/admin/orgs/institutions",
        data={"csrf_token": token, "name": "已有大学", "kind": "institute"},
    )
    assert clash.status_code == 422 and 'id="err-inst-name"' in clash.text
    made = client.post(
        "/admin/orgs/institutions",
        data={"csrf_token": token, "name": "新建研究院", "kind": "institute", "region": "辽宁"},
        follow_redirects=True,
    )
    assert made.status_code == 200 and "尚未指定审核人" in made.text
    inst = db_session.scalar(select(Institution).where(Institution.name == "新建研究院"))
    assert inst is not None and inst.kind == "institute"
    bad_code = client.post(
        "/admin/orgs/enterprises",
        data={"csrf_token": token, "name": "某公司", "credit_code": "91110000000000000X"},
    )
    assert bad_code.status_code == 422 and 'id="err-ent-credit_code"' in bad_code.text
    orgs = client.get("/admin/orgs?lang=en").text
    assert "Research institute" in orgs  # a 研究院's kind in words, not "institute"
    assert db_session.scalar(select(AuditEntry).where(AuditEntry.action == "institution.create"))


def test_flow_refusals_and_reload_of_a_job_url(client: TestClient, db_session: Session) -> None:
    institution = make_institution(db_session, "流程大学")
    other = make_institution(db_session, "别的大学")
    staff = make_user(db_session, "institution_staff", institution_id=institution.id)
    make_patent(db_session, institution, legal_status="专利权届满终止")
    db_session.commit()
    login(client, staff)
    token = csrf_of(client, "/workspace/institution/flow")
    empty_name = client.post(
        "/workspace/institution/flow/batches", data={"csrf_token": token, "name": ""}
    )
    assert empty_name.status_code == 422 and 'id="err-batch-name"' in empty_name.text
    only_lapsed = client.post(
        "/workspace/institution/flow/batches", data={"csrf_token": token, "name": "第一批"}
    )
    assert only_lapsed.status_code == 422 and "也加入法律状态已失效的专利" in only_lapsed.text
    back = client.get("/workspace/institution/flow/push", follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"].endswith("/flow")
    assert client.get("/workspace/institution/report.json").json()["total"]["盘点数"] == 0
    assert (
        client.get(f"/workspace/institution/report.json?institution_id={other.id}").status_code
        == 403
    )
