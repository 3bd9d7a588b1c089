"""Small builders for patent import files used across the patent tests."""

from __future__ import annotations

import csv
from pathlib import Path

CNIPA_HEADER = [
    "申请号",
    "公开号",
    "申请日",
    "专利类型",
    "专利名称",
    "申请摘要",
    "申请人",
    "申请人类型",
    "主分类号",
    "分类号",
    "CPC分类号",
    "法律状态",
    "专利转移次数",
    "许可次数",
]

NVIDIA_MAPPING = {
    "columns": {
        "publication_number": "patent_id",
        "grant_date": "patent_date",
        "title": "title",
        "abstract": "abstract",
        "cpc_codes": "cpc_groups",
        "applicants": "assignees",
    },
    "defaults": {"language": "en", "patent_type": "invention"},
    "country": "US",
}


def cnipa_row(**overrides: str) -> dict[str, str]:
    """One CNIPA row built from the first record of the shared sample, with overrides."""
    row = {
        "申请号": "CN202223220665.2",
        "公开号": "CN218751475U",
        "申请日": "20221202",
        "专利类型": "实用新型",
        "专利名称": "一种无人机机载多功能盒",
        "申请摘要": "多功能盒内设置有CPU模块、4G/5G通信模块以及扩展接口。",
        "申请人": "中科大数据研究院",
        "申请人类型": "科研机构",
        "主分类号": "B64U20/80",
        "分类号": "B64U20/80;B64U101/30",
        "CPC分类号": "",
        "法律状态": "有权-审定授权",
        "专利转移次数": "0",
        "许可次数": "0",
    }
    row.update(overrides)
    return row


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    *,
    header: list[str] | None = None,
    encoding: str = "utf-8",
) -> Path:
    """Write rows under `header` (CNIPA columns by default) and return the path."""
    header = header or CNIPA_HEADER
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_sample_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a shared CSV sample as dicts."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
