"""Browser tests: Playwright drives Debian's Chromium against the app served by uvicorn.

The server runs in a background thread on a free port, on its own SQLite database under a
temporary home (data committed, as in production). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from shuanglian.accounts.passwords import use_cheap_hashing_for_tests
from shuanglian.config import Settings
from shuanglian.db import Base, make_engine, make_session_factory, session_scope
from shuanglian.inventory.models import Push, PushRound
from shuanglian.supermarket.models import Listing
from shuanglian.web.app import create_app
from tests.web.app_server import app_in_thread
from tests.web.factories import (
    PASSWORD,
    make_enterprise,
    make_institution,
    make_listing,
    make_patent,
    make_user,
    pool,
)

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class Site:
    url: str
    settings: Settings
    users: dict[str, str]
    listing_ids: list[int]
    pooled_patent_id: int
    push_id: int


def _seed(settings: Settings) -> Site:
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        inst = make_institution(session, "浏览器测试大学")
        listings = [
            make_listing(
                session,
                inst,
                title="废旧锂电池回收技术",
                title_en="Battery recycling",
                modes=["licence"],
                price=Decimal("50"),
                region="辽宁",
            ),
            make_listing(
                session,
                inst,
                title="无人机集群协同控制",
                title_en="Drone swarm control",
                modes=["transfer", "equity"],
                price=Decimal("300"),
                region="江苏",
            ),
            make_listing(
                session,
                inst,
                title="盐碱地改良剂",
                modes=["open_licence"],
                open_licence_terms="年费 2 万元，非独占，期限 3 年",
                price=Decimal("2"),
            ),
        ]
        pooled = make_patent(session, inst, title="一种高导热陶瓷基板")
        pool(session, pooled)
        ent = make_enterprise(session, "浏览器测试电池有限公司")
        pushed = make_patent(session, inst, title="一种电池热管理系统")
        rnd = PushRound(per_patent=5, per_enterprise_cap=50)
        session.add(rnd)
        session.flush()
        push = Push(
            round_id=rnd.id,
            patent_id=pushed.id,
            enterprise_id=ent.id,
            rank=1,
            score=0.9,
            explanation={"shared_terms": ["电池", "热管理"]},
        )
        session.add(push)
        users = {
            "admin": make_user(session, "admin", username="b-admin"),
            "institution_staff": make_user(
                session, "institution_staff", username="b-staff", institution_id=inst.id
            ),
            "enterprise_user": make_user(
                session, "enterprise_user", username="b-ent", enterprise_id=ent.id
            ),
            "tech_manager": make_user(session, "tech_manager", username="b-tm"),
            "pilot_platform": make_user(session, "pilot_platform", username="b-pilot"),
        }
        session.flush()
        site = Site(
            url="",
            settings=settings,
            users={r: u.username for r, u in users.items()},
            listing_ids=[x.id for x in listings],
            pooled_patent_id=pooled.id,
            push_id=push.id,
        )
    engine.dispose()
    return site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    use_cheap_hashing_for_tests()
    settings = Settings(home=tmp_path_factory.mktemp("browser-home"), database_url=None)
    seeded = _seed(settings)
    with app_in_thread(create_app(settings)) as url:
        seeded.url = url
        yield seeded


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    yield tab
    context.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page: Page, site: Site, role: str) -> None:
    page.goto(f"{site.url}/login")
    page.get_by_label("用户名").fill(site.users[role])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("admin", "/admin/users"),
        ("institution_staff", "/workspace/institution"),
        ("enterprise_user", "/workspace/enterprise"),
        ("tech_manager", "/market"),
        ("pilot_platform", "/market"),
    ],
)
def test_each_role_logs_in(page: Page, site: Site, role: str, landing: str) -> None:
    log_in(page, site, role)
    assert page.url.endswith(landing)
    expect(page.get_by_role("link", name=site.users[role])).to_be_visible()
    shot(page, f"login-{role}")
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("link", name="登录")).to_be_visible()


def test_browse_search_and_filter_the_catalogue(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/market")
    expect(page.locator(".listing")).to_have_count(3)
    page.get_by_label("搜索（中文或英文）").fill("锂电池")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator(".listing")).to_have_count(1)
    expect(page.locator(".listing .title")).to_have_text("废旧锂电池回收技术")
    page.get_by_label("搜索（中文或英文）").fill("")
    page.get_by_label("合作方式").select_option("equity")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator(".listing .title")).to_have_text("无人机集群协同控制")
    shot(page, "market-filtered")
    page.goto(f"{site.url}/market?lang=en&q=battery")
    expect(page.locator(".listing .title")).to_have_text("Battery recycling")


def test_qr_url_counts_a_scan(page: Page, site: Site) -> None:
    listing_id = site.listing_ids[0]
    page.goto(f"{site.url}/market/{listing_id}")
    before = int(page.locator(".scans").inner_text())
    page.goto(f"{site.url}/market/{listing_id}?src=qr")
    expect(page.locator(".scans")).to_have_text(str(before + 1))
    qr = page.get_by_role("img", name="本成果的二维码")
    expect(qr).to_be_visible()
    shot(page, "listing-from-qr")


def test_card_sheet_pdf_has_the_cards(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/market")
    href = page.get_by_role("link", name="打印本页卡片 (PDF)").get_attribute("href")
    assert href is not None
    response = page.request.get(site.url + href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    for listing_id in site.listing_ids:
        assert f"SL{listing_id:06d}" in text


def test_enterprise_gives_feedback_on_a_pushed_patent(page: Page, site: Site) -> None:
    log_in(page, site, "enterprise_user")
    item = page.locator(f"#push-{site.push_id}")
    expect(item).to_contain_text("一种电池热管理系统")
    expect(item.get_by_label("产业化前景 (1–5)")).to_have_value("")  # nothing preselected
    item.get_by_label("产业化前景 (1–5)").select_option("5")
    item.get_by_label("合作意向").select_option("洽谈")
    item.get_by_label("技术改进需求").fill("希望适配 48V 系统")
    item.get_by_role("button", name="提交评价").click()
    expect(page.get_by_role("status")).to_contain_text("已提交评价")
    expect(page.locator(f"#push-{site.push_id} .saved")).to_be_visible()
    # Back at the item, and a reload repeats a GET (no 405, no resubmission).
    assert page.url.endswith(f"#push-{site.push_id}")
    assert page.reload().ok  # type: ignore[union-attr]
    expect(page.locator(f"#push-{site.push_id} .saved")).to_be_visible()
    shot(page, "enterprise-feedback")


def test_institution_publishes_a_listing(page: Page, site: Site) -> None:
    log_in(page, site, "institution_staff")
    page.locator(f'a[href="/market/new?patent_id={site.pooled_patent_id}"]').click()
    expect(page.get_by_label("标题 *")).to_have_value("一种高导热陶瓷基板")
    page.get_by_label("一种高导热陶瓷基板").check()
    page.get_by_label("标题 *").fill("高导热陶瓷基板技术")
    page.get_by_label("简介 *").fill("用于功率器件散热的高导热氮化铝陶瓷基板制备工艺。")
    page.get_by_label("许可", exact=True).check()
    page.get_by_label("价格（万元，留空为面议）").fill("120")
    page.get_by_role("button", name="上架", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("高导热陶瓷基板技术")
    shot(page, "institution-published")
    engine = make_engine(site.settings)
    with session_scope(make_session_factory(engine)) as session:
        listing = session.query(Listing).filter_by(title="高导热陶瓷基板技术").one()
        assert listing.status == "published" and listing.price == Decimal("120")
    engine.dispose()


def test_big_screen_renders(browser: Browser, site: Site) -> None:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    screen = context.new_page()
    screen.goto(f"{site.url}/screen")
    expect(screen.locator(".screen-card.active")).to_have_count(1)
    expect(screen.locator('[data-figure="listings"]')).not_to_have_text("0")
    font_px = screen.locator(".screen-card.active h2").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    assert font_px >= 48  # readable from three metres on a 1080p screen
    shot(screen, "big-screen-1920")
    context.close()


def test_phone_width_has_no_sideways_scroll(browser: Browser, site: Site) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    phone = context.new_page()
    pages = {
        "market": "/market",
        "listing": f"/market/{site.listing_ids[0]}",
        "login": "/login",
        "patents": "/patents",
    }
    for name, path in pages.items():
        phone.goto(site.url + path)
        overflow = phone.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 375, (path, overflow)
        shot(phone, f"phone-375-{name}")
    context.close()


def test_admin_user_list_fits_a_phone_in_both_languages(page: Page, site: Site) -> None:
    """The password-reset column holds screen-reader labels; the table scrolls, the page not."""
    log_in(page, site, "admin")
    page.set_viewport_size({"width": 375, "height": 740})
    for path in ("/admin/users", "/admin/users?lang=en"):
        page.goto(site.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 375, (path, overflow)
    shot(page, "phone-375-admin-users-en")


def test_institution_staff_uploads_a_patent_file(
    page: Page, site: Site, shared_dir: Path, tmp_path: Path
) -> None:
    """The clerk's path: workspace → 导入专利 → choose the file → the report with the bad row."""
    from tests.patents.factories import cnipa_row
    from tests.web.upload_helpers import app_number, sample_rows, xlsx_bytes

    rows = sample_rows(shared_dir) + [cnipa_row(申请号=app_number("202310000001"), 专利名称="")]
    upload = tmp_path / "专利清单.xlsx"
    upload.write_bytes(xlsx_bytes(rows))
    log_in(page, site, "institution_staff")
    page.get_by_role("link", name="导入专利 · 自评表").click()
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "phone-375-institution-imports")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("专利文件").set_input_files(str(upload))
    shot(page, "institution-imports")
    page.get_by_role("button", name="上传并导入").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("导入专利结果")
    expect(page.locator('[data-count="inserted"]')).to_have_text("10")
    expect(page.locator('[data-count="rejected"]')).to_have_text("1")
    errors = page.locator(".import-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("12")
    expect(errors.first).to_contain_text("专利名称")
    shot(page, "institution-import-report")
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_download() as download:
        page.get_by_role("link", name="下载全部错误 (CSV)").click()
    listed = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "缺少专利名称" in listed
    engine = make_engine(site.settings)
    with session_scope(make_session_factory(engine)) as session:
        from shuanglian.patents.models import Institution, Patent

        inst = session.query(Institution).filter_by(name="浏览器测试大学").one()
        imported = session.query(Patent).filter_by(source_file="专利清单.xlsx").all()
        assert len(imported) == 10 and {p.institution_id for p in imported} == {inst.id}
    engine.dispose()
