"""Every deals page in English (`?lang=en`): no label, heading, button, hint or table header
left in Chinese. Data (titles, names, the Chinese legal terms of a declaration) stay as typed.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from html.parser import HTMLParser
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.deals import distribution, open_licences, pipeline
from shuanglian.deals.contracts import add_payment, create_contract
from shuanglian.mail import outbox_dir
from shuanglian.web.templating import TEMPLATE_DIR
from tests.deals.helpers import build_world, contract_data, open_deal
from tests.web.factories import login

CJK = re.compile(r"[\u3400-\u9fff\uff08\uff09\uff1a\uff1b\u3001\u3002]")
CHROME = {"label", "th", "dt", "legend", "summary", "button", "h2", "small"}
DEALS_TEMPLATES = TEMPLATE_DIR / "deals"
L_CALL = re.compile(r"""L\(\s*(["'])(.*?)\1\s*,\s*(["'])(.*?)\3\s*\)""")


class _Chrome(HTMLParser):
    """Collects the text of the page's labels, headings, buttons and hints."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.found: list[tuple[str, str]] = []
        self._text: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("input", "br", "meta", "link", "img", "option"):
            return
        a = dict(attrs)
        data_lang = a.get("lang") == "zh-CN"
        chrome = tag in CHROME or "hint" in (a.get("class") or "").split()
        self.stack.append((tag, data_lang))
        self._text.append([] if chrome else None)  # type: ignore[arg-type]

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, _ = self.stack.pop()
            text = self._text.pop()
            if text is not None:
                self.found.append((open_tag, "".join(text).strip()))
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if any(zh for _, zh in self.stack):
            return  # marked as Chinese data (a declaration's published terms)
        if self.stack and self.stack[-1][0] == "option":
            return
        for collected in self._text:
            if collected is not None:
                collected.append(data)


def _chinese_chrome(html: str) -> list[tuple[str, str]]:
    parser = _Chrome()
    parser.feed(html.split('<main id="main">', 1)[1].split("</main>", 1)[0])
    return [(tag, text) for tag, text in parser.found if CJK.search(text)]


def test_templates_give_english_for_every_label() -> None:
    """Static half: each L("中文", "English") pair has an English side without Chinese."""
    for path in sorted(DEALS_TEMPLATES.glob("*.html")):
        for match in L_CALL.finditer(path.read_text(encoding="utf-8")):
            zh, en = match.group(2), match.group(4)
            if zh:
                assert en.strip() and not CJK.search(en), (path.name, zh, en)


def test_every_deals_page_in_english(db_session: Session, client: TestClient) -> None:
    w = build_world(db_session)
    deal = open_deal(db_session, w, manager_id=w.manager.id)
    pipeline.add_service(
        db_session,
        actor=w.staff,
        deal_id=deal.id,
        data={"kind": "company", "details": {"name": "新公司", "registered_capital": "100"}},
    )
    pipeline.add_document(
        db_session, actor=w.staff, deal_id=deal.id, kind="nda", filename="a.pdf", content=b"%PDF-1"
    )
    contract = create_contract(
        db_session,
        actor=w.staff,
        data=contract_data(w, "equity", "contribution", deal_id=deal.id),
    )
    add_payment(
        db_session,
        actor=w.staff,
        contract_id=contract.id,
        data={"received_on": "2025-03-02", "amount": "100"},
    )
    unpaid = create_contract(
        db_session,
        actor=w.staff,
        data=contract_data(w, "transfer", "patent_right", deal_id=deal.id),
    )
    ol = open_licences.declare_open_licence(
        db_session,
        actor=w.staff,
        data={
            "patent_id": w.patent.id,
            "fee_mode": "lump_sum",
            "fee_amount": "5",
            "payment_method": "银行转账",
            "term_years": 3,
        },
    )
    distribution.set_rule(
        db_session,
        actor=w.staff,
        institution_id=w.inst.id,
        data={"inventor_pct": 70, "tto_pct": 10, "institution_pct": 20, "inventor_equity_pct": 60},
    )
    pages = {
        "board.html": f"/deals/board?manager_id={w.manager.id}",
        "list.html": "/deals",
        "new.html": f"/deals/new?push_id={w.push.id}",
        "detail.html": f"/deals/{deal.id}",
        "managers.html": "/managers",
        "open_licences.html": "/open-licences",
        "open_licence.html": f"/open-licences/{ol.id}",
        "open_licence_new.html": "/open-licences/new",
        "contract_new.html": f"/deals/{deal.id}/contracts/new?kind=equity",
        "contract.html": f"/contracts/{contract.id}",
        "contracts.html": "/contracts",
        "contract_edit.html": f"/contracts/{unpaid.id}/edit",
        "manager_form.html": f"/managers/{w.manager.id}/edit",
        "distribution_rule.html": f"/distribution-rule?institution=%23{w.inst.id}",
    }
    covered = {p.name for p in DEALS_TEMPLATES.glob("*.html") if not p.name.startswith("_")}
    assert covered == set(pages), "a deals template is missing from this walk"
    login(client, w.admin)  # an admin sees every form on every page
    for template, url in pages.items():
        sep = "&" if "?" in url else "?"
        response = client.get(f"{url}{sep}lang=en")
        assert response.status_code == 200, (template, response.text[:300])
        assert _chinese_chrome(response.text) == [], template
        zh = client.get(f"{url}{sep}lang=zh")
        assert zh.text != response.text, f"{template}: the same page in both languages"
    # The check does see Chinese labels when they are there.
    assert ("h2", "合同") in _chinese_chrome(client.get(f"/deals/{deal.id}?lang=zh").text)
    # Each contract type's own fields are labelled in English too.
    for kind in ("transfer", "licence", "development"):
        page = client.get(f"/deals/{deal.id}/contracts/new?kind={kind}&lang=en")
        assert _chinese_chrome(page.text) == [], kind
    login(client, w.ent_user)
    page = client.get(f"/open-licences/{ol.id}?lang=en")
    assert "Take the licence" in page.text and _chinese_chrome(page.text) == []


def test_workspace_links_in_english(db_session: Session, client: TestClient) -> None:
    w = build_world(db_session)
    login(client, w.ent_user)
    page = client.get("/workspace/enterprise?lang=en")
    assert f'href="/deals/new?push_id={w.push.id}">Start a deal' in page.text


def test_a_deal_step_is_told_in_both_languages(
    db_session: Session, client: TestClient, tmp_path: Path
) -> None:
    """Closing a deal tells the enterprise in its page's language, and the e-mail copy carries
    the Chinese first, then the English."""
    w = build_world(db_session)
    w.ent_user.email = "ent@example.com"
    deal = open_deal(db_session, w)
    settings = Settings(home=tmp_path)
    db_session.info["settings"] = settings  # e-mail copies go to the outbox
    pipeline.move_deal(
        db_session,
        actor=w.staff,
        deal_id=deal.id,
        action="close",
        reason="price",
        note="对方预算不足",
    )
    db_session.commit()  # the copy goes out once the step is stored
    del db_session.info["settings"]
    zh_title = "洽谈项目“固废基胶凝材料产业化”进入终止阶段"
    en_title = "Deal “固废基胶凝材料产业化” moved to stage: Closed (lost)"
    zh_body, en_body = "价格未谈拢：对方预算不足", "No agreement on price: 对方预算不足"

    [path] = sorted(outbox_dir(settings).glob("*.eml"))
    mail = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert mail["To"] == "ent@example.com"
    assert mail["Subject"] == f"[双链] {zh_title} / {en_title}"
    text = mail.get_content()
    order = [text.index(part) for part in (zh_title, zh_body, en_title, en_body, "/deals/")]
    assert order == sorted(order), text

    login(client, w.ent_user)
    page = client.get("/notifications").text
    assert zh_title in page and zh_body in page and en_title not in page
    english = client.get("/notifications?lang=en").text
    assert en_title in english and en_body in english and zh_title not in english
