"""Import an institution's 科技成果 register (spreadsheet or JSON Lines) as catalogue listings.

Institutions keep their technologies in a spreadsheet long before they use a platform; this
loads it in one go. Real sample: shared/data/samples/cn_tech_achievements_2020_2946.jsonl
(listings posted on a Chinese platform, fields `name, postTime, classification, zlxx, maturity,
cooperationMethod, price, scope, context`). Spreadsheets use the Chinese headers in
LISTING_COLUMNS; Traditional headers work too (see `tabular`).

How a row's words become a listing's fields:

* 成熟度 → TRL (GB/T 22900-2022 levels, approximate): MATURITY_TRL, first word found wins;
* 合作方式 → modes: every cooperation word found (the sample runs them together:
  完全转让许可转让技术入股合作生产), COOPERATION_MODES; 其他 alone gives none;
* 价格: 面议 / 议价 / empty → no price; `100.0万元-200.0万元` → 100 (the low end, 万元);
  `5000元` → 0.5; anything else rejects the row naming the column;
* 行业 (GB/T 4754 names, `制造业——医药制造业`, or codes C27 / 27) → lettered codes (C27);
* a patent number in the text (ZL201410142425.6, CN201410142425.6, CN103xxxxxxA) links the
  patent when it is stored and held by this institution (or by nobody): it becomes the lead
  patent of the listing, and its WIPO field the listing's field.

Upsert: a listing is keyed by (institution, title), like a demand by (enterprise, title). Within
one file the first row of a title is kept; a later identical row counts as unchanged, a
different one is rejected naming the first row (the sample has the same title posted with
different texts by different holders). Re-importing a file changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.audit import record_import
from shuanglian.config import DEFAULT_IMPORT_BATCH_SIZE
from shuanglian.db import utcnow
from shuanglian.errors import ImportFailed
from shuanglian.importing import ImportReport
from shuanglian.patents.models import Patent
from shuanglian.patents.numbers import (
    PatentNumberError,
    application_key,
    normalize_publication_number,
)
from shuanglian.patents.service import get_or_create_institution
from shuanglian.reference import gbt4754
from shuanglian.supermarket.models import Listing, ListingPatent
from shuanglian.supermarket.service import _fence, sync_listing_terms, unfence
from shuanglian.tabular import find_columns, read_records, require_columns
from shuanglian.text.dates import parse_date
from shuanglian.text.normalize import normalize_for_search, to_simplified

LISTING_REQUIRED: dict[str, tuple[str, ...]] = {
    "title": ("成果名称", "项目名称", "技术名称", "名称", "name", "title"),
}
LISTING_OPTIONAL: dict[str, tuple[str, ...]] = {
    "summary": (
        "成果简介",
        "技术简介",
        "项目简介",
        "简介",
        "成果描述",
        "描述",
        "内容",
        "context",
        "description",
        "summary",
    ),
    "industries": (
        "所属行业",
        "行业分类",
        "国民经济行业",
        "行业",
        "行业代码",
        "classification",
        "industry_code",
    ),
    "maturity": ("成熟度", "技术成熟度", "成果成熟度", "成熟程度", "maturity", "trl"),
    "modes": ("合作方式", "转化方式", "交易方式", "转让方式", "cooperationMethod", "modes"),
    "price": ("价格(万元)", "意向价格", "转让价格", "参考价格", "价格", "price"),
    "scenarios": ("应用领域", "应用场景", "应用范围", "scope", "scenarios"),
    "patent_info": ("专利信息", "知识产权情况", "专利情况", "zlxx"),
    "patent_number": ("专利号", "专利申请号", "申请号", "patent_number"),
    "posted_on": ("发布日期", "发布时间", "postTime", "posted_on"),
    "region": ("所在地区", "地区", "region"),
    "contact_name": ("联系人", "contact_name"),
}

# Maturity words → TRL 1–9, after GB/T 22900-2022's level descriptions (an approximation: a
# platform's words are coarser than the nine levels). Longer phrases are tested first.
MATURITY_TRL: tuple[tuple[str, int], ...] = (
    ("已量产", 9),
    ("产业化", 9),
    ("成熟应用", 9),
    ("可以量产", 8),
    ("批量生产", 8),
    ("小批量", 7),
    ("通过中试", 7),
    ("中试", 6),
    ("通过小试", 5),
    ("小试", 4),
    ("已有样品", 4),
    ("样品", 4),
    ("样机", 4),
    ("实验室", 3),
    ("正在研发", 3),
    ("研发中", 3),
    ("研发阶段", 3),
    ("概念", 2),
)
# Cooperation words → `supermarket.service.MODES` codes.
COOPERATION_MODES: tuple[tuple[str, str], ...] = (
    ("开放许可", "open_licence"),
    ("完全转让", "transfer"),
    ("技术转让", "transfer"),
    ("许可转让", "licence"),
    ("技术许可", "licence"),
    ("普通许可", "licence"),
    ("独占许可", "licence"),
    ("排他许可", "licence"),
    ("许可", "licence"),
    ("转让", "transfer"),
    ("技术入股", "equity"),
    ("作价入股", "equity"),
    ("入股", "equity"),
    ("合作生产", "joint_dev"),
    ("合作开发", "joint_dev"),
    ("联合开发", "joint_dev"),
    ("委托开发", "commission"),
)
NEGOTIABLE = ("面议", "议价", "协商", "商议", "待定")

_CN_APPLICATION = re.compile(
    r"(?:ZL|CN|专利号|申请号)[:：\s]*((?:\d{4}\s*[1289]\s*\d{7}|\d{2}[1289]\d{5})\s*[.．]?\s*[\dXx])"
)
_CN_PUBLICATION = re.compile(r"\bCN\s*(\d{9})\s*([ABUS])\b")
_PRICE_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(亿元|亿|万元|万|元)?")
MAX_TITLE = 300


@dataclass
class ListingRow:
    """A parsed row, before patents are resolved."""

    row: int
    values: dict[str, Any]
    patent_numbers: list[str] = field(default_factory=list)


class RowRejected(Exception):
    """A row that cannot become a listing; carries the file's column name and the reason."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


# --------------------------------------------------------------------------- words → fields


def trl_from_maturity(text: str) -> int | None:
    """TRL 1–9 for a maturity word (已有样品 → 4); a bare digit 1–9 is taken as the TRL."""
    words = to_simplified(text or "").strip()
    if not words:
        return None
    if re.fullmatch(r"(?:TRL\s*)?[1-9]", words, flags=re.IGNORECASE):
        return int(words[-1])
    for word, level in MATURITY_TRL:
        if word in words:
            return level
    return None


def modes_from_cooperation(text: str) -> list[str]:
    """Mode codes for every cooperation word in `text`, in `MODES` order of first mention."""
    words = to_simplified(text or "")
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for word, mode in COOPERATION_MODES:
        for match in re.finditer(re.escape(word), words):
            span = match.span()
            # A shorter word inside a longer one already read (许可 in 许可转让) adds nothing.
            if any(a <= span[0] and span[1] <= b for a, b in taken):
                continue
            taken.append(span)
            found.append((span[0], mode))
    found.sort()
    return list(dict.fromkeys(mode for _, mode in found))


def price_in_wan(text: str) -> Decimal | None:
    """A price in 万元, None when negotiable or empty; ValueError for unreadable text.

    A range (`100.0万元-200.0万元`) gives its low end: the figure a buyer can expect to start at.
    """
    raw = to_simplified(text or "").strip().replace(",", "").replace("，", "")
    if not raw or any(word in raw for word in NEGOTIABLE):
        return None
    match = _PRICE_PART.search(raw)
    if match is None:
        raise ValueError(f"无法识别的价格“{raw[:30]}”，应如 50万元 或 面议（unreadable price）")
    try:
        amount = Decimal(match.group(1))
    except InvalidOperation as exc:
        raise ValueError(f"无法识别的价格“{raw[:30]}”（unreadable price）") from exc
    unit = match.group(2) or ("万元" if "万" in raw else "")
    if unit in ("亿元", "亿"):
        amount *= 10000
    elif unit == "元" or (not unit and amount >= 10000):
        amount /= 10000
    if amount > Decimal("1e9"):
        raise ValueError("价格超出范围（price out of range）")
    return amount.quantize(Decimal("0.0001"))


def industry_codes(text: str) -> list[str]:
    """Lettered GB/T 4754 codes for names (`制造业——医药制造业`) or codes (27, C27)."""
    text = (text or "").strip()
    if not text:
        return []
    codes: list[str] = []
    for part in re.split(r"[;；,，、|\s]+", text) if _looks_like_codes(text) else [text]:
        if not part:
            continue
        try:
            codes.append(gbt4754.lettered_code(part))
        except ValueError:
            codes.extend(
                gbt4754.lettered_code(i.code)
                for i in gbt4754.industries_from_classification(part)[:1]
            )
    return list(dict.fromkeys(codes))


def _looks_like_codes(text: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9;；,，、|\s]+", text) is not None


def patent_numbers_in(text: str) -> list[str]:
    """CN application keys and publication numbers written in a text (专利号：ZL2014…)."""
    found: list[str] = []
    for match in _CN_APPLICATION.finditer(text or ""):
        try:
            found.append(application_key(match.group(1), country_hint="CN"))
        except PatentNumberError:
            continue
    for match in _CN_PUBLICATION.finditer(text or ""):
        found.append(f"CN{match.group(1)}{match.group(2)}")
    return list(dict.fromkeys(found))


# --------------------------------------------------------------------------- rows


def parse_listing_row(cells: dict[str, str], columns: dict[str, str]) -> ListingRow:
    """The listing values of one row; RowRejected names the column and the reason."""

    def cell(name: str) -> str:
        return cells.get(columns[name], "").strip() if name in columns else ""

    title = " ".join(cell("title").split())
    if not title:
        raise RowRejected(columns["title"], "成果名称为空（title is empty）")
    if len(title) > MAX_TITLE:
        raise RowRejected(
            columns["title"],
            f"成果名称超过 {MAX_TITLE} 字（title longer than {MAX_TITLE} characters）",
        )
    values: dict[str, Any] = {"title": title, "summary": cell("summary")}
    if "scenarios" in columns:
        values["scenarios"] = cell("scenarios") or None
    if "region" in columns:
        values["region"] = cell("region")[:100] or None
    if "contact_name" in columns:
        values["contact_name"] = cell("contact_name")[:100] or None
    if "industries" in columns:
        raw = cell("industries")
        codes = industry_codes(raw)
        if raw and not codes:
            raise RowRejected(
                columns["industries"],
                f"无法识别的行业“{raw[:40]}”，应为 GB/T 4754-2017 的名称或代码，"
                "如 制造业——医药制造业 或 C27"
                "（unknown industry: give a GB/T 4754-2017 name or code）",
            )
        values["industries"] = _fence(codes)
    if "maturity" in columns:
        raw = cell("maturity")
        trl = trl_from_maturity(raw)
        if raw and trl is None:
            raise RowRejected(
                columns["maturity"],
                f"无法识别的成熟度“{raw[:30]}”，应如 正在研发 / 已有样品 / 通过小试 / 通过中试 / "
                "可以量产 或 1–9（unknown maturity）",
            )
        values["trl"] = trl
    if "modes" in columns:
        values["modes"] = _fence(modes_from_cooperation(cell("modes")))
    if "price" in columns:
        try:
            values["price"] = price_in_wan(cell("price"))
        except ValueError as exc:
            raise RowRejected(columns["price"], str(exc)) from exc
    if "posted_on" in columns and cell("posted_on"):
        try:
            posted = parse_date(cell("posted_on")[:10])
        except ValueError as exc:
            raise RowRejected(columns["posted_on"], str(exc)) from exc
        values["posted_on"] = posted
    numbers = patent_numbers_in(cell("patent_number"))
    numbers += patent_numbers_in(" ".join((cell("patent_info"), values["summary"], title)))
    return ListingRow(row=0, values=values, patent_numbers=list(dict.fromkeys(numbers)))


# --------------------------------------------------------------------------- import


def import_listings(
    session: Session,
    *,
    path: Path,
    institution: str,
    actor: Any = None,
    publish: bool = False,
    dry_run: bool = False,
    batch_size: int | None = None,
) -> ImportReport:
    """Load a 科技成果 register as the institution's listings (upsert by title); caller commits."""
    path = Path(path)
    if not institution or not institution.strip():
        raise ImportFailed(
            "请指定成果所属机构 --institution（the holding institution is required）"
        )
    header, rows = read_records(path)
    try:
        columns = require_columns(header, LISTING_REQUIRED)
        columns.update(find_columns(header, LISTING_OPTIONAL))
        report = ImportReport(dry_run=dry_run)
        scope = session.begin_nested() if not dry_run else None
        try:
            inst = get_or_create_institution(session, name=institution) if not dry_run else None
            institution_id = inst.id if inst else _existing_institution(session, institution)
            parsed = _parsed_rows(rows, columns, report)
            fresh = _first_of_each_title(parsed, report, columns["title"])
            size = batch_size or DEFAULT_IMPORT_BATCH_SIZE
            iterator = iter(fresh)
            while batch := list(islice(iterator, size)):
                _write_batch(
                    session,
                    batch,
                    institution_id=institution_id,
                    source=path.name,
                    publish=publish,
                    dry_run=dry_run,
                    report=report,
                )
            if not dry_run and inst is not None:
                record_import(
                    session,
                    actor=actor,
                    kind="listings",
                    files=path,
                    report=report,
                    subject=inst,
                )
        except BaseException:
            if scope is not None:
                scope.rollback()
            raise
        if scope is not None:
            scope.commit()
        report.errors.sort(key=lambda error: error.row)
        return report
    finally:
        rows.close()


def import_institution_listings(
    session: Session,
    *,
    actor: Any,
    institution_id: int | None,
    path: Path,
    publish: bool = False,
    dry_run: bool = False,
    batch_size: int | None = None,
) -> ImportReport:
    """The workspace upload: the file becomes the listings of the actor's institution (staff:
    their own; an admin names one); the caller commits."""
    from shuanglian.patents.workspace import workspace_institution

    institution = workspace_institution(session, actor=actor, institution_id=institution_id)
    return import_listings(
        session,
        path=path,
        institution=institution.name,
        actor=actor,
        publish=publish,
        dry_run=dry_run,
        batch_size=batch_size,
    )


def _counts(report: ImportReport) -> dict[str, int]:
    return {
        "inserted": report.inserted,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
    }


def _existing_institution(session: Session, name: str) -> int | None:
    from shuanglian.patents.models import Institution

    return session.scalar(select(Institution.id).where(Institution.name == name.strip()))


def _parsed_rows(
    rows: Iterable[tuple[int, dict[str, str]]], columns: dict[str, str], report: ImportReport
) -> Iterator[ListingRow]:
    for number, cells in rows:
        try:
            parsed = parse_listing_row(cells, columns)
        except RowRejected as exc:
            report.reject(number, exc.column, exc.message)
            continue
        parsed.row = number
        yield parsed


def _first_of_each_title(
    parsed: Iterable[ListingRow], report: ImportReport, title_column: str
) -> Iterator[ListingRow]:
    first: dict[str, tuple[int, dict[str, Any]]] = {}
    for item in parsed:
        seen = first.get(item.values["title"])
        if seen is None:
            first[item.values["title"]] = (item.row, item.values)
            yield item
        elif seen[1] == item.values:
            report.unchanged += 1
        else:
            report.reject(
                item.row,
                title_column,
                f"同名成果已在第 {seen[0]} 行导入，内容不同；请改名或合并"
                f"（a listing with this title is already on row {seen[0]}）",
            )


_COMPARED = (
    "summary",
    "scenarios",
    "industries",
    "trl",
    "modes",
    "price",
    "region",
    "contact_name",
    "patent_id",
    "tech_field",
)


def _write_batch(
    session: Session,
    batch: list[ListingRow],
    *,
    institution_id: int | None,
    source: str,
    publish: bool,
    dry_run: bool,
    report: ImportReport,
) -> None:
    patents = _patents_by_number(session, batch, institution_id)
    existing: dict[str, Listing] = {}
    if institution_id is not None:
        titles = [item.values["title"] for item in batch]
        for listing in session.scalars(
            select(Listing).where(
                Listing.institution_id == institution_id, Listing.title.in_(titles)
            )
        ):
            existing.setdefault(listing.title, listing)
    for item in batch:
        linked = [patents[n] for n in item.patent_numbers if n in patents]
        linked = list({p.id: p for p in linked}.values())
        values = dict(item.values)
        posted_on = values.pop("posted_on", None)
        values["patent_id"] = linked[0].id if linked else None
        values["tech_field"] = _tech_field(linked[0]) if linked else None
        values["search_text"] = _search_text(values, linked)
        found = existing.get(values["title"])
        if found is None:
            report.inserted += 1
            if dry_run:
                continue
            created = Listing(institution_id=institution_id, title=values["title"])
            session.add(created)
            _assign(created, values, linked, source, item.row)
            if publish:
                created.status = "published"
                created.published_at = _published_at(posted_on)
            session.flush()
            sync_listing_terms(session, created)
            continue
        listing = found
        changed = [
            name
            for name in _COMPARED
            if name in values and _differs(getattr(listing, name), values[name])
        ]
        members = [m.patent_id for m in listing.members]
        if linked and members != [p.id for p in linked]:
            changed.append("members")
        becomes_public = publish and listing.status == "draft"
        if not changed and not becomes_public:
            report.unchanged += 1
            continue
        report.updated += 1
        if dry_run:
            continue
        _assign(listing, values, linked, source, item.row)
        if becomes_public:
            listing.status = "published"
            listing.published_at = _published_at(posted_on)
        session.flush()
        sync_listing_terms(session, listing)


def _differs(current: Any, new: Any) -> bool:
    if isinstance(current, Decimal) or isinstance(new, Decimal):
        return (None if current is None else Decimal(current)) != (
            None if new is None else Decimal(new)
        )
    return bool(current != new)


def _assign(
    listing: Listing, values: dict[str, Any], linked: list[Patent], source: str, row: int
) -> None:
    for name, value in values.items():
        setattr(listing, name, value)
    if linked:
        listing.members = [ListingPatent(patent_id=p.id, position=i) for i, p in enumerate(linked)]
    listing.source_file = source
    listing.source_row = row


def _published_at(posted_on: Any) -> datetime:
    if posted_on is None:
        return utcnow()
    return datetime.combine(posted_on, time(0), tzinfo=UTC)


def _search_text(values: dict[str, Any], patents: list[Patent]) -> str:
    parts = [values["title"], values.get("summary") or "", values.get("scenarios") or ""]
    for patent in patents:
        parts += [patent.title, patent.application_number]
    return normalize_for_search(" ".join(parts))


def _tech_field(patent: Patent) -> str | None:
    from shuanglian.reference.ipc import technology_field

    if not patent.main_ipc:
        return None
    found = technology_field(patent.main_ipc)
    return found[1] if found else None


def _patents_by_number(
    session: Session, batch: list[ListingRow], institution_id: int | None
) -> dict[str, Patent]:
    """Stored patents the batch's texts name, by the number as found; only patents this
    institution holds (or nobody holds) are linked, so one file cannot claim another's."""
    numbers = {n for item in batch for n in item.patent_numbers}
    if not numbers:
        return {}
    keys = {n for n in numbers if not n[-1].isalpha()}
    publications = numbers - keys
    found: dict[str, Patent] = {}
    statement = select(Patent).where(
        Patent.application_key.in_(keys)
        | Patent.publication_number.in_(publications)
        | Patent.application_key.in_({f"PN:{n[:-1]}" for n in publications})
    )
    for patent in session.scalars(statement):
        if patent.institution_id not in (None, institution_id):
            continue
        found[patent.application_key] = patent
        if patent.publication_number:
            found[patent.publication_number] = patent
    for number in publications:
        if number not in found and f"PN:{number[:-1]}" in found:
            found[number] = found[f"PN:{number[:-1]}"]
    return found


__all__ = [
    "COOPERATION_MODES",
    "LISTING_OPTIONAL",
    "LISTING_REQUIRED",
    "MATURITY_TRL",
    "import_institution_listings",
    "import_listings",
    "industry_codes",
    "modes_from_cooperation",
    "parse_listing_row",
    "patent_numbers_in",
    "price_in_wan",
    "trl_from_maturity",
]

# `unfence` and `normalize_publication_number` are re-exported for callers that read back what
# an import wrote (tests, the upload page).
_ = (unfence, normalize_publication_number)
