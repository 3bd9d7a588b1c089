"""Fill a database with N realistic patents and M supermarket listings, fast (issues 2, 4, 5).

Why not the importers: they validate and upsert row by row (they have their own benchmarks);
a scale test needs a million rows in minutes. Rows are built once per scale and seed, cached
in COPY text format under `benchmarks/work/scale/<key>/`, then written in bulk: PostgreSQL
through COPY (psycopg `cursor.copy`), SQLite through one `executemany` per table.

What the rows look like (fixed seed, so every machine gets the same bytes)
    patents       titles, abstracts and IPC codes from `benchmarks/corpus.py` (real Lens.org,
                  USPTO and CNIPA texts recombined; ~5% Chinese); CN application numbers with
                  the CNIPA check digit; invention/utility-model type, filing, grant and expiry
                  dates; `search_text` exactly as `normalize_for_search` writes it.
    institutions  one per 500 patents (a university or institute in one of 31 provinces).
    pool          `pool_share` of the patents are in the convertible pool (about half, as in
                  the 2024–2025 national inventory: ~680k of 1.35M), with score, grade, tier.
    listings      the first M pooled patents, one listing each; 5% are packages of 2–3 patents
                  of the same institution; 95% published, the rest draft or withdrawn. Industry
                  (GB/T 4754 大类) and WIPO field come from the patent's IPC through
                  `shuanglian.reference`; modes, TRL, price (万元, 20% 面议), views are drawn.

    .venv/bin/python benchmarks/scale_data.py --patents 1000000 --listings 100000 \
        [--sqlite] [--postgresql] [--seed 42] [--cache-only] [--drop]

prints one JSON object per database (url, rows per table, seconds, size in bytes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Engine, Integer, Numeric, Table, text

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORK = ROOT / "benchmarks" / "work" / "scale"
GENERATOR_VERSION = 8
PG_ADMIN_URL = os.environ.get(
    "SHUANGLIAN_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NULL = r"\N"  # COPY's NULL marker in the cached files
# Listings and patents carry timestamps before this instant (not "now": the bytes must not
# depend on the day the cache was built).
BASE_TIME = datetime(2026, 11, 1, tzinfo=UTC)
# Loading order respects foreign keys.
TABLES = (
    "institutions",
    "patents",
    "patent_terms",
    "inventory_pool",
    "market_listings",
    "market_listing_patents",
    "market_listing_terms",
)
PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆",
    "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆",
)  # fmt: skip
INSTITUTION_KINDS = (("university", "大学"), ("institute", "研究院"))
MODES = ("transfer", "licence", "open_licence", "equity", "joint_dev")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EN_WORD = re.compile(r"[a-z]{5,}")


@dataclass(frozen=True)
class Scale:
    """How much data to build; the cache key and the database names derive from it."""

    patents: int
    listings: int
    seed: int = 42
    pool_share: float = 0.5

    def __post_init__(self) -> None:
        if self.patents < 1 or self.listings < 0:
            raise ValueError("patents must be ≥ 1 and listings ≥ 0")
        if self.listings > self.patents:
            raise ValueError(f"listings ({self.listings}) cannot exceed patents ({self.patents})")

    @property
    def institutions(self) -> int:
        return max(1, self.patents // 500)

    @property
    def pooled(self) -> int:
        """Patents in the pool: `pool_share` of them, and never fewer than the listings."""
        return min(self.patents, max(self.listings, round(self.patents * self.pool_share)))

    @property
    def key(self) -> str:
        share = f"{self.pool_share:g}".replace(".", "")
        return f"p{self.patents}-l{self.listings}-s{self.seed}-q{share}"


@dataclass
class FillReport:
    """What `fill_database` did: where, how many rows, how long, how big."""

    url: str
    backend: str
    rows: dict[str, int]
    seconds: float
    reused: bool
    size_bytes: int


# --------------------------------------------------------------------------- row building


def search_form(text_: str) -> str:
    """`normalize_for_search`, with a fast path for pure-ASCII text (95% of the corpus).

    For ASCII the full function reduces to: drop control characters, squeeze spaces, lower
    (width folding, NFC and Traditional→Simplified change nothing); a test checks the two agree.
    Skipping OpenCC there saves about two minutes per million patents.
    """
    if text_.isascii():
        if not text_.isprintable():  # control characters, tabs or newlines
            text_ = _CONTROL.sub("", text_)
        # str.split() splits on exactly what the regex \s+ matches.
        return " ".join(text_.split()).lower()
    from shuanglian.text.normalize import normalize_for_search

    return normalize_for_search(text_)


_CN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)  # CNIPA check digit, as patents.numbers
_HI = [
    sum(int(d) * w for d, w in zip(f"{n:03d}", _CN_WEIGHTS[5:8], strict=True)) for n in range(1000)
]
_LO = [
    sum(int(d) * w for d, w in zip(f"{n:04d}", _CN_WEIGHTS[8:], strict=True)) for n in range(10000)
]


def _cn_number(index: int, year: int, kind_digit: str) -> tuple[str, str]:
    """(application key, display number) for a unique CN application of `year`.

    The check digit is `patents.numbers.cn_check_digit`, summed from lookup tables (a
    million calls); a test checks every number with the real validator.
    """
    serial = f"{year}{kind_digit}{index % 10_000_000:07d}"
    head = sum(int(d) * w for d, w in zip(serial[:5], _CN_WEIGHTS, strict=False))
    value = (head + _HI[int(serial[5:8])] + _LO[int(serial[8:])]) % 11
    return f"CN{serial}", f"CN{serial}.{'X' if value == 10 else value}"


def _summary(abstract: str, limit: int = 400) -> str:
    """The abstract cut at a sentence end before `limit` characters (whole text if short)."""
    if len(abstract) <= limit:
        return abstract
    cut = max(abstract.rfind(". ", 0, limit), abstract.rfind("。", 0, limit))
    return abstract[: cut + 1] if cut > 40 else abstract[:limit]


class _Industry:
    """IPC → (GB/T 4754 大类 codes with section letter, their names, WIPO field), memoised."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[list[str], list[str], str | None]] = {}

    def __call__(self, ipc: str | None) -> tuple[list[str], list[str], str | None]:
        key = (ipc or "").split("/")[0]
        if key not in self._cache:
            self._cache[key] = self._lookup(ipc or "")
        return self._cache[key]

    @staticmethod
    def _lookup(ipc: str) -> tuple[list[str], list[str], str | None]:
        from shuanglian.reference.gbt4754 import industry
        from shuanglian.reference.industry_link import industries_for_ipc
        from shuanglian.reference.ipc import technology_field

        try:
            ranked = industries_for_ipc(ipc) if ipc else []
        except ValueError:
            ranked = []
        codes, names = [], []
        for code, _weight in ranked[:2]:
            entry = industry(code)
            if entry is not None:
                codes.append(f"{entry.parent_code or ''}{entry.code}")
                names.append(entry.name)
        field = technology_field(ipc) if ipc else None
        return codes, names, field[1] if field else None


def escape(value: str) -> str:
    """A text cell in COPY text format: backslash, tab, newline and CR escaped."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


_UNESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def unescape(cell: str) -> str:
    """The inverse of `escape` (COPY text format)."""
    if "\\" not in cell:
        return cell
    return _UNESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), cell)


def _cell(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return escape(json.dumps(value, ensure_ascii=False))
    return escape(str(value))


class _Writer:
    """One cached file per table in COPY text format (tab-separated), column names first.

    Text format rather than CSV: writing it is a join, where the csv module inspects every
    character of every abstract for quoting (the slowest step at a million patents).
    """

    def __init__(self, folder: Path, name: str, columns: list[str]) -> None:
        self.path = folder / f"{name}.tsv"
        self.columns = columns
        self.count = 0
        self._fh = self.path.open("w", encoding="utf-8", newline="")
        self._fh.write("\t".join(columns) + "\n")

    def write(self, row: dict[str, Any]) -> None:
        self.write_cells([_cell(row.get(c)) for c in self.columns])

    def write_cells(self, cells: list[str]) -> None:
        """A row already formatted and escaped, in column order (the patents' hot path)."""
        self._fh.write("\t".join(cells) + "\n")
        self.count += 1

    def close(self) -> None:
        self._fh.close()


def _grade(score: float) -> str:
    return "A" if score >= 80 else "B" if score >= 65 else "C" if score >= 50 else "D"


def _terms(
    listing_titles: list[str], industry_names: Counter[str], facets: dict[str, Counter[str]]
) -> dict[str, list[str]]:
    """Real search terms and filter values for the load test, from the listings themselves.

    English: words of ≥ 5 letters from listing titles, the most common (many hits, early stop)
    and a middle band (few hits: the scan runs to the end). Chinese: jieba words of the
    Chinese titles, and GB/T 4754 大类 names that appear in the listings' 应用场景. Filters:
    the industry codes, regions and WIPO fields the listings carry, most common first.
    """
    from shuanglian.text.tokenize import stopwords_en, stopwords_zh

    stop = stopwords_en() | stopwords_zh()
    en: Counter[str] = Counter()
    zh: Counter[str] = Counter()
    cut = None
    for title in listing_titles:
        low = title.lower()
        if low.isascii():
            en.update(w for w in _EN_WORD.findall(low) if w not in stop)
            continue
        if cut is None:
            import jieba

            jieba.setLogLevel(60)
            cut = jieba.lcut
        zh.update(w for w in cut(title) if len(w) >= 2 and not w.isascii() and w not in stop)
    ranked = [w for w, _ in en.most_common()]
    middle = ranked[len(ranked) // 4 : len(ranked) // 4 + 40] if len(ranked) > 80 else []
    return {
        "en_common": ranked[:40],
        "en_rare": middle,
        "zh_title": [w for w, _ in zh.most_common(40)],
        "zh_industry": [n for n, _ in industry_names.most_common(30)],
        **{name: [v for v, _ in counts.most_common(40)] for name, counts in facets.items()},
    }


@lru_cache(maxsize=1)
def _sources() -> Any:
    """The corpus sources, read once per process (several seconds: 100k enterprise rows)."""
    from benchmarks.corpus import load_sources

    return load_sources()


def _corpus_docs(scale: Scale) -> Iterator[dict[str, Any]]:
    """The corpus patents for this scale (`benchmarks/corpus.py`, same seed).

    When the corpus module already keeps this many patents as JSONL under
    benchmarks/work/corpus (manifest matching), they are read back, ~4x faster than
    generating them again; otherwise they are generated here without writing that file.
    """
    from benchmarks import corpus

    src = _sources()
    path = corpus.WORK / f"patents-{scale.patents}-s{scale.seed}.jsonl"
    manifest = path.with_suffix(".manifest.json")
    if path.exists() and manifest.exists():
        meta = corpus._meta(src, "patents", scale.patents, scale.seed)
        old = json.loads(manifest.read_text(encoding="utf-8"))
        if all(old.get(k) == v for k, v in meta.items()):
            yield from corpus.iter_docs(path)
            return
    for line in corpus.generate_patents(src, scale.patents, seed=scale.seed):
        yield json.loads(line)


def build_cache(scale: Scale, *, work: Path = WORK) -> Path:
    """Build (or reuse) the rows of every table for `scale` (COPY text files); returns the folder.

    The manifest is written last: a build that stops half-way is never reused.
    """
    folder = work / scale.key
    manifest = folder / "manifest.json"
    want = {"version": GENERATOR_VERSION, "scale": asdict(scale)}
    if manifest.exists():
        old = json.loads(manifest.read_text(encoding="utf-8"))
        if {k: old.get(k) for k in want} == want:
            return folder
        manifest.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    from shuanglian.patents.models import patent_terms_for
    from shuanglian.supermarket.search_terms import listing_terms

    started = time.perf_counter()
    rng = random.Random(scale.seed)
    columns = {
        "institutions": ["id", "name", "kind", "region", "created_at", "updated_at"],
        "patents": [
            "id", "application_key", "application_number", "publication_number",
            "patent_type", "title", "abstract", "search_text", "claims_count", "applicants",
            "inventors", "main_ipc", "ipc_codes", "cpc_codes", "legal_status", "filing_date",
            "publication_date", "grant_date", "expiry_date", "language", "institution_id",
            "created_at", "updated_at",
        ],
        "inventory_pool": [
            "id", "patent_id", "institution_id", "active", "entered_at", "score", "grade",
            "assessed_at", "tier", "created_at", "updated_at",
        ],
        "market_listings": [
            "id", "patent_id", "institution_id", "title", "summary", "scenarios",
            "industries", "tech_field", "region", "trl", "modes", "price",
            "open_licence_terms", "contact_name", "status", "featured", "published_at",
            "search_text", "view_count", "scan_count", "created_at", "updated_at",
        ],
        "market_listing_patents": ["id", "listing_id", "patent_id", "position"],
        "market_listing_terms": ["term", "listing_id"],
        "patent_terms": ["term", "patent_id"],
    }  # fmt: skip
    writers = {name: _Writer(folder, name, cols) for name, cols in columns.items()}
    n_inst = scale.institutions
    inst_names: list[str] = []
    inst_regions: list[str] = []
    for i in range(n_inst):
        kind, kind_zh = INSTITUTION_KINDS[0 if i % 4 else 1]
        region = PROVINCES[i % len(PROVINCES)]
        name = f"{region}基准{kind_zh}{i + 1:04d}"
        inst_names.append(name)
        inst_regions.append(region)
        when = BASE_TIME - timedelta(days=900)
        writers["institutions"].write(
            {"id": i + 1, "name": name, "kind": kind, "region": region,
             "created_at": when, "updated_at": when}
        )  # fmt: skip
    # Package members must share the lead's institution and must not be another listing's
    # lead: patent ids congruent to the lead's modulo n_inst, beyond the listed range.
    stride = -(-max(scale.listings, 1) // n_inst) * n_inst
    packaged: dict[int, list[int]] = {}
    for lid in range(1, scale.listings + 1):
        extra = [lid + stride * k for k in (1, 2)[: rng.choice((1, 2))]]
        if rng.random() < 0.05 and all(p <= scale.pooled for p in extra):
            packaged[lid] = extra
    lead_of = {p: lid for lid, members in packaged.items() for p in members}
    pending: dict[int, dict[str, Any]] = {}  # listings waiting for their package members
    industry_of = _Industry()
    titles: list[str] = []
    industry_names: Counter[str] = Counter()
    facets: dict[str, Counter[str]] = {"industries": Counter(), "regions": Counter()}
    facets["tech_fields"] = Counter()
    lp_id = 0
    # The patent loop runs a million times: cells are preformatted strings, JSON lists and
    # dates come from small lookup tables, and rng draws are plain floats.
    day0 = date(2012, 1, 1)
    day_iso = [(day0 + timedelta(days=d)).isoformat() for d in range(365 * 17)]
    created_iso = (BASE_TIME - timedelta(days=700)).isoformat()
    entered_iso = [(BASE_TIME - timedelta(days=d)).isoformat() for d in range(30, 600)]
    applicants_json = [escape(json.dumps([n], ensure_ascii=False)) for n in inst_names]
    ipc_json: dict[tuple[str, ...], str] = {}
    patent_writer = writers["patents"]
    for i, doc in enumerate(_corpus_docs(scale)):
        pid = i + 1
        inst = 1 + i % n_inst
        title = doc["title"][:1000]
        abstract = doc["text"]
        ipc = list(doc["metadata"].get("ipc") or [])
        ipc_key = tuple(ipc)
        if ipc_key not in ipc_json:
            ipc_json[ipc_key] = escape(json.dumps(ipc, ensure_ascii=False))
        invention = rng.random() < 0.75
        filed_day = int(rng.random() * 365 * 12)
        filed = day_iso[filed_day]
        key, number = _cn_number(i, int(filed[:4]), "1" if invention else "2")
        term = 20 if invention else 10
        # Statutory end of term (Patent Law art. 42): same day, 20 or 10 years on.
        expiry = f"{int(filed[:4]) + term}{filed[4:]}".replace("-02-29", "-02-28")
        # Inventions are published ~18 months after filing and granted later; utility models
        # are published when granted, about 6–9 months after filing.
        grant_lag = 600 + int(rng.random() * 700) if invention else 180 + int(rng.random() * 90)
        published_lag = 540 + int(rng.random() * 30) if invention else grant_lag
        patent_writer.write_cells(
            [
                str(pid), key, number, f"CN{100_000_000 + i:09d}{'B' if invention else 'U'}",
                "invention" if invention else "utility_model", escape(title), escape(abstract),
                escape(search_form(f"{title} {abstract}")), str(1 + int(rng.random() * 20)),
                applicants_json[inst - 1], "[]", escape(ipc[0][:20]) if ipc else NULL,
                ipc_json[ipc_key], "[]", "有效", filed,
                day_iso[filed_day + published_lag],
                day_iso[filed_day + grant_lag], expiry, doc["metadata"].get("lang", "zh"),
                str(inst), created_iso, created_iso,
            ]
        )  # fmt: skip
        # The patents' search index, as the importers write it (`patent_terms_for`).
        for word in sorted(patent_terms_for(title, None)):
            writers["patent_terms"].write_cells([escape(word), str(pid)])
        if pid <= scale.pooled:
            score = round(30 + rng.random() * 65, 1)
            entered = entered_iso[int(rng.random() * len(entered_iso))]
            roll = rng.random()
            tier = "1" if roll < 0.1 else "2" if roll < 0.4 else "3"
            writers["inventory_pool"].write_cells(
                [str(pid), str(pid), str(inst), "t", entered, str(score), _grade(score),
                 entered, tier, entered, entered]
            )  # fmt: skip
        if pid <= scale.listings:
            codes, names, field = industry_of(ipc[0] if ipc else None)
            industry_names.update(names)
            facets["industries"].update(codes)
            facets["regions"][inst_regions[inst - 1]] += 1
            if field:
                facets["tech_fields"][field] += 1
            titles.append(title)
            modes = rng.sample(MODES, rng.choice((1, 1, 2, 2, 3)))
            price = None if rng.random() < 0.2 else Decimal(f"{10 ** rng.uniform(0.5, 3.3):.1f}")
            fee = f"{rng.choice((0.5, 1, 2, 3, 5, 8, 10))}"
            roll = rng.random()
            status = "published" if roll < 0.95 else "draft" if roll < 0.98 else "withdrawn"
            published_at = BASE_TIME - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
            scenarios = "应用场景：" + "、".join(names) + "等领域。" if names else None
            summary = _summary(abstract)
            pending[pid] = {
                "id": pid, "patent_id": pid, "institution_id": inst, "title": title[:300],
                "summary": summary, "scenarios": scenarios,
                "industries": "," + ",".join(codes) + "," if codes else ",",
                "tech_field": field, "region": inst_regions[inst - 1],
                "trl": rng.randint(3, 9) if rng.random() < 0.9 else None,
                "modes": "," + ",".join(modes) + ",", "price": price,
                "open_licence_terms": f"许可使用费每年 {fee} 万元，普通许可，期限 3 年，"
                "书面通知并付费即可获得许可。" if "open_licence" in modes else None,
                "contact_name": "技术转移中心", "status": status,
                "featured": status == "published" and rng.random() < 0.001,
                "published_at": published_at if status != "draft" else None,
                "view_count": min(int(rng.paretovariate(1.2)) - 1, 100_000),
                "scan_count": min(int(rng.paretovariate(1.5)) - 1, 10_000),
                "created_at": published_at - timedelta(days=3),
                "updated_at": published_at,
                "_parts": [title, summary, scenarios or "", title, number],
                "_members": [pid, *packaged.get(pid, [])],
            }  # fmt: skip
        for lid in [lid for lid in (lead_of.get(pid), pid) if lid in pending]:
            listing = pending[lid]
            if pid != lid:
                listing["_parts"] += [title, number]
            if pid == max(listing["_members"]):
                listing["search_text"] = search_form(" ".join(listing.pop("_parts")))
                for position, member in enumerate(listing.pop("_members")):
                    lp_id += 1
                    writers["market_listing_patents"].write(
                        {"id": lp_id, "listing_id": lid, "patent_id": member, "position": position}
                    )
                writers["market_listings"].write(listing)
                for term in sorted(
                    listing_terms(
                        search_text=listing["search_text"],
                        industries=[c for c in listing["industries"].split(",") if c],
                        modes=[m for m in listing["modes"].split(",") if m],
                        tech_field=listing["tech_field"],
                        region=listing["region"],
                    )
                ):
                    writers["market_listing_terms"].write_cells([escape(term), str(lid)])
                del pending[lid]
    for writer in writers.values():
        writer.close()
    (folder / "terms.json").write_text(
        json.dumps(_terms(titles, industry_names, facets), ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    info = dict(
        want,
        rows={name: w.count for name, w in writers.items()},
        seconds=round(time.perf_counter() - started, 1),
    )
    manifest.write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    return folder


def load_terms(folder: Path) -> dict[str, list[str]]:
    """The search terms saved beside a cache (see `_terms`)."""
    return json.loads((folder / "terms.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- loading


def schema_fingerprint() -> str:
    """A short hash of the tables and indexes: a loaded database is reused only while equal."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateTable

    import shuanglian.models  # noqa: F401  (registers every table)
    from shuanglian.db import Base

    parts = sorted(
        str(CreateTable(t).compile(dialect=sqlite.dialect()))
        + "".join(sorted(str(i.name) for i in t.indexes))
        for t in Base.metadata.tables.values()
    )
    return hashlib.sha256("".join(parts).encode()).hexdigest()[:10]


def _sqlite_datetime(cell: str) -> str:
    """ISO 8601 in UTC ("2026-10-30T14:27:00+00:00") → SQLAlchemy's SQLite storage form."""
    micro = cell[20:26] if cell[19:20] == "." else "000000"
    return f"{cell[:10]} {cell[11:19]}.{micro}"


def _sqlite_value(column: Any) -> Callable[[str], Any]:
    """Cell → the value SQLAlchemy itself would store in SQLite for this column's type.

    Written straight through the DBAPI (3x faster than Core inserts at a million rows):
    booleans as 1/0, timestamps as "YYYY-MM-DD HH:MM:SS.ffffff", dates and JSON as text,
    numbers as text that the column's numeric affinity converts; a test reads the rows back
    through the ORM and compares them with the same rows loaded into PostgreSQL.
    """
    kind = column.type
    if isinstance(kind, Boolean):
        return lambda v: 1 if v == "t" else 0
    if isinstance(kind, DateTime):
        return _sqlite_datetime
    if isinstance(kind, Integer):
        return int
    if isinstance(kind, Numeric | Date):
        return str
    return unescape  # text and JSON


def _insert_sqlite(engine: Engine, path: Path, table: Table) -> None:
    with engine.begin() as conn, path.open(encoding="utf-8", newline="\n") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        convert = [_sqlite_value(table.c[name]) for name in header]
        rows = (
            tuple(
                None if cell == NULL else fn(cell)
                for fn, cell in zip(convert, line.rstrip("\n").split("\t"), strict=True)
            )
            for line in fh
        )
        marks = ", ".join("?" * len(header))
        raw = conn.connection.driver_connection
        raw.executemany(  # type: ignore[union-attr]
            f"INSERT INTO {table.name} ({', '.join(header)}) VALUES ({marks})", rows
        )


def _copy_postgresql(engine: Engine, path: Path, table: str) -> None:
    with engine.begin() as conn, path.open("rb") as fh:
        columns = fh.readline().decode("utf-8").rstrip("\n").split("\t")
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]
            cur.execute("SET LOCAL TIME ZONE 'UTC'")
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with cur.copy(sql) as copy:
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
            if "id" not in columns:
                return
            # Rows came with explicit ids: move the sequence past them for later inserts.
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            )


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)


def database_size(engine: Engine) -> int:
    """Bytes the database takes on disk (SQLite: file + WAL; PostgreSQL: pg_database_size)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar())
    path = Path(engine.url.database or "")
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def fill_database(engine: Engine, *, scale: Scale, cache: Path) -> FillReport:
    """Create the schema and load the cached rows, unless the database already holds them."""
    import shuanglian.models  # noqa: F401  (registers every table)
    from shuanglian.db import Base, refresh_statistics

    started = time.perf_counter()
    rows = json.loads((cache / "manifest.json").read_text(encoding="utf-8"))["rows"]
    Base.metadata.create_all(engine)
    have = {name: _count(engine, name) for name in TABLES}
    reused = have == rows
    if not reused:
        if any(have.values()):
            raise RuntimeError(
                f"数据库已有其他数据，不能装载 (database not empty): {have}; use a fresh one"
            )
        for name in TABLES:
            path = cache / f"{name}.tsv"
            if engine.dialect.name == "postgresql":
                _copy_postgresql(engine, path, name)
                continue
            _insert_sqlite(engine, path, Base.metadata.tables[name])
        if engine.dialect.name == "sqlite":
            # Fold the WAL (as large as the data after a bulk load) into the database file.
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        if engine.dialect.name == "postgresql":
            # What autovacuum does to freshly loaded tables within minutes (statistics, and
            # the visibility map that lets the term index answer without reading the heap),
            # done now so the first measured minute is like the rest.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            # What the app does after an import and at start-up.
            refresh_statistics(engine)
    return FillReport(
        url=engine.url.render_as_string(hide_password=True),
        backend=engine.dialect.name,
        rows=rows,
        seconds=round(time.perf_counter() - started, 1),
        reused=reused,
        size_bytes=database_size(engine),
    )


def sqlite_home(scale: Scale, *, work: Path = WORK) -> Path:
    """The SHUANGLIAN_HOME holding this scale's SQLite file (kept and reused between runs).

    The generator version and the schema are part of the name: rows from another generator
    or tables from another schema are never mistaken for this scale's.
    """
    return work / scale.key / f"sqlite-v{GENERATOR_VERSION}-{schema_fingerprint()}"


def postgresql_name(scale: Scale) -> str:
    """The database name for this scale and schema (kept and reused between runs)."""
    name = f"sl_bench_{scale.key}_v{GENERATOR_VERSION}_{schema_fingerprint()}"
    return re.sub(r"[^a-z0-9_]", "_", name)[:63]


def ensure_postgresql_database(name: str, *, admin_url: str = PG_ADMIN_URL) -> str:
    """Create the database `name` unless it exists; returns its URL."""
    from sqlalchemy import create_engine

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar()
            if not exists:
                conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    finally:
        admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_postgresql_database(name: str, *, admin_url: str = PG_ADMIN_URL) -> None:
    """Drop a benchmark database (connections are closed by force)."""
    from sqlalchemy import create_engine

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def prepare(
    scale: Scale, backend: str, *, work: Path = WORK
) -> tuple[Path, str | None, FillReport]:
    """Cache rows, then fill (or reuse) this scale's database for `backend`.

    Returns (home folder for Settings, database URL or None for SQLite, report).
    """
    from shuanglian.config import Settings
    from shuanglian.db import make_engine

    cache = build_cache(scale, work=work)
    home = sqlite_home(scale, work=work)
    url = None
    if backend == "postgresql":
        url = ensure_postgresql_database(postgresql_name(scale))
        home = work / scale.key / "pg-home"
    engine = make_engine(Settings(home=home, database_url=url))
    try:
        try:
            report = fill_database(engine, scale=scale, cache=cache)
        except BaseException:
            engine.dispose()
            # A half-filled database must not be mistaken for a loaded one next time.
            if url is not None:
                drop_postgresql_database(postgresql_name(scale))
            else:
                Path(engine.url.database or "").unlink(missing_ok=True)
            raise
    finally:
        engine.dispose()
    return home, url, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patents", type=int, default=10_000)
    parser.add_argument("--listings", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pool-share", type=float, default=0.5)
    parser.add_argument("--sqlite", action="store_true", help="fill the SQLite file")
    parser.add_argument("--postgresql", action="store_true", help="fill a PostgreSQL database")
    parser.add_argument("--drop", action="store_true", help="drop the PostgreSQL database after")
    parser.add_argument("--cache-only", action="store_true", help="only build the cached rows")
    args = parser.parse_args(argv)
    try:
        scale = Scale(args.patents, args.listings, args.seed, args.pool_share)
    except ValueError as exc:
        parser.error(str(exc))
    backends = [b for b in ("sqlite", "postgresql") if getattr(args, b)] or ["sqlite"]
    started = time.perf_counter()
    cache = build_cache(scale)
    print(
        json.dumps({"cache": str(cache), "seconds": round(time.perf_counter() - started, 1)}),
        flush=True,
    )
    for backend in [] if args.cache_only else backends:
        _home, _url, report = prepare(scale, backend)
        print(json.dumps(asdict(report), ensure_ascii=False), flush=True)
        if args.drop and backend == "postgresql":
            drop_postgresql_database(postgresql_name(scale))
    return 0


if __name__ == "__main__":
    sys.exit(main())
