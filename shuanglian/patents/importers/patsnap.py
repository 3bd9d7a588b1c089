"""PatSnap (智慧芽) exports (.xlsx or .csv), in Simplified or Traditional headers.

A PatSnap export names its columns after the analysis screen: `公开(公告)号`, `申请号`,
`[标]当前申请(专利权)人`, `申请日`, `公开(公告)日`, `标题(译)(简体中文)`, `摘要(译)(简体中文)`,
`标题(译)(English)`, `摘要(译)(English)`, `专利类型` (发明申请 / 授权发明 / 实用新型 / 外观设计),
`法律状态/事件`, `IPC分类号`, `IPC主分类号`, `受理局`, and often `标题` / `摘要` in the original
language. Which columns appear depends on the fields the user ticked, so only a title and a
publication or application number are required.

Both languages are kept (`Patent.alt_title` / `alt_abstract`): the record's own language is
the office's (受理局 CN/TW/HK/MO, or a CN publication number → Chinese; any other office →
English when an English title is present), and the other language goes to the alt fields.
A patent from a CN office whose export has only the English translation is stored in English.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shuanglian.patents.importers.common import ImportItem, build_record
from shuanglian.tabular import Rows, find_columns, read_table

NUMBER_COLUMNS = {
    "publication_number": ("公开(公告)号", "公开公告号", "公开号"),
    "application_number": ("申请号",),
}
TITLE_COLUMNS = {
    "title_zh": ("标题(译)(简体中文)", "标题(简体中文)", "标题(中文)"),
    "title_en": ("标题(译)(English)", "标题(English)", "标题(英文)"),
    "title_original": ("标题", "原始标题"),
}
ABSTRACT_COLUMNS = {
    "abstract_zh": ("摘要(译)(简体中文)", "摘要(简体中文)", "摘要(中文)"),
    "abstract_en": ("摘要(译)(English)", "摘要(English)", "摘要(英文)"),
    "abstract_original": ("摘要", "原始摘要"),
}
OTHER_COLUMNS = {
    "applicants": (
        "[标]当前申请(专利权)人",
        "当前申请(专利权)人",
        "[标]原始申请(专利权)人",
        "原始申请(专利权)人",
        "申请(专利权)人",
    ),
    "inventors": ("发明人", "[标]发明人"),
    "filing_date": ("申请日",),
    "publication_date": ("公开(公告)日", "公开日"),
    "grant_date": ("授权日", "授权公告日"),
    "patent_type": ("专利类型",),
    "legal_status": ("法律状态/事件", "简单法律状态", "法律状态"),
    "ipc_codes": ("IPC分类号", "IPC"),
    "main_ipc": ("IPC主分类号", "主分类号"),
    "cpc_codes": ("CPC分类号", "CPC"),
    "office": ("受理局",),
}
# Headers only PatSnap writes; one of them, with a number and a title, identifies the format.
_MARKERS = {
    "markers": (
        "标题(译)(简体中文)",
        "标题(译)(English)",
        "摘要(译)(简体中文)",
        "摘要(译)(English)",
        "[标]当前申请(专利权)人",
        "受理局",
        "法律状态/事件",
    )
}
_CHINESE_OFFICES = ("CN", "TW", "HK", "MO")
# Patent.legal_status holds 60 characters; PatSnap's 法律状态/事件 lists every event.
_STATUS_LIMIT = 60


def patsnap_columns(header: list[str]) -> dict[str, str]:
    """Canonical (and PatSnap-specific) field → this file's header."""
    columns = find_columns(header, NUMBER_COLUMNS)
    columns.update(find_columns(header, TITLE_COLUMNS))
    columns.update(find_columns(header, ABSTRACT_COLUMNS))
    columns.update(find_columns(header, OTHER_COLUMNS))
    return columns


def looks_like_patsnap(header: list[str]) -> bool:
    """A number column, a title column and at least one header only PatSnap writes."""
    return (
        bool(find_columns(header, NUMBER_COLUMNS))
        and bool(find_columns(header, TITLE_COLUMNS))
        and bool(find_columns(header, _MARKERS))
    )


def parse_patsnap_export(path: Path, *, sheet: str | None = None) -> Iterator[ImportItem]:
    """Stream a PatSnap export as `PatentIn` records (both languages kept) or rejections."""
    from shuanglian.errors import ImportFailed

    header, rows = read_table(path, sheet=sheet, is_header=looks_like_patsnap)
    columns = patsnap_columns(header)
    if not find_columns(header, NUMBER_COLUMNS) or not find_columns(header, TITLE_COLUMNS):
        rows.close()
        raise ImportFailed(
            "缺少必需的列：公开(公告)号 或 申请号，以及 标题(译)(简体中文) / "
            "标题(译)(English) / 标题"
            "（missing required columns: a publication or application number and a title）"
        )
    return _records(rows, columns, Path(path).name)


def _cell(cells: dict[str, str], columns: dict[str, str], name: str) -> str:
    return cells.get(columns[name], "").strip() if name in columns else ""


def _office(cells: dict[str, str], columns: dict[str, str]) -> str:
    office = _cell(cells, columns, "office").upper()[:2]
    if not office:
        office = _cell(cells, columns, "publication_number").upper()[:2]
    return office if office.isalpha() else ""


def _texts(cells: dict[str, str], columns: dict[str, str]) -> dict[str, Any]:
    """title/abstract in the record's language, alt_* in the other one."""
    zh = (_cell(cells, columns, "title_zh"), _cell(cells, columns, "abstract_zh"))
    en = (_cell(cells, columns, "title_en"), _cell(cells, columns, "abstract_en"))
    original = (_cell(cells, columns, "title_original"), _cell(cells, columns, "abstract_original"))
    office = _office(cells, columns)
    chinese_first = office in _CHINESE_OFFICES or not en[0]
    if not zh[0] and not en[0]:
        main, alt, language, alt_language = original, ("", ""), None, None
    elif chinese_first and zh[0]:
        main, alt, language, alt_language = zh, en, "zh", "en"
    else:
        main, alt, language, alt_language = en, zh, "en", "zh"
    values: dict[str, Any] = {"title": main[0], "abstract": main[1]}
    if language:
        values["language"] = language
    if alt[0] or alt[1]:
        values.update(alt_title=alt[0], alt_abstract=alt[1], alt_language=alt_language)
    return values


def _labels(columns: dict[str, str]) -> dict[str, str]:
    """The file's header for each canonical field, for row errors."""
    labels = dict(columns)
    for field, candidates in (
        ("title", ("title_zh", "title_en", "title_original")),
        ("abstract", ("abstract_zh", "abstract_en", "abstract_original")),
        ("alt_title", ("title_en", "title_zh")),
        ("alt_abstract", ("abstract_en", "abstract_zh")),
    ):
        labels[field] = next((columns[c] for c in candidates if c in columns), field)
    return labels


def _records(rows: Rows, columns: dict[str, str], source: str) -> Iterator[ImportItem]:
    labels = _labels(columns)
    plain = [
        name
        for name in (
            "publication_number",
            "application_number",
            "applicants",
            "inventors",
            "filing_date",
            "publication_date",
            "grant_date",
            "patent_type",
            "ipc_codes",
            "main_ipc",
            "cpc_codes",
        )
        if name in columns
    ]
    for number, cells in rows:
        values: dict[str, Any] = {name: cells.get(columns[name], "") for name in plain}
        if "legal_status" in columns:
            values["legal_status"] = _short_status(cells.get(columns["legal_status"], ""))
        values.update(_texts(cells, columns))
        office = _office(cells, columns) or None
        yield build_record(number, values, labels, source_file=source, country_hint=office)


def _short_status(text: str) -> str:
    """PatSnap's status cell cut to what `Patent.legal_status` holds, at an event boundary."""
    text = text.strip()
    if len(text) <= _STATUS_LIMIT:
        return text
    for separator in (" | ", "|", "；", ";", "，", ","):
        head = text[:_STATUS_LIMIT].rsplit(separator, 1)[0].strip()
        if head and len(head) < _STATUS_LIMIT:
            return head
    return text[:_STATUS_LIMIT]
