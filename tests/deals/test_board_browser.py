"""The manager's board in Chromium: columns on a desktop, one plain list on a 375 px phone,
overdue next actions first. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from shuanglian.accounts.passwords import use_cheap_hashing_for_tests
from shuanglian.config import Settings
from shuanglian.db import Base, make_engine, make_session_factory, session_scope
from shuanglian.deals import pipeline
from shuanglian.deals.managers import save_manager
from shuanglian.supermarket.service import today_in_china
from shuanglian.web.app import create_app
from tests.web.app_server import app_in_thread, signed_in_page
from tests.web.factories import (
    PASSWORD,
    make_enterprise,
    make_institution,
    make_listing,
    make_patent,
    make_user,
)
from tests.web.test_browser import ARTIFACTS

pytestmark = pytest.mark.browser


def _seed(settings: Settings) -> None:
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    with session_scope(make_session_factory(engine)) as session:
        inst = make_institution(session, "看板测试大学")
        staff = make_user(session, "institution_staff", institution_id=inst.id)
        user = make_user(session, "tech_manager", username="board-tm")
        manager = save_manager(
            session,
            actor=user,
            data={
                "user_id": user.id,
                "name": "陈立新",
                "organisation": "大学技术转移中心",
                "ipc_fields": ["C04B"],
            },
        )
        today = today_in_china()
        plan = [
            ("钢渣微粉胶凝材料", "contact", 7),
            ("赤泥制备陶粒技术", "nda", -4),
            ("建筑垃圾再生骨料", "negotiation", 2),
            ("磷石膏制备装配式墙板", "contact", -1),
        ]
        for title, stage, due in plan:
            patent = make_patent(session, inst, title=title, expiry_date=date(2040, 1, 1))
            listing = make_listing(session, inst, title=title, patents=[patent])
            ent = make_enterprise(session, f"{title[:4]}建材有限公司")
            deal = pipeline.create_deal(
                session,
                actor=staff,
                data={
                    "title": f"{title} — {ent.name}",
                    "institution_id": inst.id,
                    "enterprise_id": ent.id,
                    "listing_id": listing.id,
                    "manager_id": manager.id,
                },
            )
            deal.stage = stage
            pipeline.add_next_action(
                session,
                actor=staff,
                deal_id=deal.id,
                title="催签保密协议" if due < 0 else "发送报价单",
                due_on=today + timedelta(days=due),
            )
    engine.dispose()


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    use_cheap_hashing_for_tests()
    settings = Settings(home=tmp_path_factory.mktemp("board-home"), database_url=None)
    _seed(settings)
    with app_in_thread(create_app(settings)) as url:
        yield url


def _open_board(browser: Browser, url: str, width: int, height: int) -> Page:
    page = signed_in_page(browser, url, "board-tm", PASSWORD, width=width, height=height)
    page.get_by_role("link", name="我的看板").click()
    expect(page.get_by_role("heading", name="我的看板 · 陈立新")).to_be_visible()
    return page


def test_board_on_desktop(browser: Browser, url: str) -> None:
    page = _open_board(browser, url, 1440, 900)
    overdue = page.locator(".overdue-list .deal-card")
    expect(overdue).to_have_count(2)
    expect(overdue.first).to_contain_text("赤泥制备陶粒技术")  # the most overdue first
    contact = page.locator("section.column", has=page.get_by_role("heading", name="接洽 2"))
    expect(contact.locator(".deal-card").first).to_contain_text("磷石膏")  # overdue first
    columns = page.locator(".board > section.column")
    boxes = [columns.nth(i).bounding_box() for i in range(3)]
    assert boxes[0] and boxes[1] and boxes[0]["y"] == boxes[1]["y"]  # side by side
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "deals-board-desktop.png"), full_page=True)
    page.locator(".overdue-list .deal-card a").first.click()
    expect(page.get_by_role("heading", name="进展记录")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "deals-detail-desktop.png"), full_page=True)
    page.context.close()


def test_board_on_a_phone(browser: Browser, url: str) -> None:
    page = _open_board(browser, url, 375, 740)
    expect(page.locator(".overdue-list .deal-card")).to_have_count(2)
    visible = page.locator(".board > section.column:visible")
    expect(visible).to_have_count(3)  # empty stages are hidden on a phone
    boxes = [visible.nth(i).bounding_box() for i in range(2)]
    assert boxes[0] and boxes[1] and boxes[1]["y"] > boxes[0]["y"]  # one list, stacked
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page scrolls sideways on a phone ({width}px)"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "deals-board-phone.png"), full_page=True)
    page.context.close()
