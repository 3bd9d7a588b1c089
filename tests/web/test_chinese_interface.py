"""No English where Chinese is expected, and no Chinese label left on `?lang=en`.

Three walks. The enum tables (`shuanglian.labels`): every stored code people read has a table,
every value in it a Chinese and an English name, every workflow machine's states among them.
The templates: none prints an enum column raw. The pages: the demo, seeded from its Chinese
files exactly as `make demo-data` does, is crawled as a visitor and as each demo role; in zh no
run of Latin words is visible outside a short list of names and formats, in en no enum's
Chinese label is visible as a word of its own.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import String
from sqlalchemy.orm import Session

import shuanglian.models  # noqa: F401  (registers every table on Base.metadata)
from shuanglian.audit import AUDIT_ACTION_LABELS, MACHINE_STATE_LABELS
from shuanglian.cli.main import app as cli_app
from shuanglian.config import Settings
from shuanglian.db import Base
from shuanglian.demo import DEMO_PASSWORD, DEMO_USERS
from shuanglian.labels import COLUMNS, enum_tables, label
from shuanglian.patents.service import get_or_create_institution
from shuanglian.web.app import create_app
from shuanglian.web.i18n import in_language
from shuanglian.web.templating import TEMPLATE_DIR, match_percent
from tests.test_cli import run_json, runner
from tests.web.app_server import app_in_thread

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "demo"
CJK = re.compile(r"[\u3400-\u9fff]")
CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
# A run of Latin words with at least one lower-case letter ("published", "same industry");
# all-capital abbreviations (IPC, TRL, PDF) are how Chinese text writes them too.
LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z_\-]*(?: [A-Za-z_\-]+)*")
URL = re.compile(r"https?://\S+")
# A file's name ("patents_cnipa_sample.csv", "g_patent.tsv") is data, whatever its language.
FILE_NAME = re.compile(r"[\w\-]+\.(?:csv|tsv|txt|xlsx|xml|jsonl|json|pdf|docx|png|jpg)\b")

# Column names that hold a code from a fixed list; each such column needs a table in
# shuanglian.labels.COLUMNS unless it is listed here as never shown to people.
ENUM_NAMES = re.compile(
    r"(status|kind|role|level|visibility|stage|intent|verdict|service|ip_owner|ip_type|"
    r"_mode|nature|closed_reason|patent_type|value_grade|source|direction)s?$"
)
NOT_SHOWN = {
    "match_bulk_jobs.status": "a bulk job's progress, read by the CLI's progress bar",
    "match_bulk_jobs.directions": "an engine parameter",
    "match_bulk_matches.direction": "an engine parameter",
    "match_bulk_shards.direction": "an engine parameter",
    "notifications.kind": "the event's code; people read its title",
    "inventory_batches.source": "the imported file's name, not a code",
    "patents.legal_status": "the office's own Chinese words, shown as given",
    "market_listings.contact_role": "free text the institution types (技术经理人), shown as given",
    "deal_contracts.status": "in force or terminated: pages word each case in full",
    "deal_open_licences.status": "in force or withdrawn: pages word each case in full",
    "deal_open_licences.fee_mode": "pages word the fee in full (lump sum, royalty rate)",
}

# Latin words a Chinese page shows on purpose: product and format names, file suffixes, units,
# and the demo's own data (login names, a formula and "mm" in demands, "web" in a title).
ALLOWED_LATIN = {
    "Excel", "PatSnap", "PatentsView", "MiB", "KiB", "mm",
    "csv", "xlsx", "xls", "xml", "tsv", "txt", "json", "jsonl", "pdf", "docx", "jpg",
    "jpeg", "png", "svg", "AlCrN", "web",
    *(u.username for u in DEMO_USERS), "newstaff",  # login names (the CLI test adds one)
}  # fmt: skip

# The Chinese demo files, loaded as the Makefile's demo-data target loads them.
DEMO_STEPS = [
    ("init",),
    ("import", "patents", str(DEMO / "patents_cnipa_sample.csv"), "--institution", "中科大数据研究院"),  # noqa: E501
    ("import", "enterprises", str(DEMO / "enterprises_2002_sample.csv")),
    ("import", "demands", str(DEMO / "demands.csv")),
    ("index", "build"),
    ("demo", "seed"),
]  # fmt: skip


def test_every_enum_names_each_value_in_chinese_and_english() -> None:
    for name, table in enum_tables().items():
        assert table, name
        for value, pair in table.items():
            zh, en = pair
            assert zh and CJK.search(zh), (name, value, zh)
            assert not re.search(r"[a-z]{2,}", zh), (name, value, zh)
            assert en.strip() and not CJK.search(en), (name, value, en)


def test_every_enum_column_has_a_table() -> None:
    tables = enum_tables()
    for key, enum in COLUMNS.items():
        table_name, column = key.split(".")
        assert column in Base.metadata.tables[table_name].c, key
        assert enum in tables, key
    missing = [
        f"{table.name}.{col.name}"
        for table in Base.metadata.sorted_tables
        for col in table.c
        if isinstance(col.type, String) and ENUM_NAMES.search(col.name)
    ]
    missing = [k for k in missing if k not in COLUMNS and k not in NOT_SHOWN]
    assert missing == [], f"columns holding codes without names for people: {missing}"


def test_every_workflow_state_table_is_the_enum_table() -> None:
    """A machine's states are named once: the table `shuanglian.labels` serves."""
    registered = {id(t) for t in enum_tables().values()}
    import shuanglian.challenges.states  # noqa: F401  (defining a machine registers it)
    import shuanglian.deals.pipeline  # noqa: F401
    import shuanglian.inventory.review  # noqa: F401
    import shuanglian.pilots.service  # noqa: F401

    assert MACHINE_STATE_LABELS
    for machine, states in MACHINE_STATE_LABELS.items():
        assert id(states) in registered, machine


# `{{ x.status }}`, `{{ l.kind }}`: an enum column printed as stored (a CSS class such as
# `state-{{ c.status }}` is no text).
RAW_PRINT = re.compile(r"(?<![-=\"])\{\{\s*([\w.]+\.(" + "|".join(
    sorted({key.split(".")[1] for key in COLUMNS})
) + r"))\s*\}\}")  # fmt: skip
# Attributes that share a column's name but hold words, not codes.
NOT_CODES = {
    "m.role": "a team member's role, as the team typed it",
    "i.level": "a GB/T 4754 level, stored as its Chinese name (门类, 大类)",
    "i.source": "an indicator's data source, a sentence",
}


def test_no_template_prints_an_enum_column_raw() -> None:
    found = [
        f"{path.relative_to(TEMPLATE_DIR)}: {m.group(0)}"
        for path in sorted(TEMPLATE_DIR.rglob("*.html"))
        for m in RAW_PRINT.finditer(path.read_text(encoding="utf-8"))
        if m.group(1) not in NOT_CODES
    ]
    assert found == []


class _Visible(HTMLParser):
    """The text a reader sees (buttons' values and placeholders included), and the links."""

    SKIP = {"script", "style", "template", "code", "kbd", "pre", "samp"}

    def __init__(self) -> None:
        super().__init__()
        self.skipping: list[str] = []
        self.parts: list[str] = []
        self.links: list[str] = []
        self.lang = "zh"
        # Inline marks (a shared word marked in a title) do not split the text a reader sees.
        self.glue = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = (a.get("lang") or "zh").split("-")[0]
            return
        if tag == "mark":
            self.glue = True
            return
        # Text marked as the other language (the "English" switch, a Chinese legal notice
        # quoted on an English page) is there on purpose.
        other = (a.get("lang") or self.lang).split("-")[0] != self.lang
        if tag in self.SKIP or other:
            if tag not in ("input", "br", "img", "meta", "link"):
                self.skipping.append(tag)
            return
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        if self.skipping:
            return
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.parts.append(a["value"] or "")
        for key in ("placeholder", "title", "aria-label", "alt"):
            if a.get(key):
                self.parts.append(a[key] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self.glue = True
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            if self.glue and self.parts:
                self.parts[-1] += data.strip()
            else:
                self.parts.append(data.strip())
        self.glue = False


def _crawl(client: TestClient) -> Iterator[tuple[str, list[str]]]:
    """(path, visible text nodes) of every page reachable by links, a few of each shape."""
    todo, seen, shapes = ["/"], set(), defaultdict(int)
    while todo:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code < 500, path
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        parser = _Visible()
        parser.feed(response.text)
        yield path, [FILE_NAME.sub(" ", URL.sub(" ", part)) for part in parser.parts]
        for href in parser.links:
            href = href.split("#")[0]
            if not href.startswith("/") or href.startswith("//") or href in seen:
                continue
            if re.search(r"logout|lang=|\.(pdf|xlsx|csv|png|svg|zip)|/static/|/export", href):
                continue
            shape = re.sub(r"\d+", "N", href.split("?")[0])
            if shapes[shape] < 3:
                shapes[shape] += 1
                todo.append(href)


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("zh-demo")
    env = {"SHUANGLIAN_HOME": str(home), "SHUANGLIAN_DATABASE_URL": ""}
    for step in DEMO_STEPS:
        code, out = run_json(env, *step)
        assert code == 0, (step, out)
    return env


@pytest.fixture(scope="module")
def demo_app(demo_env: dict[str, str]) -> object:
    return create_app(Settings(home=Path(demo_env["SHUANGLIAN_HOME"]), database_url=None))


@pytest.mark.parametrize(
    "args",
    [
        ("challenges", "list"),
        ("inventory", "review", "--as", "reviewer"),
        (
            "users",
            "create",
            "newstaff",
            "--role",
            "institution_staff",
            "--password",
            "pw-123456789",
            "--institution",
            "中科大数据研究院",
        ),
    ],
)
def test_cli_output_names_codes_in_words(demo_env: dict[str, str], args: tuple[str, ...]) -> None:
    """`challenges list` printed [applications_closed], `users create` (institution_staff)."""
    result = runner.invoke(cli_app, list(args), env=demo_env)
    assert result.exit_code == 0, result.output
    raw = {value for table in enum_tables().values() for value in table if "_" in value}
    shown = set(re.findall(r"[a-z]+(?:_[a-z]+)+", result.output))
    assert shown & raw == set(), result.output


def _client(app: object, username: str | None, lang: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)  # type: ignore[arg-type]
    if username:
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        response = client.post(
            "/login",
            data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
        assert response.status_code == 303, username
    client.cookies.set("lang", lang)
    return client


ROLES = [None, "admin", "tto", "reviewer", "ent", "manager", "pilot"]


@pytest.mark.parametrize("username", ROLES)
def test_chinese_pages_show_no_english_words(demo_app: object, username: str | None) -> None:
    leaks: dict[str, set[str]] = defaultdict(set)
    for path, nodes in _crawl(_client(demo_app, username, "zh")):
        for run in LATIN_RUN.findall(" ".join(nodes)):
            words = [w for w in re.split(r"[ \-]", run) if w]
            if all(w in ALLOWED_LATIN or not re.search(r"[a-z]", w) for w in words):
                continue
            leaks[run].add(re.sub(r"\d+", "N", path))
    assert dict(leaks) == {}


def _chinese_labels() -> set[str]:
    labels = {zh for table in enum_tables().values() for zh, _ in table.values()}
    labels |= {zh for zh, _ in AUDIT_ACTION_LABELS.values()}
    # Labels that are also everyday words data uses ("其他", "中", "无") are no evidence.
    return {zh for zh in labels if len(zh) >= 2}


@pytest.mark.parametrize("username", ROLES)
def test_english_pages_show_no_chinese_labels(demo_app: object, username: str | None) -> None:
    labels = _chinese_labels()
    leaks: dict[str, set[str]] = defaultdict(set)
    for path, nodes in _crawl(_client(demo_app, username, "en")):
        for node in nodes:
            # A node made only of labels ("发明", "转让 0 0", an <option>) is an untranslated
            # label; Chinese data that happens to contain one ("中试平台（演示）") is not.
            runs = CJK_RUN.findall(node)
            if runs and all(run in labels for run in runs):
                leaks[node].add(re.sub(r"\d+", "N", path))
    assert dict(leaks) == {}


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("中科大数据研究院", "institute"),
        ("清华大学深圳研究院", "institute"),
        ("中国科学院大学", "university"),
        ("北京协和医院", "hospital"),
        ("NVIDIA Corporation", "enterprise"),
        ("科技成果公开汇编（2020，演示数据）", "other"),
    ],
)
def test_an_institution_a_file_names_gets_the_kind_its_name_says(
    db_session: Session, name: str, kind: str
) -> None:
    """A 研究院 first met in an import was filed as a university (the column's default)."""
    inst = get_or_create_institution(db_session, name=name)
    assert inst.kind == kind
    assert label("institution_kind", inst.kind, "zh") == enum_tables()["institution_kind"][kind][0]


@pytest.mark.parametrize(
    ("message", "zh", "en"),
    [
        (
            "您还没有技术经理人档案 (no manager profile)",
            "您还没有技术经理人档案",
            "No manager profile",
        ),
        ("同城 (same city): 苏州", "同城：苏州", "same city: 苏州"),
        (
            "不能执行“院系通过” (now “awaiting institution review”: “Approve (college)” is not "
            "possible)",
            "不能执行“院系通过”",
            "Now “awaiting institution review”: “Approve (college)” is not possible",
        ),
        ("请先登录。", "请先登录。", "请先登录。"),  # one language only: shown as it is
        ("平台（演示）", "平台（演示）", "平台（演示）"),
        (
            "统一社会信用代码校验位错误：应为 B，实际为 1（check character should be B, found 1）",
            "统一社会信用代码校验位错误：应为 B，实际为 1",
            "Check character should be B, found 1",
        ),
        ("导出为（CSV）", "导出为（CSV）", "导出为（CSV）"),  # a bracketed code, not a gloss
    ],
)
def test_a_page_shows_the_half_of_a_two_language_message_in_its_language(
    message: str, zh: str, en: str
) -> None:
    assert (in_language(message, "zh"), in_language(message, "en")) == (zh, en)


def test_a_refused_step_names_states_and_steps_in_words_in_both_languages() -> None:
    """The refusal's English half named raw codes ("state institution_review does not allow
    college_approve"), which the CLI prints as they are."""
    from shuanglian.inventory.review import REVIEW
    from shuanglian.workflow import _refusal

    step = REVIEW.transition("college_approve")
    assert step is not None
    message = _refusal(REVIEW, "institution_review", step).message
    assert "待单位审核" in message and "awaiting institution review" in message
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", message), message


# --- What a reader sees in Chromium (desktop and a 375 px phone) -----------------------------

ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def demo_site(demo_app: object) -> Iterator[str]:
    """The demo app (the crawl's) on a real socket, for Chromium."""
    with app_in_thread(demo_app) as url:
        yield url


def _signed_in(browser: object, site: str, username: str, width: int) -> object:
    context = browser.new_context(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{site}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    return page


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 375])
def test_a_table_panel_is_as_wide_as_its_table(browser: object, demo_site: str, width: int) -> None:
    """/challenges/mine sat on a white panel twice as wide as its columns."""
    page = _signed_in(browser, demo_site, "ent", width)
    for lang in ("zh", "en"):
        page.goto(f"{demo_site}/challenges/mine?lang={lang}")  # type: ignore[attr-defined]
        panel, rows = page.evaluate(  # type: ignore[attr-defined]
            """() => { const t = document.querySelector('main table');
                       const r = t.querySelector('tbody tr');
                       return [t.getBoundingClientRect().width,
                               r.getBoundingClientRect().width]; }"""
        )
        assert panel <= rows + 2 and panel <= width, (lang, panel, rows)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"challenges-mine-{lang}-{width}.png"), full_page=True)  # type: ignore[attr-defined]


@pytest.mark.browser
def test_zero_figures_are_quiet_and_weak_matches_show_no_zero_percent(
    browser: object, demo_site: str
) -> None:
    page = _signed_in(browser, demo_site, "admin", 1280)
    page.goto(f"{demo_site}/dashboard")  # type: ignore[attr-defined]
    cards = page.evaluate(  # type: ignore[attr-defined]
        """() => [...document.querySelectorAll('.dash-card')].map(c => [
             c.querySelector('.num').textContent.trim(), c.classList.contains('zero'),
             getComputedStyle(c.querySelector('.num')).color])"""
    )
    zero = {color for num, quiet, color in cards if num == "0"}
    shown = {color for num, quiet, color in cards if num != "0"}
    assert all(quiet == (num == "0") for num, quiet, _ in cards)
    assert zero and shown and zero.isdisjoint(shown)
    page = _signed_in(browser, demo_site, "ent", 375)
    for lang in ("zh", "en"):
        page.goto(f"{demo_site}/workspace/enterprise?lang={lang}")  # type: ignore[attr-defined]
        text = page.inner_text("main")  # type: ignore[attr-defined]
        assert not re.search(r"(低|Low|weak)\s*0%", text)
        page.screenshot(path=str(ARTIFACTS / f"enterprise-{lang}-375.png"), full_page=True)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("value", "shown"), [(0.003, ""), (0.0, ""), (0.012, "1%"), (0.37, "37%")])
def test_a_match_below_one_percent_shows_its_level_only(value: float, shown: str) -> None:
    assert match_percent(value) == shown


def test_the_english_dashboard_names_its_scope_and_provinces_in_english(demo_app: object) -> None:
    """Heading 全平台 · 累计（截至今日） and provinces 北京, 河北 stayed Chinese on ?lang=en."""
    page = _client(demo_app, "admin", "en").get("/dashboard").text
    heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    provinces = page.split('id="t-by_province"', 1)[1].split("</section>", 1)[0]
    assert not CJK.search(heading), heading
    rows = re.findall(r'<th scope="row">([^<]*)</th>', provinces)
    assert rows and not any(CJK.search(r) for r in rows), rows
