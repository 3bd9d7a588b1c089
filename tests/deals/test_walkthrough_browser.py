"""The whole chain in Chromium, on a desktop and on a 375 px phone: an enterprise starts a deal
from a push it answered with an intent; the institution's staff record a valuation, upload a
document, record a 作价入股 contract with its own fields, a payment and see the split; they
declare an open licence, an enterprise takes it and downloads the licence PDF. Screenshots go
to test-artifacts/deals-walk-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect

from shuanglian.accounts.passwords import use_cheap_hashing_for_tests
from shuanglian.config import Settings
from shuanglian.db import Base, make_engine, make_session_factory, session_scope
from shuanglian.inventory.models import Feedback, Push, PushRound
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
SIZES = {"desktop": (1440, 900), "phone": (375, 740)}


def _seed(settings: Settings) -> None:
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    with session_scope(make_session_factory(engine)) as session:
        inst = make_institution(session, "东北新材料大学")
        make_user(session, "institution_staff", institution_id=inst.id, username="walk-staff")
        rnd = PushRound(per_patent=5, per_enterprise_cap=50)
        session.add(rnd)
        session.flush()
        for name in SIZES:
            ent = make_enterprise(session, f"{name}建材股份有限公司")
            make_user(session, "enterprise_user", enterprise_id=ent.id, username=f"walk-{name}")
            patent = make_patent(
                session, inst, title=f"钢渣基胶凝材料（{name}）", expiry_date=date(2040, 1, 1)
            )
            make_listing(session, inst, title=patent.title, patents=[patent])
            make_patent(
                session, inst, title=f"赤泥陶粒制备方法（{name}）", expiry_date=date(2040, 1, 1)
            )
            push = Push(
                round_id=rnd.id, patent_id=patent.id, enterprise_id=ent.id, rank=1, score=0.8
            )
            session.add(push)
            session.flush()
            session.add(
                Feedback(
                    push_id=push.id,
                    patent_id=patent.id,
                    enterprise_id=ent.id,
                    prospect=5,
                    intent="作价入股",
                )
            )
    engine.dispose()


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    use_cheap_hashing_for_tests()
    settings = Settings(home=tmp_path_factory.mktemp("walk-home"), database_url=None)
    _seed(settings)
    with app_in_thread(create_app(settings)) as url:
        yield url


def _login(browser: Browser, url: str, username: str, size: tuple[int, int]) -> Page:
    return signed_in_page(
        browser, url, username, PASSWORD, width=size[0], height=size[1], accept_downloads=True
    )


def _shot(page: Page, name: str, step: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"deals-walk-{name}-{step}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{step}: page scrolls sideways ({width}px)"  # type: ignore[index]


@pytest.mark.parametrize("name", list(SIZES))
def test_the_whole_chain(browser: Browser, url: str, name: str) -> None:
    size = SIZES[name]
    # 1. The enterprise starts a deal from the push it answered with an intent.
    ent = _login(browser, url, f"walk-{name}", size)
    ent.goto(f"{url}/workspace/enterprise")
    ent.get_by_role("link", name="发起洽谈").first.click()
    expect(ent.get_by_role("heading", name="发起洽谈")).to_be_visible()
    expect(ent.get_by_label("机构（输入名称选择）")).to_have_value("东北新材料大学 (#1)")
    _shot(ent, name, "1-new-deal")
    ent.get_by_role("button", name="发起洽谈").click()
    expect(ent.get_by_role("heading", name="进展记录")).to_be_visible()
    deal_url = ent.url
    # 2. The institution's staff record a valuation and upload the valuation report.
    staff = _login(browser, url, "walk-staff", size)
    staff.goto(deal_url)
    staff.get_by_text("记录价值评估").click()
    form = staff.locator("#add-valuation")
    form.get_by_label("评估方法").fill("收益法")
    form.get_by_label("评估值（万元）").fill("abc")
    form.get_by_role("button", name="保存").click()
    expect(staff.locator("#add-valuation .field-error")).to_contain_text("须为数字")
    form = staff.locator("#add-valuation")
    form.get_by_label("评估值（万元）").fill("8500")
    form.get_by_role("button", name="保存").click()
    expect(staff.locator("#services .row.service")).to_contain_text("评估方法：收益法")
    staff.locator("#f-doc-kind").select_option("valuation")
    staff.locator("#f-doc-file").set_input_files(
        {"name": "评估报告.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 report"}
    )
    staff.get_by_role("button", name="上传").click()
    expect(staff.locator("#documents")).to_contain_text("评估报告.pdf")
    _shot(staff, name, "2-deal")
    # 3. A 作价入股 contract: choosing the type shows its own fields.
    staff.get_by_role("link", name="录入合同").click()
    expect(staff.get_by_label("被投资公司名称 *")).to_have_count(0)
    staff.get_by_label("合同类型").select_option("equity")  # reloads the form (deals.js)
    expect(staff.get_by_label("被投资公司名称 *")).to_be_visible()
    staff.get_by_label("被投资公司名称 *").fill("辽宁钢渣新材料有限公司")
    staff.get_by_label("技术作价（万元） *").fill("8500")
    staff.get_by_label("出资额（万元）").fill("2000")
    staff.get_by_label("持股比例（%） *").fill("120")
    staff.get_by_label("出资日期 *").fill("2025-03-10")
    staff.get_by_label("评估报告文号 *").fill("辽评报字[2025]第012号")
    staff.get_by_label("签订日期 *").fill("2025-03-01")
    staff.get_by_label("合同成交额（万元） *").fill("8500")
    staff.get_by_role("button", name="保存合同").click()
    expect(staff.locator("#err-details\\.percentage")).to_contain_text("0–100%")
    _shot(staff, name, "3-contract-error")
    staff.get_by_label("持股比例（%） *").fill("20")
    staff.get_by_role("button", name="保存合同").click()
    expect(staff.get_by_role("heading", name="收益分配")).to_be_visible()
    # 4. A payment received and its split (law's floor: half of the net to the inventors).
    staff.get_by_label("到账日期 *").fill("2025-04-01")
    staff.get_by_label("金额（万元） *").first.fill("100")
    staff.get_by_role("button", name="记录到账").click()
    expect(staff.locator(".totals")).to_contain_text("50 万元")
    _shot(staff, name, "4-contract")
    # 5. An open licence declared by the staff, taken by the enterprise, the PDF downloaded.
    staff.goto(f"{url}/open-licences/new")
    staff.get_by_label("专利（申请号或名称） *").fill(f"赤泥陶粒制备方法（{name}）")
    staff.get_by_label("许可使用费（万元，一次性时）").fill("5")
    staff.get_by_role("button", name="发布声明").click()
    expect(staff.get_by_text("开放许可实施中")).to_be_visible()
    licence_url = staff.url
    ent.goto(licence_url)
    ent.get_by_label("付款凭证号 *").fill("TX-2025-001")
    ent.get_by_role("button", name="提交通知并获得许可").click()
    with ent.expect_download() as download:
        ent.get_by_role("link", name="下载开放许可证 (PDF)").click()
    path = download.value.path()
    assert path is not None and path.read_bytes().startswith(b"%PDF-")
    _shot(ent, name, "5-licence")
    staff.context.close()
    ent.context.close()
