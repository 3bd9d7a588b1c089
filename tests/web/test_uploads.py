"""Patent uploads in the institution workspace (issue 5): real files, real databases.

Each test drives the page or the JSON API through HTTP on SQLite and PostgreSQL and then
looks at the rows the import left (or did not leave) in the database.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.patents.importers import import_patents
from shuanglian.patents.models import Institution, Patent
from shuanglian.web.uploads import (
    MULTIPART_SLACK_BYTES,
    UploadRefused,
    check_content,
    is_upload_path,
    safe_filename,
)
from tests.patents.factories import cnipa_row
from tests.web.factories import csrf_of, login, make_enterprise, make_institution, make_user
from tests.web.upload_helpers import (
    XLSX,
    app_number,
    client_with,
    counts,
    csv_bytes,
    error_rows,
    numbered_rows,
    sample_path,
    sample_rows,
    upload_leftovers,
    xlsx_bytes,
)

PAGE = "/workspace/institution/imports"
UPLOAD = "/workspace/institution/patents/upload"
API = "/api/v1/patents/upload"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def _patents_of(session: Session, institution_id: int) -> list[Patent]:
    session.expire_all()
    stmt = select(Patent).where(Patent.institution_id == institution_id).order_by(Patent.id)
    return list(session.scalars(stmt))


def _patent_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Patent)) or 0


def _staff(client: TestClient, session: Session, name: str = "中科大数据研究院"):  # type: ignore[no-untyped-def]
    institution = make_institution(session, name)
    staff = make_user(session, "institution_staff", institution_id=institution.id)
    session.commit()
    login(client, staff)
    return institution, staff, csrf_of(client, PAGE)


def _upload(
    client: TestClient, token: str, name: str, content: bytes, **form: str
) -> tuple[int, str]:
    response = client.post(
        UPLOAD, data={"csrf_token": token, **form}, files={"file": (name, content, XLSX)}
    )
    return response.status_code, response.text


# --------------------------------------------------------------------------- the happy path


def test_staff_imports_the_cnipa_sample_through_the_page(
    client: TestClient, db_session: Session, db_settings: Settings, shared_dir: Path
) -> None:
    institution, _, token = _staff(client, db_session)
    page = client.get(PAGE)
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    sample = sample_path(shared_dir)
    status, html = _upload(client, token, sample.name, sample.read_bytes())
    assert status == 200, html[:2000]
    assert counts(html) == {"inserted": 10, "updated": 0, "unchanged": 0, "rejected": 0}
    patents = _patents_of(db_session, institution.id)
    assert len(patents) == 10
    assert {p.source_file for p in patents} == {sample.name}
    assert "一种无人机机载多功能盒" in {p.title for p in patents}
    workspace = client.get("/workspace/institution")
    assert "全部专利" in workspace.text and "(10)" in workspace.text
    assert upload_leftovers(db_settings) == []
    # The same file again: an upsert, nothing duplicated.
    status, html = _upload(client, token, sample.name, sample.read_bytes())
    assert counts(html)["unchanged"] == 10 and len(_patents_of(db_session, institution.id)) == 10


def test_bad_rows_are_listed_and_the_good_rows_kept(
    client: TestClient, db_session: Session, db_settings: Settings, shared_dir: Path
) -> None:
    institution, staff, token = _staff(client, db_session)
    good = sample_rows(shared_dir)
    bad = [
        cnipa_row(申请号=app_number("202310000001"), 专利名称=""),  # sheet row 12: no title
        cnipa_row(申请号="CN202223220665.3"),  # row 13: wrong check digit
        cnipa_row(申请号=app_number("202310000002"), 申请日="2022-13-45"),  # row 14: bad date
    ]
    status, html = _upload(client, token, "清单.xlsx", xlsx_bytes(good + bad))
    assert status == 200, html[:2000]
    assert counts(html) == {"inserted": 10, "updated": 0, "unchanged": 0, "rejected": 3}
    rows = error_rows(html)
    assert [(r, f) for r, f, _ in rows] == [(12, "专利名称"), (13, "申请号"), (14, "申请日")]
    assert "校验位" in rows[1][2]
    assert "其余" in html and "行已保存" in html
    assert len(_patents_of(db_session, institution.id)) == 10
    # The whole list as CSV, for this user only.
    link = html.split('href="/workspace/imports/errors/', 1)[1].split('"', 1)[0]
    download = client.get(f"/workspace/imports/errors/{link}")
    assert download.status_code == 200
    text = download.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("行号") and len(text.strip().splitlines()) == 4
    other = make_user(db_session, "institution_staff", institution_id=institution.id)
    db_session.commit()
    login(client, other)
    assert client.get(f"/workspace/imports/errors/{link}").status_code == 404
    assert client.get("/workspace/imports/errors/..%2F..%2Fshuanglian.db.csv").status_code == 404
    assert staff.id != other.id


def test_error_table_is_capped_and_the_csv_has_every_row(
    client: TestClient, db_session: Session
) -> None:
    _staff(client, db_session)
    token = csrf_of(client, PAGE)
    rows = [dict(r, 专利名称="") for r in numbered_rows(250)]
    rows.append(dict(next(numbered_rows(1, start=999)), 专利名称='=HYPERLINK("x")'))
    status, html = _upload(client, token, "big.csv", csv_bytes(rows))
    assert status == 200
    assert counts(html)["rejected"] == 250 and counts(html)["inserted"] == 1
    assert len(error_rows(html)) == 200 and "只显示前" in html
    link = html.split('href="/workspace/imports/errors/', 1)[1].split('"', 1)[0]
    lines = client.get(f"/workspace/imports/errors/{link}").content.decode("utf-8-sig").splitlines()
    assert len(lines) == 251


def test_dry_run_writes_nothing(client: TestClient, db_session: Session, shared_dir: Path) -> None:
    institution, _, token = _staff(client, db_session)
    institutions_before = db_session.scalar(select(func.count()).select_from(Institution))
    sample = sample_path(shared_dir)
    status, html = _upload(client, token, sample.name, sample.read_bytes(), dry_run="1")
    assert status == 200
    assert "试运行" in html and counts(html)["inserted"] == 10
    assert _patent_count(db_session) == 0
    assert db_session.scalar(select(func.count()).select_from(Institution)) == institutions_before
    assert _patents_of(db_session, institution.id) == []


def test_uspto_xml_is_imported_for_the_institution(client: TestClient, db_session: Session) -> None:
    institution, _, token = _staff(client, db_session, "XML 测试大学")
    xml = Path(__file__).resolve().parents[2] / "demo" / "patents_uspto_sample.xml"
    status, html = _upload(client, token, xml.name, xml.read_bytes())
    assert status == 200, html[:2000]
    inserted = counts(html)["inserted"]
    assert inserted >= 1 and len(_patents_of(db_session, institution.id)) == inserted


def test_patentsview_g_patent_table_is_imported(
    client: TestClient, db_session: Session, shared_dir: Path
) -> None:
    """A single g_patent.tsv (real NVIDIA records, PatentsView's columns) is recognised."""
    import csv
    import io

    from tests.patents.factories import read_sample_rows

    rows = read_sample_rows(shared_dir / "data/samples/en_patents_nvidia_sample150.csv")[:5]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(["patent_id", "patent_type", "patent_date", "patent_title", "wipo_kind"])
    writer.writerows([r["patent_id"], "utility", r["patent_date"], r["title"], "B2"] for r in rows)
    institution, _, token = _staff(client, db_session, "PatentsView 大学")
    status, html = _upload(client, token, "g_patent.tsv", buffer.getvalue().encode())
    assert status == 200, html[:2000]
    assert counts(html)["inserted"] == 5
    assert {p.title for p in _patents_of(db_session, institution.id)} == {r["title"] for r in rows}


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("name", "content", "status", "words"),
    [
        ("清单.xlsx", PNG, 415, "不是 Excel"),  # a PNG renamed .xlsx
        ("photo.png", PNG, 415, "不支持的文件类型 .png"),
        ("清单.csv", PNG + b"\x00" * 200, 415, "不是文本表格"),
        ("清单.csv", b"\x00\x01\x02\x03" * 300, 415, "二进制"),
        ("grant.xml", "申请号,专利名称\n".encode(), 415, "不是 XML"),
        ("清单.xlsx", b"PK\x03\x04 not really a workbook", 422, "Excel"),
        ("empty.csv", b"", 422, "空的"),
        ("table.csv", b"a,b\n1,2\n", 422, "--mapping"),
    ],
)
def test_refused_files_are_explained_beside_the_file_field(
    client: TestClient,
    db_session: Session,
    db_settings: Settings,
    name: str,
    content: bytes,
    status: int,
    words: str,
) -> None:
    _staff(client, db_session)
    token = csrf_of(client, PAGE)
    got, html = _upload(client, token, name, content)
    assert got == status, html[:2000]
    assert 'id="err-patents-file"' in html and words in html
    assert 'aria-describedby="err-patents-file"' in html
    assert "Traceback" not in html
    assert _patent_count(db_session) == 0
    assert upload_leftovers(db_settings) == []


def test_an_unknown_format_is_explained_beside_the_format_field(
    client: TestClient, db_session: Session, shared_dir: Path
) -> None:
    _staff(client, db_session)
    token = csrf_of(client, PAGE)
    sample = sample_path(shared_dir)
    status, html = _upload(client, token, sample.name, sample.read_bytes(), format="csv")
    assert status == 422 and 'id="err-patents-format"' in html
    assert _patent_count(db_session) == 0


def test_no_file_chosen(client: TestClient, db_session: Session) -> None:
    _staff(client, db_session)
    token = csrf_of(client, PAGE)
    response = client.post(UPLOAD, data={"csrf_token": token}, files={"file": ("", b"", XLSX)})
    assert response.status_code == 422 and "请选择要上传的文件" in response.text


def test_oversize_files_are_refused_with_413(
    db_settings: Settings, db_session: Session, shared_dir: Path
) -> None:
    with client_with(db_settings, db_session, max_upload_mb=1) as client:
        _staff(client, db_session)
        token = csrf_of(client, PAGE)
        # Just over the file limit, inside the body's framing allowance: refused while copied.
        just_over = b"x" * (1024 * 1024 + 1)
        status, html = _upload(client, token, "big.csv", just_over)
        assert status == 413 and 'id="err-patents-file"' in html and "上限 1 MB" in html
        # Far over: refused from Content-Length before the body is read, in the site's style.
        far_over = b"x" * (1024 * 1024 + MULTIPART_SLACK_BYTES + 10)
        status, html = _upload(client, token, "big.csv", far_over)
        assert status == 413 and "请求体过大" in html and 'class="error-page"' in html
        api = client.post(
            API,
            headers={"X-CSRF-Token": token},
            files={"file": ("big.csv", far_over, "text/csv")},
        )
        assert api.status_code == 413 and api.json()["error"]["code"] == "too_large"
        # A chunked body declares no length: counted as it arrives.
        chunks = (b"y" * 65536 for _ in range(40))
        streamed = client.post(
            API,
            headers={"X-CSRF-Token": token, "content-type": "multipart/form-data; boundary=b"},
            content=chunks,
        )
        assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "too_large"
        assert _patent_count(db_session) == 0
        assert upload_leftovers(db_settings) == []
        # Within the limit, the real sample goes through on the same app.
        sample = sample_path(shared_dir)
        status, html = _upload(client, token, sample.name, sample.read_bytes())
        assert status == 200 and counts(html)["inserted"] == 10


def test_the_larger_limit_is_only_for_upload_endpoints(
    db_settings: Settings, db_session: Session
) -> None:
    with client_with(db_settings, db_session, max_upload_mb=4) as client:
        _staff(client, db_session)
        token = csrf_of(client, PAGE)
        abstract = "本发明公开了一种从废旧锂电池中回收钴和锂的方法，" * 20
        rows = [dict(r, 申请摘要=abstract) for r in numbered_rows(2000)]
        content = csv_bytes(rows)
        assert 2 * 1024 * 1024 < len(content) < 4 * 1024 * 1024
        status, html = _upload(client, token, "3mb.csv", content, dry_run="1")
        assert status == 200 and counts(html)["inserted"] == 2000
        other = client.post(
            "/workspace/enterprise/profile",
            data={"csrf_token": token, "business_scope": "x" * (3 * 1024 * 1024)},
        )
        assert other.status_code == 413


def test_a_file_that_fails_as_a_whole_leaves_the_database_as_it_was(
    db_settings: Settings, db_session: Session
) -> None:
    """Rows are written in batches of 2; an encoding error after 300 KiB undoes them all."""
    with client_with(db_settings, db_session, import_batch_size=2) as client:
        institution, _, token = _staff(client, db_session)
        good = csv_bytes(list(numbered_rows(3000)))
        assert len(good) > 300 * 1024  # past the encoding sniffer's 256 KiB sample
        broken = good + "CN202399999999.1,,20221202,发明,".encode() + b"\xff\xfe\xfd\n"
        status, html = _upload(client, token, "broken.csv", broken)
        assert status == 422 and 'id="err-patents-file"' in html and "编码" in html
        assert _patents_of(db_session, institution.id) == []
        assert _patent_count(db_session) == 0


def test_generic_csv_is_sent_to_the_command_line(
    client: TestClient, db_session: Session, shared_dir: Path
) -> None:
    _staff(client, db_session)
    token = csrf_of(client, PAGE)
    nvidia = shared_dir / "data/samples/en_patents_nvidia_sample150.csv"
    status, html = _upload(client, token, nvidia.name, nvidia.read_bytes())
    assert status == 422 and "shuanglian import patents" in html and "--mapping" in html


# --------------------------------------------------------------------------- who may import


def test_staff_cannot_take_over_another_institutions_patents(
    client: TestClient, db_session: Session, shared_dir: Path
) -> None:
    sample = sample_path(shared_dir)
    holder = make_institution(db_session, "原单位")
    import_patents(db_session, path=sample, institution=holder.name)
    db_session.commit()
    titles = {p.application_key: p.title for p in _patents_of(db_session, holder.id)}
    institution, _, token = _staff(client, db_session, "另一单位")
    changed = [dict(r, 专利名称="篡改后的名称") for r in sample_rows(shared_dir)]
    status, html = _upload(client, token, "takeover.csv", csv_bytes(changed))
    assert status == 200
    assert counts(html)["rejected"] == 10 and counts(html)["inserted"] == 0
    assert all("不属于本单位" in message for _, _, message in error_rows(html))
    kept = _patents_of(db_session, holder.id)
    assert {p.application_key: p.title for p in kept} == titles
    assert _patents_of(db_session, institution.id) == []


def test_staff_cannot_take_over_unowned_patents(
    client: TestClient, db_session: Session, shared_dir: Path
) -> None:
    """A patent the operator imported without a holder is not the uploader's to claim or
    retitle (issue 10: "US10/991,571",Hijacked by tto); new patents in the same file import."""
    from shuanglian.patents.models import Patent

    sample = sample_path(shared_dir)
    rows = sample_rows(shared_dir)
    import_patents(db_session, path=sample)  # the operator's CLI, no institution
    db_session.commit()
    before = {p.application_key: (p.title, p.institution_id) for p in db_session.query(Patent)}
    assert set(v[1] for v in before.values()) == {None}
    institution, _, token = _staff(client, db_session, "想接管的单位")
    changed = [dict(r, 专利名称="Hijacked by tto") for r in rows]
    status, html = _upload(client, token, "takeover.csv", csv_bytes(changed))
    assert status == 200
    assert counts(html)["rejected"] == len(rows) and counts(html)["inserted"] == 0
    assert all("不属于本单位" in message for _, _, message in error_rows(html))
    db_session.expire_all()
    after = {p.application_key: (p.title, p.institution_id) for p in db_session.query(Patent)}
    assert after == before
    assert _patents_of(db_session, institution.id) == []


def test_the_operators_cli_import_still_moves_patents(
    db_session: Session, shared_dir: Path
) -> None:
    """The CLI (platform operator) keeps its documented behaviour: the named institution wins."""
    sample = sample_path(shared_dir)
    first = make_institution(db_session, "甲单位")
    second = make_institution(db_session, "乙单位")
    import_patents(db_session, path=sample, institution=first.name)
    report = import_patents(db_session, path=sample, institution=second.name)
    assert report.updated == 10 and report.rejected == 0
    assert len(_patents_of(db_session, second.id)) == 10


@pytest.mark.parametrize("who", ["anonymous", "other_staff", "enterprise", "tech_manager"])
def test_others_cannot_import_into_an_institution(
    who: str, client: TestClient, db_session: Session, shared_dir: Path
) -> None:
    institution = make_institution(db_session, "目标单位")
    if who == "other_staff":
        user = make_user(
            db_session, "institution_staff", institution_id=make_institution(db_session).id
        )
    elif who == "enterprise":
        user = make_user(
            db_session, "enterprise_user", enterprise_id=make_enterprise(db_session).id
        )
    elif who == "tech_manager":
        user = make_user(db_session, "tech_manager")
    db_session.commit()
    if who != "anonymous":
        login(client, user)
    token = csrf_of(client, "/login")
    sample = sample_path(shared_dir)
    page = client.post(
        UPLOAD,
        data={"csrf_token": token, "institution_id": str(institution.id)},
        files={"file": (sample.name, sample.read_bytes(), "text/csv")},
    )
    assert page.status_code == 403 and "Traceback" not in page.text
    api = client.post(
        f"{API}?institution_id={institution.id}",
        headers={"X-CSRF-Token": token},
        files={"file": (sample.name, sample.read_bytes(), "text/csv")},
    )
    assert api.status_code == 403 and api.json()["error"]["code"] == "forbidden"
    assert _patent_count(db_session) == 0


def test_admin_imports_for_a_chosen_institution(
    client: TestClient, db_session: Session, shared_dir: Path
) -> None:
    institution = make_institution(db_session, "管理员选定单位")
    admin = make_user(db_session, "admin")
    db_session.commit()
    login(client, admin)
    chooser = client.get(PAGE)
    assert chooser.status_code == 200 and "请选择一个机构" in chooser.text
    token = csrf_of(client, f"{PAGE}?institution_id={institution.id}")
    sample = sample_path(shared_dir)
    status, html = _upload(
        client, token, sample.name, sample.read_bytes(), institution_id=str(institution.id)
    )
    assert status == 200 and counts(html)["inserted"] == 10
    assert len(_patents_of(db_session, institution.id)) == 10
    no_choice = client.post(
        API, headers={"X-CSRF-Token": token}, files={"file": (sample.name, b"x", "text/csv")}
    )
    assert no_choice.status_code == 400 and no_choice.json()["error"]["field"] == "institution_id"


def test_multipart_forms_need_the_csrf_token(
    client: TestClient, db_session: Session, shared_dir: Path
) -> None:
    _staff(client, db_session)
    sample = sample_path(shared_dir)
    forged = client.post(UPLOAD, files={"file": (sample.name, sample.read_bytes(), "text/csv")})
    assert forged.status_code == 403
    api = client.post(API, files={"file": (sample.name, sample.read_bytes(), "text/csv")})
    assert api.status_code == 403 and api.json()["error"]["code"] == "csrf"
    assert _patent_count(db_session) == 0


# --------------------------------------------------------------------------- the JSON API


def test_api_upload_answers_the_import_report(
    client: TestClient, db_session: Session, shared_dir: Path
) -> None:
    from shuanglian.accounts.service import create_api_token

    institution = make_institution(db_session, "API 单位")
    staff = make_user(db_session, "institution_staff", institution_id=institution.id)
    _, bearer = create_api_token(db_session, user=staff, name="script")
    db_session.commit()
    rows = sample_rows(shared_dir) + [cnipa_row(申请号=app_number("202310000001"), 专利名称="")]
    response = client.post(
        f"{API}?dry_run=true",
        headers={"Authorization": f"Bearer {bearer}"},
        files={"file": ("list.xlsx", xlsx_bytes(rows), XLSX)},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dry_run"] is True and body["inserted"] == 10 and body["rejected"] == 1
    assert body["errors"] == [
        {"row": 12, "field": "专利名称", "message": "缺少专利名称（title is missing）"}
    ]
    assert _patent_count(db_session) == 0
    real = client.post(
        API,
        headers={"Authorization": f"Bearer {bearer}"},
        files={"file": ("list.xlsx", xlsx_bytes(rows), XLSX)},
    )
    assert real.json()["inserted"] == 10 and len(_patents_of(db_session, institution.id)) == 10
    refused = client.post(
        API,
        headers={"Authorization": f"Bearer {bearer}"},
        files={"file": ("list.xlsx", PNG, XLSX)},
    )
    assert refused.status_code == 415 and refused.json()["error"]["field"] == "file"


# --------------------------------------------------------------------------- the pieces


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("清单.xlsx", "清单.xlsx"),
        ("C:\\Users\\clerk\\Desktop\\2026 专利.xlsx", "2026 专利.xlsx"),
        ("../../etc/passwd.csv", "passwd.csv"),
        ("a\x00b;rm -rf.csv", "a_b_rm -rf.csv"),
        ("..", "upload.csv"),
        ("g_patent.tsv", "g_patent.tsv"),
        ("x" * 300 + ".xlsx", "x" * 115 + ".xlsx"),
    ],
)
def test_safe_filename(sent: str, kept: str) -> None:
    assert safe_filename(sent, fallback_suffix=".csv") == kept


def test_check_content_looks_past_a_byte_order_mark(tmp_path: Path) -> None:
    xml = tmp_path / "a.xml"
    xml.write_bytes(b"\xef\xbb\xbf\n  <?xml version='1.0'?><a/>")
    check_content(xml, ".xml")
    gbk = tmp_path / "a.csv"
    gbk.write_bytes("申请号,专利名称\nCN1,一种装置\n".encode("gbk"))
    check_content(gbk, ".csv")
    with pytest.raises(UploadRefused):
        check_content(xml, ".xlsx")


def test_upload_endpoints_are_exactly_the_upload_routes() -> None:
    """The larger body limit applies to paths ending in /upload; these are all of them."""
    modules = [
        "shuanglian.patents.pages",
        "shuanglian.patents.api",
        "shuanglian.enterprises.pages",
        "shuanglian.enterprises.api",
        "shuanglian.inventory.api",
        "shuanglian.inventory.pages",
        "shuanglian.supermarket.pages",
        "shuanglian.supermarket.api",
        "shuanglian.accounts.pages",
        "shuanglian.accounts.api",
        "shuanglian.reference.api",
        "shuanglian.web.pages",
        "shuanglian.web.imports",
    ]
    found = {
        (method, route.path)
        for name in modules
        for route in import_module(name).router.routes
        if is_upload_path(route.path)
        for method in route.methods
    }
    assert found == {
        ("POST", "/workspace/institution/patents/upload"),
        ("POST", "/workspace/institution/listings/upload"),
        ("POST", "/workspace/institution/assessments/upload"),
        ("POST", "/workspace/enterprise/feedback-workbook/upload"),
        ("POST", "/patents/upload"),  # + /api/v1
        ("POST", "/inventory/assessments/upload"),
        ("POST", "/inventory/feedback/upload"),
    }
    assert not is_upload_path("/api/v1/tokens") and not is_upload_path("/uploads/x")
