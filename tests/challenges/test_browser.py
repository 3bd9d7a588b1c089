"""Playwright: post a challenge, apply to it, choose the team and verify, on a desktop and a
375 px phone. Reuses the served site and Chromium of tests/web/test_browser.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.test_browser import Site, log_in, shot, site  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 740}}


@pytest.fixture(params=list(VIEWPORTS))
def tabs(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page, Page]]:  # noqa: F811
    name = request.param
    ent = browser.new_context(viewport=VIEWPORTS[name], locale="zh-CN")
    team = browser.new_context(viewport=VIEWPORTS[name], locale="zh-CN")
    yield name, ent.new_page(), team.new_page()
    ent.close()
    team.close()


def test_post_apply_verify(tabs: tuple[str, Page, Page], site: Site) -> None:  # noqa: F811
    name, ent, team = tabs
    today = date.today()
    title = f"注塑件缩痕消除（{name}）"
    log_in(ent, site, "enterprise_user")
    ent.goto(f"{site.url}/challenges/new")
    ent.get_by_label("榜单标题").fill(title)
    ent.get_by_label("问题描述（用企业自己的话）").fill("汽车内饰注塑件表面缩痕明显，返工率高。")
    ent.locator("#i0-name").fill("缩痕深度")
    ent.locator("#i0-cmp").select_option("<=")
    ent.locator("#i0-target").fill("0.05")
    ent.locator("#i0-unit").fill("mm")
    ent.locator("#i1-name").fill("一次合格率")
    ent.locator("#i1-target").fill("99")
    ent.locator("#i1-unit").fill("%")
    ent.get_by_label("榜额（万元）").fill("80")
    ent.get_by_label("报名截止日期").fill((today + timedelta(days=20)).isoformat())
    ent.get_by_label("交付日期").fill((today + timedelta(days=100)).isoformat())
    shot(ent, f"challenge-post-{name}")
    ent.get_by_role("button", name="保存并发布").click()
    expect(ent.locator("h1")).to_contain_text(title)
    expect(ent.locator("h1 .badge")).to_have_text("征集中")
    challenge_url = ent.url
    shot(ent, f"challenge-detail-{name}")

    log_in(team, site, "institution_staff")
    team.goto(challenge_url)
    team.get_by_role("link", name="我要揭榜（领题）").click()
    team.get_by_label("团队名称").fill("高分子成型课题组")
    team.locator("#m0-n").fill("周教授")
    team.locator("#m0-r").fill("负责人")
    team.get_by_label("技术路线").fill("模流分析优化保压曲线，随形冷却水路。")
    team.get_by_label("报价（万元）").fill("70")
    team.get_by_label("工期（天）").fill("60")
    team.locator("#s0-t").fill("模流分析报告")
    team.locator("#s0-due").fill((today + timedelta(days=30)).isoformat())
    team.locator("#s0-a").fill("30")
    shot(team, f"challenge-apply-{name}")
    team.get_by_role("button", name="提交申请").click()
    expect(team.locator("h1")).to_contain_text("高分子成型课题组")

    ent.goto(challenge_url + "/applications")
    expect(ent.locator(".compare-table")).to_contain_text("模流分析")
    shot(ent, f"challenge-compare-{name}")
    ent.get_by_role("button", name="选中").first.click()
    ent.goto(challenge_url)
    ent.get_by_role("button", name="开始攻关").click()
    ent.get_by_role("button", name="开始验题").click()
    ent.get_by_role("link", name="录入验题结果").click()
    values = ["0.04", "98.5"]
    fieldsets = ent.locator("fieldset.measurement")
    for i, value in enumerate(values):
        box = fieldsets.nth(i)
        box.get_by_label("测量值").fill(value)
        box.get_by_label("地点（产线）").fill("总装二线")
        box.get_by_label("验证人").fill("质检王工")
    shot(ent, f"challenge-verify-{name}")
    ent.get_by_role("button", name="提交验题结果").click()
    expect(ent.locator("h1 .badge")).to_have_text("验题未通过")
    expect(ent.locator("#verification")).to_contain_text("98.5")
    ent.get_by_role("button", name="重新验题").click()
    ent.get_by_role("link", name="录入验题结果").click()
    for i, value in enumerate(["0.04", "99.3"]):
        box = fieldsets.nth(i)
        box.get_by_label("测量值").fill(value)
        box.get_by_label("地点（产线）").fill("总装二线")
        box.get_by_label("验证人").fill("质检王工")
    ent.get_by_role("button", name="提交验题结果").click()
    expect(ent.locator("h1 .badge")).to_have_text("验题通过")
    shot(ent, f"challenge-verified-{name}")
    team.goto(f"{site.url}/notifications")
    expect(team.locator("main")).to_contain_text("已选中")
    shot(team, f"challenge-bell-{name}")
