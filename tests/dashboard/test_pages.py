"""Dashboard pages, downloads, reports and the big screen over HTTP, on both databases."""

from __future__ import annotations

import csv
import io
from datetime import date

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader

from shuanglian.dashboard.screen import listing_summary
from tests.dashboard.world import build
from tests.web.factories import login, make_user
from tests.web.fixtures import app, client  # noqa: F401  (shared fixtures)


def test_bureau_dashboard_filters_and_downloads(client: TestClient, db_session) -> None:  # noqa: F811
    build(db_session)
    login(client, make_user(db_session, "admin"))
    page = client.get("/dashboard", params={"period": "2026Q4"})
    assert page.status_code == 200
    assert 'data-figure="contracts"' in page.text and "转化漏斗" in page.text
    assert "data-chart=" in page.text and "<table>" in page.text  # chart and its table
    assert "2026年第4季度" in page.text
    assert "电气机械、设备和能源" in page.text  # WIPO fields named in Chinese
    en = client.get("/dashboard", params={"period": "2026Q4", "lang": "en"}).text
    assert "Electrical machinery, apparatus, energy" in en
    js = client.get("/dashboard", params={"region": "32", "period": "2026Q4"})
    assert js.status_code == 200 and "江苏" in js.text
    rows = list(csv.reader(io.StringIO(client.get(
        "/dashboard/tables/by_province.csv", params={"period": "2026Q4"}).text)))  # fmt: skip
    assert rows[0][0] == "省份" and {r[0] for r in rows[1:]} == {"江苏", "浙江"}
    wb = load_workbook(io.BytesIO(client.get("/dashboard/tables/funnel.xlsx").content))
    assert [c.value for c in next(wb.active.iter_rows(max_row=1))][:2] == ["环节", "专利数"]
    bad = client.get("/dashboard", params={"period": "2026Q9", "lang": "zh"})  # (en was chosen)
    assert bad.status_code == 400 and "统计期" in bad.text
    assert client.get("/dashboard/tables/nope.csv").status_code == 404


def test_institution_sees_only_its_own(client: TestClient, db_session) -> None:  # noqa: F811
    w = build(db_session)
    login(client, make_user(db_session, "institution_staff", institution_id=w.b))
    page = client.get("/dashboard")
    assert page.status_code == 200 and "乙研究院" in page.text
    assert "甲成果" not in page.text  # A's listing never shows on B's dashboard
    assert client.get("/dashboard", params={"institution_id": w.a}).status_code == 403
    rows = list(csv.reader(io.StringIO(client.get("/dashboard/tables/funnel.csv").text)))
    assert [r[1] for r in rows[1:4]] == ["1", "1", "1"]  # b1 only
    assert client.get("/dashboard/tables/by_institution.csv").status_code == 404


def test_report_pdf_and_excel_contain_the_figures(client: TestClient, db_session) -> None:  # noqa: F811
    build(db_session)
    login(client, make_user(db_session, "admin"))
    pdf = client.get("/dashboard/report.pdf", params={"period": "2026Q4"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    for needle in ("科技成果转化数据报告", "2026年第4季度", "签约项目", "转化漏斗", "指标定义"):
        assert needle in text, needle
    wb = load_workbook(io.BytesIO(client.get("/dashboard/report.xlsx",
                                             params={"period": "2026Q4"}).content))  # fmt: skip
    assert {"核心指标", "转化漏斗", "指标定义", "签约专利", "有合作意向的专利"} <= set(
        wb.sheetnames
    )
    figures = {r[0]: r[1] for r in wb["核心指标"].iter_rows(min_row=3, values_only=True)}
    assert figures["签约项目"] == 2 and figures["签约金额（万元）"] == 105.0
    signed = list(wb["签约专利"].iter_rows(min_row=2, values_only=True))
    assert len(signed) == 2 and {r[5] for r in signed} == {"equity", "open_licence"}


def test_enterprise_and_manager_views(client: TestClient, db_session) -> None:  # noqa: F811
    w = build(db_session)
    login(client, make_user(db_session, "enterprise_user", enterprise_id=w.e1))
    page = client.get("/dashboard/enterprise")
    assert page.status_code == 200 and "南京甲企业" in page.text
    assert 'data-figure="pushes"><span class="num">2<' in page.text.replace("\n  ", "")
    assert client.get("/dashboard/enterprise", params={"enterprise_id": w.e2}).status_code == 403


def test_empty_database_renders(client: TestClient, db_session) -> None:  # noqa: F811
    login(client, make_user(db_session, "admin"))
    assert client.get("/dashboard").status_code == 200
    assert client.get("/dashboard/report.pdf").status_code == 200
    screen = client.get("/screen")
    assert screen.status_code == 200 and 'data-figure="contracts"' not in screen.text


def test_screen_shows_activity_anonymised_and_hides_zeros(client: TestClient, db_session) -> None:  # noqa: F811
    build(db_session)
    page = client.get("/screen").text
    assert 'data-figure="contracts"' in page and 'data-figure="scans_today"' not in page
    assert "张**" in page and "张三" not in page  # the visitor's name is masked
    assert "与一家浙江企业签订开放许可合同" in page  # the enterprise is only its province


def test_schedule_is_idempotent_and_lists_reports(
    client: TestClient,  # noqa: F811
    db_session,
    db_settings,
) -> None:
    from shuanglian.dashboard.schedule import generate_scheduled

    w = build(db_session)
    first = generate_scheduled(db_session, db_settings, today=date(2027, 1, 3))
    # December and Q4, for the platform and both institutions, PDF + Excel.
    assert len(first.written) == 2 * 3 * 2 and not first.kept
    again = generate_scheduled(db_session, db_settings, today=date(2027, 1, 20))
    assert not again.written and len(again.kept) == 12
    login(client, make_user(db_session, "institution_staff", institution_id=w.a))
    page = client.get("/dashboard").text
    assert f"2026Q4_inst-{w.a}.pdf" in page and "2026Q4_all.pdf" not in page
    assert client.get(f"/dashboard/reports/2026Q4_inst-{w.a}.xlsx").status_code == 200
    assert client.get(f"/dashboard/reports/2026Q4_inst-{w.b}.xlsx").status_code == 403
    assert client.get("/dashboard/reports/..%2Fshuanglian.db").status_code == 404


def test_listing_summary_strips_patent_boilerplate() -> None:
    abstract = (
        "本实用新型公开了一种锂电池回收装置，包括壳体和破碎机构。"
        "本实用新型能够提高钴、锂的回收率，降低能耗。"
    )
    summary = listing_summary("锂电池回收装置", abstract)
    assert summary == "锂电池回收装置：能够提高钴、锂的回收率，降低能耗。"
    assert not listing_summary("一种方法", "本发明公开了一种方法。").startswith("本发明")
    assert listing_summary("标题", "").startswith("标题")


def test_a_long_table_shows_its_first_rows_and_downloads_them_all(
    client: TestClient,  # noqa: F811
    db_session,
) -> None:
    from tests.web.factories import make_institution, make_patent

    for i in range(101):
        make_patent(db_session, make_institution(db_session, f"第{i:03d}大学"))
    db_session.flush()
    login(client, make_user(db_session, "admin"))
    page = client.get("/dashboard").text
    block = page.split('id="t-by_institution"', 1)[1].split("</section>", 1)[0]
    assert block.count('<th scope="row">') == 100
    assert "仅显示前 100 行，共 101 行" in block
    rows = list(csv.reader(io.StringIO(client.get("/dashboard/tables/by_institution.csv").text)))
    assert len(rows) == 1 + 101
