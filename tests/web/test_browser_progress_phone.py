"""The inventory progress tables on a 375 px phone (Chromium): each batch reads as a card.

Squeezed into the phone's width, these tables gave the batch column a couple of characters, so
a name like 2025年第一批存量专利盘点 wrapped into a tall column of one- or two-character lines
and the headers 已自评/已审核 stood one character per line. As `table.responsive` rows they
stack label: value, the name on one line, with nothing scrolling sideways. Screenshots go to
test-artifacts/ (looked at by a person).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy.orm import Session

from shuanglian.inventory.service import create_batch
from tests.web.app_server import seeded_site, signed_in_page
from tests.web.factories import PASSWORD, make_institution, make_patent, make_user
from tests.web.test_browser import shot

pytestmark = pytest.mark.browser

PHONE = 375
BATCH = "2025年第一批存量专利盘点"  # 14 characters: one line in a phone's width


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    def seed(session: Session) -> None:
        inst = make_institution(session, "进度测试大学")
        ids = [make_patent(session, inst, title=f"一种锂电池回收方法{n}").id for n in range(3)]
        clerk = make_user(session, "institution_staff", username="p-clerk", institution_id=inst.id)
        create_batch(session, actor=clerk, institution_id=inst.id, name=BATCH, patent_ids=ids)

    with seeded_site(tmp_path_factory.mktemp("progress-home"), seed) as url:
        yield url


@pytest.fixture(scope="module")
def phone(browser: Browser, url: str) -> Iterator[Page]:
    page = signed_in_page(browser, url, "p-clerk", PASSWORD, width=PHONE, height=740)
    yield page
    page.context.close()


# The page, the batch name's cell in its progress table, and the screenshot's name.
TABLES = [
    ("/workspace/institution", "#inventory tbody td", "progress-375-institution"),
    ("/workspace/institution/flow", "#batches tbody td", "progress-375-flow"),
    ("/workspace/institution/imports", "#assessment tbody td", "progress-375-imports"),
]

# How many line boxes a cell's text (its label drawn by CSS left out) is laid out on.
TEXT_LINES = """cell => {
  const range = document.createRange();
  range.selectNodeContents(cell.querySelector('a') || cell);
  const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
  return tops.size;
}"""


@pytest.mark.parametrize(("path", "cell", "name"), TABLES)
def test_a_batch_reads_on_one_line_on_a_phone(
    phone: Page, url: str, path: str, cell: str, name: str
) -> None:
    for lang in ("?lang=en", "?lang=zh"):  # the language sticks: Chinese last, as shot
        phone.goto(url + path + lang)
        batch = phone.locator(cell).first
        assert BATCH in batch.inner_text()
        box = batch.bounding_box()
        font_px = float(batch.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
        assert box is not None and box["width"] >= 8 * font_px, (path, lang, box)
        assert batch.evaluate(TEXT_LINES) == 1, (path, lang)
        table = batch.locator("xpath=ancestor::table[1]")
        assert table.evaluate("t => t.scrollWidth <= t.clientWidth + 1"), (path, lang)
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE, (path, lang)
    shot(phone, name)
