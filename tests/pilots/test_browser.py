"""Playwright, desktop and a 375 px phone: an enterprise books a suggested pilot platform from its
challenge in progress, the platform completes the booking with an outcome document, the
enterprise downloads it and rates; a verified challenge starts a prefilled deal whose 中试
step is taken with a booking made from the deal's suggestions; an admin adds a platform."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from shuanglian.accounts.models import User
from shuanglian.challenges import service as challenges
from shuanglian.db import make_engine, make_session_factory, session_scope
from shuanglian.deals import pipeline
from shuanglian.deals.contracts import create_contract
from shuanglian.patents.models import Patent
from shuanglian.pilots import service
from tests.challenges.factories import apply, make_challenge, verified_challenge
from tests.deals.helpers import contract_data
from tests.web.test_browser import Site, log_in, shot, site  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 740}}


@pytest.fixture(params=list(VIEWPORTS))
def tabs(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page, Page]]:  # noqa: F811
    name = request.param
    one = browser.new_context(viewport=VIEWPORTS[name], locale="zh-CN")
    two = browser.new_context(viewport=VIEWPORTS[name], locale="zh-CN")
    yield name, one.new_page(), two.new_page()
    one.close()
    two.close()


def _seed(site: Site, name: str) -> SimpleNamespace:  # noqa: F811
    """A platform the pilot user manages, a challenge in progress, a verified one, and a deal
    at 签约 — all for the site's enterprise and institution users."""
    engine = make_engine(site.settings)
    with session_scope(make_session_factory(engine)) as s:
        user = {r: s.scalar(select(User).where(User.username == u)) for r, u in site.users.items()}
        ent, staff = user["enterprise_user"], user["institution_staff"]
        platform = service.create_platform(
            s,
            actor=None,
            data=service.PlatformInput(
                name=f"苏州锂电中试基地（{name}）",
                operator="江苏省产业技术研究院",
                level="provincial",
                province="江苏",
                city="苏州",
                industries=["42", "38"],
                ipc_classes=["H01M", "C04B"],
                services=["pilot", "testing"],
                capacity=3,
            ),
        )
        service.link_manager(
            s, actor=None, platform_id=platform.id, user_id=user["pilot_platform"].id, system=True
        )
        working = make_challenge(s, ent, title=f"正极材料回收放大（{name}）")
        challenges.act_on_challenge(s, actor=ent, challenge_id=working.id, action="publish")
        app = apply(s, staff, working)
        challenges.decide_application(s, actor=ent, application_id=app.id, action="accept")
        challenges.act_on_challenge(s, actor=ent, challenge_id=working.id, action="start")
        patent = s.get(Patent, site.pooled_patent_id)
        assert patent is not None
        done, _ = verified_challenge(s, ent, staff, patent_ids=[patent.id])
        deal = pipeline.create_deal(
            s,
            actor=staff,
            data=pipeline.prefill_from_challenge(s, actor=staff, challenge_id=done.id)
            | {"title": f"陶瓷基板产业化（{name}）"},
        )
        for action in ("sign_nda", "start_due_diligence", "negotiate"):
            pipeline.move_deal(s, actor=staff, deal_id=deal.id, action=action)
        world = SimpleNamespace(
            inst=SimpleNamespace(id=deal.institution_id),
            ent=SimpleNamespace(id=deal.enterprise_id),
            patent=patent,
        )
        create_contract(
            s, actor=staff, data=contract_data(world, "licence", "ordinary", deal_id=deal.id)
        )
        pipeline.move_deal(s, actor=staff, deal_id=deal.id, action="sign")
        ids = SimpleNamespace(
            platform=platform.id,
            platform_name=platform.name,
            working=working.id,
            done=done.id,
            deal=deal.id,
        )
    engine.dispose()
    return ids


def test_pilot_flows(tabs: tuple[str, Page, Page], site: Site, tmp_path: Path) -> None:  # noqa: F811
    name, one, two = tabs
    ids = _seed(site, name)
    start = date.today() + timedelta(days=7)

    # The enterprise books a suggested platform from its challenge in progress.
    log_in(one, site, "enterprise_user")
    one.goto(f"{site.url}/challenges/{ids.working}")
    suggestions = one.locator("#pilot-suggestions")
    expect(suggestions).to_contain_text(ids.platform_name)
    expect(suggestions).to_contain_text("同城")
    shot(one, f"pilots-challenge-suggestions-{name}")
    row = suggestions.locator("li.row", has_text=ids.platform_name)
    row.get_by_role("link", name="预约中试").click()
    expect(one.locator("#b-ch")).to_have_value(str(ids.working))
    one.get_by_label("预约事项").fill("正极材料 50 倍放大试验")
    one.get_by_label("开始日期").fill(start.isoformat())
    one.get_by_label("结束日期").fill((start + timedelta(days=10)).isoformat())
    shot(one, f"pilots-book-{name}")
    one.get_by_role("button", name="提交预约").click()
    expect(one.locator("h1 .badge")).to_have_text("待确认")
    booking_url = one.url

    # The platform accepts, schedules and completes it with the outcome report and a document.
    log_in(two, site, "pilot_platform")
    two.goto(booking_url)
    shot(two, f"pilots-booking-request-{name}")
    two.get_by_role("button", name="接受").click()
    two.get_by_role("button", name="排期").click()
    expect(two.locator("h1 .badge")).to_have_text("已排期")
    two.get_by_role("button", name="完成并提交报告").click()  # empty report: refused, stays
    expect(two.locator(".field-error").first).to_contain_text("结果报告")
    report = tmp_path / "放大试验检测报告.pdf"
    report.write_bytes(b"%PDF-1.4\n%%EOF\n")
    two.get_by_label("结果报告").fill("放大 50 倍，收率 92%，工艺包见附件。")
    two.get_by_label("结果文件", exact=False).set_input_files(str(report))
    shot(two, f"pilots-complete-{name}")
    two.get_by_role("button", name="完成并提交报告").click()
    expect(two.locator("h1 .badge")).to_have_text("已完成")
    expect(two.locator("#documents")).to_contain_text("放大试验检测报告.pdf")

    one.goto(booking_url)
    with one.expect_download() as download:
        one.get_by_role("link", name="放大试验检测报告.pdf").click()
    assert download.value.suggested_filename == "放大试验检测报告.pdf"
    one.get_by_role("button", name="提交评价").click()
    expect(one.locator(".facts")).to_contain_text("★★★★★")
    shot(one, f"pilots-booking-done-{name}")

    # A verified challenge starts a deal, prefilled.
    one.goto(f"{site.url}/challenges/{ids.done}")
    one.locator("#to-deal").get_by_role("link", name="发起洽谈").click()
    expect(one.locator("#f-institution_id")).not_to_have_value("")
    expect(one.locator("#f-enterprise_id")).not_to_have_value("")
    shot(one, f"pilots-deal-from-challenge-{name}")
    one.get_by_role("button", name="发起洽谈").click()
    expect(one.locator("h1")).to_contain_text("废旧锂电池正极材料高效回收")

    # The institution's deal at 签约: book from the suggestions, then start 中试 with it.
    log_in(two, site, "institution_staff")
    two.goto(f"{site.url}/deals/{ids.deal}")
    pilot = two.locator("#pilot")
    expect(pilot).to_contain_text(ids.platform_name)
    pilot.locator("li.row", has_text=ids.platform_name).get_by_role("link", name="预约中试").click()
    expect(two.locator("form.editor")).to_contain_text(f"#{ids.deal}")
    two.get_by_label("预约事项").fill("胶凝材料中试")
    two.get_by_label("开始日期").fill(start.isoformat())
    two.get_by_label("结束日期").fill((start + timedelta(days=20)).isoformat())
    two.get_by_role("button", name="提交预约").click()
    expect(two.locator(".facts")).to_contain_text(f"#{ids.deal}")
    deal_booking = two.url
    log_in(one, site, "pilot_platform")
    one.goto(deal_booking)
    one.get_by_role("button", name="接受").click()
    two.goto(f"{site.url}/deals/{ids.deal}")
    shot(two, f"pilots-deal-panel-{name}")
    two.get_by_role("button", name="以此预约进入中试").click()
    expect(two.locator(".stages .current")).to_have_text("中试")

    # An admin adds a platform through the form.
    log_in(one, site, "admin")
    one.goto(f"{site.url}/admin/pilots")
    one.get_by_role("link", name="新增平台").click()
    one.get_by_label("平台名称").fill(f"包头稀土中试平台（{name}）")
    one.get_by_label("运营单位").fill("包头稀土研究院")
    one.get_by_label("省份").fill("内蒙古")
    one.get_by_label("行业代码（逗号分隔）").fill("32")
    shot(one, f"pilots-admin-new-{name}")
    one.get_by_role("button", name="保存").click()
    expect(one.locator("h1")).to_contain_text("包头稀土中试平台")
