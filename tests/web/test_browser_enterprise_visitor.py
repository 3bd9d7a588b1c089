"""Browser tests for the enterprise user and the exhibition visitor (issue 14), on a desktop
window and a 375 px phone: 申请账号 → admin approves → the applicant logs in; the market's
filters folded on a phone with the first result near the top (measured); 收藏 and 关注.

The app is served by uvicorn in a thread on its own SQLite database (data committed, as in
production). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from shuanglian.accounts.passwords import use_cheap_hashing_for_tests
from shuanglian.config import Settings
from shuanglian.db import Base, make_engine, make_session_factory, session_scope
from shuanglian.enterprises.validators import compute_credit_check_char
from shuanglian.web.app import create_app
from tests.web.app_server import app_in_thread
from tests.web.factories import (
    PASSWORD,
    make_enterprise,
    make_institution,
    make_listing,
    make_user,
)
from tests.web.test_browser import ARTIFACTS

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}
# After a search on a 375 × 812 phone the first result must be on the first screen, well above
# the fold (it was 1,009 px down with the filters open).
PHONE_FIRST_RESULT_MAX_Y = 500


def code(body: str) -> str:
    return body + compute_credit_check_char(body)


@dataclass
class Site:
    url: str
    listing_id: int
    registered_code: str


def _seed(settings: Settings) -> Site:
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    with session_scope(make_session_factory(engine)) as session:
        inst = make_institution(session, "浏览器测试研究院")
        first = make_listing(
            session,
            inst,
            title="废旧锂电池回收技术",
            plain_summary="把废电池里的锂、钴、镍拿回来再用，湿法工艺，适合中小回收企业。",
            benefits="金属回收率 95%，比火法节能 40%。",
            contact_name="张工",
            contact_role="技术经理人",
            contact_phone="024-2369 0000",
            industries=["C42"],
            region="辽宁",
        )
        for n in range(5):
            make_listing(session, inst, title=f"锂电池材料技术{n}", price=Decimal(10 + n))
        registered = code("91320500MA1T8K3Q2")
        make_enterprise(session, "苏州浏览器新材料有限公司", credit_code=registered)
        make_user(session, "admin", username="e-admin")
        make_user(session, "tech_manager", username="e-visitor", email="v@example.com")
        site = Site(url="", listing_id=first.id, registered_code=registered)
    engine.dispose()
    return site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    use_cheap_hashing_for_tests()
    settings = Settings(home=tmp_path_factory.mktemp("entux-home"), database_url=None)
    seeded = _seed(settings)
    with app_in_thread(create_app(settings)) as url:
        seeded.url = url
        yield seeded


def _page(browser: Browser, viewport: str, *, javascript: bool = True) -> Page:
    context = browser.new_context(
        viewport=VIEWPORTS[viewport],
        locale="zh-CN",
        java_script_enabled=javascript,
        is_mobile=viewport == "phone",
        has_touch=viewport == "phone",
    )
    return context.new_page()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page: Page, site: Site, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{site.url}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state()


@pytest.mark.parametrize(
    ("viewport", "body", "username", "links_registered"),
    [
        ("desktop", None, "suzhou-browser", True),
        ("phone", "91210100MA0U7P1R4", "shenyang-phone", False),
    ],
)
def test_apply_approve_then_log_in(
    browser: Browser,
    site: Site,
    viewport: str,
    body: str | None,
    username: str,
    links_registered: bool,
) -> None:
    page = _page(browser, viewport)
    credit = site.registered_code if body is None else code(body)
    page.goto(f"{site.url}/login")
    expect(page.locator(".get-account")).to_contain_text("还没有账号")
    page.get_by_role("link", name="申请账号").click()
    expect(page).to_have_url(f"{site.url}/apply")
    page.get_by_label("企业名称").fill("苏州浏览器新材料有限公司" if body is None else "沈阳新公司")
    page.get_by_label("统一社会信用代码").fill(credit[:17] + ("1" if credit[17] != "1" else "2"))
    page.get_by_label("联系人").fill("王经理")
    page.get_by_label("邮箱").fill("wang@example.com")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码 *", exact=True).fill("browser-pass-42")
    page.get_by_label("确认密码").fill("browser-pass-42")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#err-credit_code")).to_contain_text("校验位错误")
    shot(page, f"apply-refused-{viewport}")
    # The typed fields are kept; the passwords are typed again.
    expect(page.get_by_label("联系人")).to_have_value("王经理")
    page.get_by_label("统一社会信用代码").fill(credit)
    page.get_by_label("密码 *", exact=True).fill("browser-pass-42")
    page.get_by_label("确认密码").fill("browser-pass-42")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("status")).to_contain_text("申请已提交")
    shot(page, f"apply-sent-{viewport}")

    log_in(page, site, "e-admin")
    page.goto(f"{site.url}/admin/applications")
    item = page.locator(".application", has_text=username)
    expect(item).to_contain_text("关联已登记企业" if links_registered else "批准时新建企业记录")
    shot(page, f"applications-queue-{viewport}")
    item.get_by_role("button", name="批准").click()
    expect(page.get_by_role("status")).to_contain_text(f"账号 {username} 已创建")
    log_out(page)

    log_in(page, site, username, "browser-pass-42")
    expect(page).to_have_url(f"{site.url}/workspace/enterprise")
    shot(page, f"applicant-logged-in-{viewport}")
    page.context.close()


def _first_result_y(page: Page) -> float:
    page.wait_for_load_state("networkidle")  # with HTMX the results are swapped in after the URL
    first = page.locator(".listing").first
    expect(first).to_be_visible()
    box = first.bounding_box()
    assert box is not None
    return box["y"]


def test_phone_market_folds_the_filters(browser: Browser, site: Site) -> None:
    page = _page(browser, "phone")
    page.goto(f"{site.url}/market")
    summary = page.locator(".more-filters > summary")
    expect(summary).to_be_visible()
    expect(page.get_by_label("合作方式")).to_be_hidden()
    page.get_by_label("搜索（中文或英文）").fill("锂电池")
    page.get_by_role("button", name="搜索", exact=True).click()
    page.wait_for_url("**/market?q=*")
    expect(page.locator(".listing")).to_have_count(6)
    y = _first_result_y(page)
    shot(page, "market-phone-after-search")
    assert y <= PHONE_FIRST_RESULT_MAX_Y, f"first result at {y:.0f} px"
    print(f"phone 375 px: first result at {y:.0f} px after a search")
    # The filters are one tap away, and say how many are set.
    summary.click()
    expect(page.get_by_label("合作方式")).to_be_visible()
    page.get_by_label("合作方式").select_option("licence")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".more-filters > summary")).to_contain_text("已选 1 项")
    shot(page, "market-phone-filtered")
    page.context.close()


def test_phone_filters_work_without_javascript(browser: Browser, site: Site) -> None:
    page = _page(browser, "phone", javascript=False)
    page.goto(f"{site.url}/market?q=锂电池")
    assert _first_result_y(page) <= PHONE_FIRST_RESULT_MAX_Y
    page.locator(".more-filters > summary").click()
    expect(page.get_by_label("合作方式")).to_be_visible()
    page.get_by_label("合作方式").select_option("licence")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state("networkidle")
    assert "mode=licence" in page.url
    page.context.close()


def test_desktop_market_shows_every_filter(browser: Browser, site: Site) -> None:
    page = _page(browser, "desktop")
    page.goto(f"{site.url}/market")
    expect(page.locator(".more-filters > summary")).to_be_hidden()
    expect(page.get_by_label("合作方式")).to_be_visible()
    expect(page.get_by_label("排序")).to_be_visible()
    shot(page, "market-desktop")
    page.context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_save_follow_and_share(browser: Browser, site: Site, viewport: str) -> None:
    page = _page(browser, viewport)
    page.goto(f"{site.url}/market/{site.listing_id}")
    for text in ("把废电池里的锂", "金属回收率 95%", "张工（技术经理人）", "法律状态"):
        expect(page.locator("main")).to_contain_text(text)
    expect(page.get_by_label("分享链接")).to_have_value(f"{site.url}/market/{site.listing_id}")
    expect(page.get_by_role("img", name="本成果的二维码")).to_be_visible()
    page.get_by_role("link", name="登录后收藏").click()
    page.get_by_label("用户名").fill("e-visitor")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{site.url}/market/{site.listing_id}")
    page.get_by_role("button", name="收藏", exact=True).click()
    expect(page.get_by_role("button", name="已收藏 · 取消收藏")).to_be_visible()
    shot(page, f"listing-saved-{viewport}")
    page.goto(f"{site.url}/market/saved")
    expect(page.locator(".saved .listing")).to_contain_text("废旧锂电池回收技术")

    page.goto(f"{site.url}/market?q=回收{viewport}")
    page.get_by_role("button", name="关注此搜索").click()
    expect(page.locator("#follow")).to_contain_text("已关注此搜索")
    shot(page, f"market-followed-{viewport}")
    page.goto(f"{site.url}/market/saved")
    follow = page.locator(".follow", has_text=f"回收{viewport}")
    expect(follow).to_be_visible()
    shot(page, f"saved-page-{viewport}")
    follow.get_by_role("button", name="取消关注").click()
    expect(page.locator(".follow", has_text=f"回收{viewport}")).to_have_count(0)
    # Remove the saved listing again so the other viewport starts the same.
    page.locator(".saved .listing").get_by_role("button", name="取消收藏").click()
    expect(page.locator(".saved .listing")).to_have_count(0)
    page.context.close()
