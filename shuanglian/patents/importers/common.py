"""What every patent importer shares: turning one row of raw texts into a `PatentIn`.

Format modules (CNIPA, generic CSV, PatentsView, USPTO XML) only find the raw values and the
name of the column each came from; `build_record` parses and validates them, so a date, a
number or a title is judged the same way whatever the file. A bad value rejects the row with
the file's own column name, never the whole file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from shuanglian.importing import ImportReport
from shuanglian.patents.numbers import (
    PatentNumberError,
    cn_application_type,
    expiry_date,
    normalize_classification,
    normalize_publication_number,
    parse_application_number,
    patent_type_from,
    publication_key,
)
from shuanglian.patents.schemas import MAX_TITLE_CHARS, PatentIn
from shuanglian.text.dates import parse_date
from shuanglian.text.normalize import clean_cell


@dataclass(frozen=True)
class RowRejection:
    """A row an importer could not turn into a record: row number, file column, reason."""

    row: int
    field: str
    message: str


ImportItem = PatentIn | RowRejection

# Canonical fields a file column may fill (the keys of a generic mapping file).
TEXT_FIELDS = (
    "title",
    "abstract",
    "legal_status",
    "language",
    "alt_title",
    "alt_abstract",
    "alt_language",
)
DATE_FIELDS = ("filing_date", "publication_date", "grant_date")
INT_FIELDS = ("claims_count", "transfer_count", "licence_count")
NAME_LIST_FIELDS = ("applicants", "inventors")
CODE_LIST_FIELDS = ("ipc_codes", "cpc_codes")
NUMBER_FIELDS = ("application_number", "publication_number")
CANONICAL_FIELDS = (
    *NUMBER_FIELDS,
    "patent_type",
    *TEXT_FIELDS,
    *DATE_FIELDS,
    *INT_FIELDS,
    *NAME_LIST_FIELDS,
    "main_ipc",
    *CODE_LIST_FIELDS,
)

# Names are split on semicolons (CNIPA and PatentsView use `;`) and line breaks, never on
# commas: "NVIDIA Corporation, Inc." is one assignee.
_NAME_SPLIT = re.compile(r"[;；|\n]+")
# Classification symbols contain no commas or spaces once compacted, so both separate them.
_CODE_SPLIT = re.compile(r"[;；,，、|\n]+")
_HAN = re.compile(r"[\u3400-\u9fff]")


def split_names(text: str) -> list[str]:
    """`张三;李四；王五` → ['张三', '李四', '王五'], duplicates dropped, order kept."""
    parts = (p.strip() for p in _NAME_SPLIT.split(text or ""))
    return list(dict.fromkeys(p for p in parts if p))


def split_codes(text: str) -> list[str]:
    """IPC/CPC list in compact form; symbols that are not IPC-shaped are kept as written."""
    codes = []
    for part in _CODE_SPLIT.split(text or ""):
        part = part.strip()
        if part:
            codes.append(normalize_classification(part) or part.replace(" ", ""))
    return list(dict.fromkeys(codes))


def build_record(
    row: int,
    values: dict[str, Any],
    columns: dict[str, str],
    *,
    source_file: str | None,
    country_hint: str | None = None,
    language: str | None = None,
) -> ImportItem:
    """One `PatentIn`, or the first problem found, named by the file's column header.

    `values` maps canonical fields to raw cell text (or already-split lists from XML);
    `columns` maps the same fields to the header the user sees in the file.
    """

    def column(name: str) -> str:
        return columns.get(name, name)

    fields: dict[str, Any] = {"source_file": source_file, "source_row": row}
    raw_app = _text(values.get("application_number"))
    raw_pub = _text(values.get("publication_number"))
    try:
        if raw_pub:
            fields["publication_number"] = normalize_publication_number(
                raw_pub, country_hint=country_hint
            )
        elif "publication_number" in values:
            fields["publication_number"] = None
    except PatentNumberError as exc:
        return RowRejection(row, column("publication_number"), str(exc))
    try:
        if raw_app:
            key, shown = parse_application_number(raw_app, country_hint=country_hint)
            fields["application_key"], fields["application_number"] = key, shown
        elif raw_pub and "application_number" not in values:
            # Only files with no application-number column at all are keyed by publication
            # number; mixing both keys within one file would let one patent get two rows.
            fields["application_key"] = publication_key(fields["publication_number"])
            fields["application_number"] = fields["publication_number"]
        else:
            return RowRejection(
                row,
                column("application_number"),
                "缺少申请号（application number is missing）",
            )
    except PatentNumberError as exc:
        return RowRejection(row, column("application_number"), str(exc))

    title = _text(values.get("title"))
    if not title:
        return RowRejection(row, column("title"), "缺少专利名称（title is missing）")
    if len(title) > MAX_TITLE_CHARS:
        return RowRejection(
            row,
            column("title"),
            f"专利名称长达 {len(title)} 字，超过 {MAX_TITLE_CHARS} 字上限，可能是列错位"
            f"（title is {len(title)} characters, over the {MAX_TITLE_CHARS} limit: "
            "probably a shifted column）",
        )
    fields["title"] = title
    for name in ("abstract", "legal_status", "alt_title", "alt_abstract", "alt_language"):
        if name in values:
            fields[name] = _text(values[name]) or None
    explicit_language = _text(values.get("language")) or language
    # Without a language column or default, a title with any Han character is Chinese.
    fields["language"] = (explicit_language or ("zh" if _HAN.search(title) else "en")).lower()

    for name in DATE_FIELDS:
        if name in values:
            try:
                fields[name] = parse_date(_text(values[name]))
            except ValueError as exc:
                return RowRejection(row, column(name), str(exc))
    for name in INT_FIELDS:
        if name in values:
            try:
                fields[name] = _int(values[name])
            except ValueError as exc:
                return RowRejection(row, column(name), str(exc))
    for name in NAME_LIST_FIELDS:
        if name in values:
            fields[name] = _list(values[name], split_names)
    for name in CODE_LIST_FIELDS:
        if name in values:
            fields[name] = _list(values[name], split_codes)
    if "main_ipc" in values:
        main = split_codes(_text(values["main_ipc"]))
        fields["main_ipc"] = main[0] if main else None
    if fields.get("main_ipc") and "ipc_codes" in fields:
        if fields["main_ipc"] not in fields["ipc_codes"]:
            fields["ipc_codes"] = [fields["main_ipc"], *fields["ipc_codes"]]
    elif "ipc_codes" in fields and fields["ipc_codes"] and "main_ipc" not in values:
        fields["main_ipc"] = fields["ipc_codes"][0]

    problem = _patent_type(fields, values, column)
    if problem is not None:
        return RowRejection(row, column("patent_type"), problem)

    try:
        return PatentIn(**fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error.get("loc") else "?"
        return RowRejection(row, column(name), _validation_message(name, error))


def _patent_type(fields: dict[str, Any], values: dict[str, Any], column: Any) -> str | None:
    """Fill patent_type and expiry_date; an error message when the type text is unknown."""
    raw_type = _text(values.get("patent_type"))
    patent_type = None
    if raw_type:
        try:
            patent_type = patent_type_from(raw_type)
        except PatentNumberError as exc:
            return str(exc)
    elif fields.get("publication_number"):
        try:
            patent_type = patent_type_from(fields["publication_number"])
        except PatentNumberError:
            patent_type = None
    if patent_type is None:
        patent_type = cn_application_type(fields["application_key"])
    if patent_type is not None or "patent_type" in values:
        fields["patent_type"] = patent_type
    if patent_type and fields.get("filing_date"):
        fields["expiry_date"] = expiry_date(patent_type, fields["filing_date"])
    return None


def _validation_message(name: str, error: Any) -> str:
    kind = error.get("type", "")
    if kind == "string_too_long":
        limit = error.get("ctx", {}).get("max_length")
        return f"{name} 超过 {limit} 字符上限（{name} longer than {limit} characters）"
    return f"{name} 的值无效：{error.get('msg')}（invalid value for {name}）"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        # Cells from `read_table` are already cleaned; XML text cannot hold control characters.
        return value.strip()
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return clean_cell(value)


def _list(value: Any, splitter: Any) -> list[str]:
    if isinstance(value, list):
        # Joining the items with line breaks lets the same splitter (and the same code
        # normalisation) handle lists from XML and delimited cells from tables.
        return splitter("\n".join(clean_cell(v).replace("\n", " ") for v in value))
    return splitter(_text(value))


def _int(value: Any) -> int | None:
    text = _text(value).replace(",", "")
    if not text:
        return None
    try:
        number = float(text) if "." in text else int(text)
    except ValueError:
        raise ValueError(f"“{text[:30]}”不是整数（not a whole number）") from None
    if isinstance(number, float):
        if not number.is_integer():
            raise ValueError(f"“{text[:30]}”不是整数（not a whole number）")
        number = int(number)
    if number < 0:
        raise ValueError(f"“{text[:30]}”不能为负数（must not be negative）")
    return number


def collect_rejections(items: Iterable[ImportItem], report: ImportReport) -> Iterator[PatentIn]:
    """Pass records through; record every rejection in the report as it streams by."""
    for item in items:
        if isinstance(item, RowRejection):
            report.reject(item.row, item.field, item.message)
        else:
            yield item
