"""CNIPA exports (.csv / .xlsx with Chinese headers), e.g. the 专利检索及分析 system's download.

The column set is that of `shared/data/samples/cn_patents_research_institute_sample10.csv`;
the aliases cover the other CNIPA download screens and the headers institutions use in their
own Excel registers (名称 for 专利名称, 申请(专利权)人 for 申请人, ...). Columns that are not
listed here (申请人类型, 代理机构, ...) are ignored. The header may sit below a title row or two
("XX大学专利清单"). Language is taken from the title (any Han character → zh), since an export
can hold foreign-language records.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from shuanglian.patents.importers.common import ImportItem, build_record
from shuanglian.tabular import find_columns, read_table, require_columns

REQUIRED = {
    "application_number": ("申请号", "申请(专利)号", "专利号", "申请号/专利号", "专利申请号"),
    "title": ("专利名称", "名称", "发明名称", "标题", "发明创造名称"),
}
OPTIONAL = {
    "publication_number": ("公开号", "公开(公告)号", "公告号", "授权公告号", "公开公告号"),
    "filing_date": ("申请日", "申请日期"),
    "publication_date": ("公开日", "公开(公告)日", "公开日期", "公告日", "公开公告日"),
    "grant_date": ("授权日", "授权公告日", "授权日期"),
    "patent_type": ("专利类型", "类型", "专利种类"),
    "abstract": ("申请摘要", "摘要"),
    "applicants": ("申请人", "申请(专利权)人", "专利权人", "当前专利权人", "当前权利人"),
    "inventors": ("发明人", "发明(设计)人", "设计人"),
    "main_ipc": ("主分类号", "主IPC", "IPC主分类号", "主IPC分类号"),
    "ipc_codes": ("分类号", "IPC分类号", "IPC"),
    "cpc_codes": ("CPC分类号", "CPC"),
    "legal_status": ("法律状态", "当前法律状态", "法律状态/事件"),
    "claims_count": ("权利要求数", "权利要求数量", "权利要求项数"),
    "transfer_count": ("专利转移次数", "转让次数", "转移次数"),
    "licence_count": ("许可次数", "专利许可次数"),
}


def cnipa_columns(header: list[str]) -> dict[str, str]:
    """Canonical field → this file's header; ImportFailed when 申请号 or 专利名称 is missing."""
    return {**require_columns(header, REQUIRED), **find_columns(header, OPTIONAL)}


def looks_like_cnipa(header: list[str]) -> bool:
    """True when the header has a CNIPA application-number and title column."""
    return len(find_columns(header, REQUIRED)) == len(REQUIRED)


def parse_cnipa_export(path: Path, *, sheet: str | None = None) -> Iterator[ImportItem]:
    """Stream the rows of a CNIPA export as `PatentIn` records or row rejections."""
    # Institutions' own registers often put a title row ("XX大学专利清单") above the header.
    header, rows = read_table(path, sheet=sheet, is_header=looks_like_cnipa)
    columns = cnipa_columns(header)
    return _records(rows, columns, Path(path).name)


def _records(rows, columns: dict[str, str], source: str) -> Iterator[ImportItem]:  # type: ignore[no-untyped-def]
    for number, cells in rows:
        values = {field: cells[name] for field, name in columns.items()}
        yield build_record(number, values, columns, source_file=source, country_hint="CN")
