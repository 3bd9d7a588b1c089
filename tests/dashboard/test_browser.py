"""Dashboards in Chromium: the bureau dashboard with ECharts, a chart's table toggle, and the big
screen at 1920×1080 and 3840×2160. Screenshots go to test-artifacts/ (looked at by a person).

ECharts and the China map come from `make install` (npm); the test needs them there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from shuanglian.web.templating import STATIC_DIR
from tests.dashboard.world import build
from tests.web.app_server import seeded_site, signed_in_page
from tests.web.factories import PASSWORD, make_user
from tests.web.test_browser import ARTIFACTS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    def seed(session: Session) -> None:
        build(session)
        make_user(session, "admin", username="dash-admin")

    with seeded_site(tmp_path_factory.mktemp("dash-home"), seed) as url:
        yield url


def test_dashboard_charts_and_table_toggle(browser: Browser, url: str) -> None:
    assert (STATIC_DIR / "vendor" / "echarts.min.js").is_file(), "run `make install` first"
    page = signed_in_page(browser, url, "dash-admin", PASSWORD, width=1440, height=1000)
    page.get_by_role("link", name="数据看板").click()
    page.get_by_label("统计期").fill("2026Q4")
    page.get_by_role("button", name="查看").click()
    funnel = page.locator("#t-funnel")
    expect(funnel.locator("canvas")).to_have_count(1)  # ECharts drew the funnel
    table = funnel.locator(".dash-table")
    expect(table).to_be_hidden()  # with a chart, the table waits behind its button
    funnel.get_by_role("button", name="显示表格").click()
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(8)
    expect(page.locator("#t-by_province canvas")).to_have_count(1)  # the China map
    page.screenshot(path=str(ARTIFACTS / "dashboard-bureau.png"), full_page=True)
    funnel.get_by_role("button", name="隐藏表格").click()
    expect(table).to_be_hidden()


@pytest.mark.parametrize("width, height", [(1920, 1080), (3840, 2160)])
def test_big_screen_fills_the_screen(browser: Browser, url: str, width: int, height: int) -> None:
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.goto(f"{url}/screen")
    expect(page.locator(".screen-card.active")).to_have_count(1)
    expect(page.locator(".screen-map canvas")).to_have_count(1)
    expect(page.locator('[data-figure="contracts"]')).to_have_text("2")
    expect(page.locator('[data-figure="scans_today"]')).to_have_count(0)  # zero: hidden
    # Nothing scrolls: the page is exactly the screen.
    scroll = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert scroll == [width, height]
    qr = page.locator(".screen-card.active .screen-qr").bounding_box()
    assert qr is not None and qr["height"] >= 0.25 * height  # sized from the screen's height
    summary = page.locator(".screen-card.active .summary").inner_text()
    assert not summary.startswith("本")
    page.screenshot(path=str(ARTIFACTS / f"screen-{width}x{height}.png"))


def test_dashboard_on_a_phone_lays_long_bar_charts_on_their_side(
    browser: Browser, url: str
) -> None:
    """At 375 px the page never scrolls sideways and a bar chart of many categories gets one
    row per category (its block grows to fit), rather than names rotated into each other."""
    page = signed_in_page(browser, url, "dash-admin", PASSWORD, width=375, height=800)
    page.goto(f"{url}/dashboard")
    expect(page.locator("#t-funnel canvas")).to_have_count(1)  # ECharts has drawn
    charts = page.eval_on_selector_all(
        ".dash-chart.drawn",
        """els => els.map(e => [JSON.parse(e.getAttribute('data-chart')), e])
                 .filter(([spec]) => spec.kind === 'bar' && spec.categories.length > 6)
                 .map(([spec, e]) => [spec.categories.length, e.getBoundingClientRect().height,
                      window.echarts.getInstanceByDom(e).getOption().yAxis[0].type])""",
    )
    assert charts, "the test world must give a bar chart of more than six categories"
    for places, height, y_axis in charts:
        assert y_axis == "category", places  # names down the side, one row each
        assert height >= 60 + 22 * places, (places, height)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(ARTIFACTS / "dashboard-bureau-375.png"), full_page=True)
    page.context.close()
