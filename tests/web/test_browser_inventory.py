"""Browser walk of issue 14 (the TTO clerk and the reviewer): Chromium on desktop and 375 px.

The admin appoints a reviewer in /admin/orgs; the clerk builds a batch from an import file
(the lapsed patent is flagged and left out), self-assesses, the reviewer reads the review
screen and approves both items at once; the clerk grades, pushes, tiers, downloads the report,
reads what happened to the patent and records feedback given by phone. Screenshots go to
test-artifacts/ (looked at by a person while building these pages).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from shuanglian.accounts.passwords import use_cheap_hashing_for_tests
from shuanglian.audit import AuditEntry
from shuanglian.config import Settings
from shuanglian.db import Base, make_engine, make_session_factory, session_scope
from shuanglian.inventory.models import Feedback
from shuanglian.web.app import create_app
from tests.web.app_server import app_in_thread
from tests.web.factories import PASSWORD, make_enterprise, make_institution, make_patent, make_user
from tests.web.test_browser import shot

pytestmark = pytest.mark.browser


@dataclass
class Site:
    url: str
    settings: Settings
    institution_id: int


def _seed(settings: Settings) -> Site:
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    with session_scope(make_session_factory(engine)) as session:
        inst = make_institution(session, "流程测试大学")
        for title, status in (
            ("一种锂电池正极材料回收方法", "有权"),
            ("一种电池热失控预警装置", "有权"),
            ("一种废旧电池拆解机器人", "未缴年费专利权终止"),
        ):
            make_patent(
                session,
                inst,
                title=title,
                legal_status=status,
                source_file="clerk.csv",
                applicants=["流程测试大学"],
                ipc_codes=["H01M10/54"],
            )
        make_enterprise(session, "流程测试电池材料有限公司", industry_code="C38")
        make_user(session, "admin", username="f-admin")
        make_user(session, "institution_staff", username="f-clerk", institution_id=inst.id)
        make_user(
            session,
            "institution_staff",
            username="f-rev",
            institution_id=inst.id,
            display_name="王审核",
        )
        site = Site(url="", settings=settings, institution_id=inst.id)
    engine.dispose()
    return site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    use_cheap_hashing_for_tests()
    settings = Settings(home=tmp_path_factory.mktemp("flow-home"), database_url=None)
    seeded = _seed(settings)
    with app_in_thread(create_app(settings)) as url:
        seeded.url = url
        yield seeded


def _page(browser: Browser, *, phone: bool = False) -> Page:  # noqa: F811
    size = {"width": 375, "height": 740} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=size, locale="zh-CN", is_mobile=phone)
    return context.new_page()


def _log_in(page: Page, site: Site, username: str) -> None:
    page.goto(f"{site.url}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, page.url


def test_clerk_and_reviewer_walk_the_whole_inventory(browser: Browser, site: Site) -> None:  # noqa: F811
    # --- the admin appoints the reviewer in /admin/orgs -------------------------------------
    admin = _page(browser)
    _log_in(admin, site, "f-admin")
    admin.goto(f"{site.url}/admin/orgs")
    admin.get_by_role("link", name="流程测试大学").first.click()
    expect(admin.get_by_text("尚未指定审核人")).to_be_visible()
    admin.get_by_label("人员").select_option(label="王审核（f-rev）")
    admin.get_by_label("审核级别").select_option("institution")
    admin.get_by_role("button", name="指定审核人").click()
    expect(admin.locator("#reviewers")).to_contain_text("王审核")
    expect(admin.locator("#reviewers")).to_contain_text("单位审核人")
    shot(admin, "issue14-admin-institution-reviewers")
    admin.context.close()

    # --- the clerk builds a batch from the import file ---------------------------------------
    clerk = _page(browser)
    _log_in(clerk, site, "f-clerk")
    clerk.get_by_role("link", name="盘点流程").click()
    clerk.get_by_label("批次名称").fill("2025 年第一批")
    clerk.get_by_label("包含哪些专利").select_option("clerk.csv")
    clerk.get_by_role("button", name="建立批次").click()
    expect(clerk.get_by_role("heading", name="批次已建立")).to_be_visible()
    counts = clerk.locator(".result-counts")
    expect(counts).to_contain_text("加入批次")
    expect(counts.locator("tr").nth(0).locator("td")).to_have_text("2")
    expect(counts.locator("tr").nth(2).locator("td")).to_have_text("1")
    expect(clerk.locator("#lapsed ~ table")).to_contain_text("未缴年费专利权终止")
    shot(clerk, "issue14-batch-created")

    # --- self-assessment of both items on their pages ----------------------------------------
    clerk.get_by_role("link", name="2025 年第一批").click()
    expect(clerk.locator(".count")).to_contain_text("共 2 件")
    for n in range(2):
        clerk.goto(f"{site.url}/workspace/institution/items?status=draft")
        clerk.locator(".items a").first.click()
        clerk.get_by_label("技术成熟度 TRL (1–9)").fill(str(5 + n))
        clerk.get_by_label("分级理由 *").fill("已完成中试，成本低于现有工艺")
        clerk.get_by_label("应用场景 *").fill("动力电池回收与梯次利用")
        clerk.get_by_label("行业代码（逗号分隔）").fill("C38")
        clerk.get_by_label("联系人 *").fill("李老师")
        clerk.get_by_role("button", name="保存并提交审核").click()
        expect(clerk.locator(".badge").first).to_have_text("待单位审核")

    # --- the reviewer reads the review screen and approves both at once ----------------------
    rev = _page(browser)
    _log_in(rev, site, "f-rev")
    rev.goto(f"{site.url}/workspace/institution/items?status=institution_review")
    expect(rev.locator(".count")).to_contain_text("共 2 件")
    rev.locator(".items a").first.click()
    expect(rev.locator("#biblio")).to_contain_text("有权")
    expect(rev.locator("#biblio")).to_contain_text("流程测试大学")
    expect(rev.locator("#biblio .ipc")).to_contain_text("H01M")
    expect(rev.locator("#assessment-read")).to_contain_text("动力电池回收与梯次利用")
    expect(rev.locator(".history")).to_contain_text("提交审核")
    expect(rev.locator(".history")).to_contain_text("f-clerk")
    shot(rev, "issue14-review-screen")
    rev.go_back()
    for box in rev.locator(".items input[type=checkbox]").all():
        box.check()
    rev.get_by_label("审核意见（可选，对所选条目相同）").fill("材料齐全，同意入库")
    rev.get_by_role("button", name="通过所选").click()
    expect(rev.get_by_text("已通过 2 件")).to_be_visible()
    shot(rev, "issue14-bulk-approved")
    rev.context.close()

    # --- grades, a push round, tiers, the report ---------------------------------------------
    clerk.goto(f"{site.url}/workspace/institution/flow")
    clerk.get_by_role("button", name="计算评级").click()
    expect(clerk.get_by_role("heading", name="价值指标与评级已更新")).to_be_visible()
    shot(clerk, "issue14-grades")
    clerk.get_by_role("link", name="返回盘点流程").click()
    clerk.get_by_label("匹配方式").select_option("industry")
    clerk.get_by_role("button", name="运行一轮推送").click()
    expect(clerk.get_by_role("heading", name="轮推送完成")).to_be_visible()
    pushed = int(clerk.locator(".result-counts tr").nth(1).locator("td").inner_text())
    assert pushed == 2
    clerk.get_by_role("link", name="返回盘点流程").click()
    clerk.get_by_role("button", name="重算分层").click()
    expect(clerk.get_by_role("heading", name="分层已更新")).to_be_visible()
    expect(clerk.locator("body")).to_contain_text("扩大推送")
    href = f"{site.url}/workspace/institution/report.xlsx"
    sheet = load_workbook(io.BytesIO(clerk.request.get(href).body())).active
    assert sheet["A2"].value == "流程测试大学" and sheet["B2"].value == 2  # 盘点数
    report = clerk.request.get(f"{site.url}/workspace/institution/report.json").json()
    assert report["total"]["入库数"] == 2

    # --- what happened to the patent; feedback taken by phone --------------------------------
    clerk.goto(f"{site.url}/workspace/institution/items?status=approved")
    clerk.locator(".items a").first.click()
    outcome = clerk.locator("#outcome")
    expect(outcome.locator(".history")).to_contain_text("材料齐全，同意入库")
    expect(outcome.locator(".history")).to_contain_text("f-rev")
    expect(outcome.locator("table.indicators")).to_contain_text("法律状态")
    expect(outcome).to_contain_text("二层：有兴趣或评级较高")
    expect(outcome.locator(".pushes")).to_contain_text("流程测试电池材料有限公司")
    outcome.get_by_text("代企业录入反馈（电话或纸质）").click()
    outcome.get_by_label("反馈方式").select_option("phone")
    outcome.get_by_label("产业化前景 (1–5)").select_option("4")
    outcome.get_by_label("合作意向").select_option("洽谈")
    outcome.get_by_role("button", name="保存反馈（记录为本人代录）").click()
    expect(clerk.locator(".feedback")).to_contain_text("电话反馈，工作人员代录")
    expect(clerk.locator(".feedback")).to_contain_text("f-clerk")
    shot(clerk, "issue14-item-outcome")
    patent_link = clerk.locator("#biblio a").first.get_attribute("href")
    clerk.goto(site.url + str(patent_link))
    expect(clerk.locator("#outcome")).to_contain_text("洽谈")
    clerk.context.close()

    engine = make_engine(site.settings)
    with session_scope(make_session_factory(engine)) as session:
        fb = session.scalar(select(Feedback))
        assert fb is not None and fb.source == "phone"
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "feedback.record"))
    engine.dispose()


def test_phone_375_flow_items_and_orgs(browser: Browser, site: Site) -> None:  # noqa: F811
    phone = _page(browser, phone=True)
    _log_in(phone, site, "f-clerk")
    for name, path in {
        "flow": "/workspace/institution/flow",
        "items": "/workspace/institution/items",
    }.items():
        phone.goto(site.url + path)
        _no_sideways_scroll(phone)
        shot(phone, f"issue14-phone-375-{name}")
    phone.goto(f"{site.url}/workspace/institution/items")
    item = phone.locator(".items a").first
    if item.count():
        item.click()
        _no_sideways_scroll(phone)
        shot(phone, "issue14-phone-375-item")
    phone.context.close()
    admin = _page(browser, phone=True)
    _log_in(admin, site, "f-admin")
    admin.goto(f"{site.url}/admin/orgs/institutions/{site.institution_id}")
    _no_sideways_scroll(admin)
    shot(admin, "issue14-phone-375-admin-institution")
    admin.goto(
        f"{site.url}/workspace/institution/flow?institution_id={site.institution_id}&lang=en"
    )
    expect(admin.get_by_role("heading", name="Create a batch")).to_be_visible()
    _no_sideways_scroll(admin)
    admin.context.close()
