"""Any CSV/XLSX of patents, described by a JSON mapping file.

Mapping file (the keys of `columns` and `defaults` are the canonical fields listed in
`shuanglian.patents.importers.common.CANONICAL_FIELDS`)::

    {
      "columns":  {"publication_number": "patent_id", "title": "title",
                   "abstract": "abstract", "grant_date": "patent_date",
                   "cpc_codes": "cpc_groups", "applicants": "assignees"},
      "defaults": {"language": "en", "patent_type": "invention"},
      "country": "US",            # office of bare numbers such as 10032242 (optional)
      "sheet": "Sheet1",          # .xlsx only (optional)
      "delimiter": ","            # text files only (optional; sniffed otherwise)
    }

A record needs a title and an application or publication number; a file known only by
publication numbers is keyed `PN:<number>` (see `patents.numbers.publication_key`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shuanglian.errors import ImportFailed
from shuanglian.patents.importers.common import CANONICAL_FIELDS, ImportItem, build_record
from shuanglian.tabular import read_table, require_columns

_MAPPING_KEYS = {"columns", "defaults", "country", "sheet", "delimiter"}


def load_mapping(mapping: Path | dict[str, Any] | str) -> dict[str, Any]:
    """Read and check a mapping (path to JSON, JSON text or dict); ImportFailed if malformed."""
    if isinstance(mapping, dict):
        data = mapping
    else:
        text = str(mapping)
        try:
            if text.lstrip().startswith("{"):
                data = json.loads(text)
            else:
                data = json.loads(Path(text).read_text(encoding="utf-8-sig"))
        except FileNotFoundError as exc:
            raise ImportFailed(f"找不到映射文件 {text}（mapping file not found）") from exc
        except json.JSONDecodeError as exc:
            raise ImportFailed(
                f"映射文件不是有效的 JSON：{exc.msg}，第 {exc.lineno} 行"
                f"（mapping is not valid JSON: {exc.msg} at line {exc.lineno}）"
            ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise ImportFailed('映射须包含 "columns" 对象（mapping needs a "columns" object）')
    unknown = set(data) - _MAPPING_KEYS
    unknown_fields = (set(data["columns"]) | set(data.get("defaults") or {})) - set(
        CANONICAL_FIELDS
    )
    if unknown or unknown_fields:
        names = ", ".join(sorted(unknown | unknown_fields))
        raise ImportFailed(
            f"映射中有未知的键：{names}；可用字段：{', '.join(CANONICAL_FIELDS)}"
            f"（unknown keys in mapping: {names}）"
        )
    fields = set(data["columns"]) | set(data.get("defaults") or {})
    if "title" not in fields or not fields & {"application_number", "publication_number"}:
        raise ImportFailed(
            "映射须指定 title 以及 application_number 或 publication_number 列"
            "（mapping must name a title column and an application or publication number column）"
        )
    return data


def parse_mapped_table(path: Path, *, mapping: Path | dict[str, Any] | str) -> Iterator[ImportItem]:
    """Stream a CSV/XLSX through a column mapping as `PatentIn` records or row rejections."""
    spec = load_mapping(mapping)
    header, rows = read_table(path, delimiter=spec.get("delimiter"), sheet=spec.get("sheet"))
    wanted = {str(field): (str(name),) for field, name in spec["columns"].items()}
    columns = require_columns(header, wanted)
    defaults = {k: v for k, v in (spec.get("defaults") or {}).items()}
    country = spec.get("country")
    return _records(rows, columns, defaults, country, Path(path).name)


def _records(  # type: ignore[no-untyped-def]
    rows, columns: dict[str, str], defaults: dict[str, Any], country: str | None, source: str
) -> Iterator[ImportItem]:
    labels = {**{f: f"默认值 defaults.{f}" for f in defaults}, **columns}
    for number, cells in rows:
        values: dict[str, Any] = {}
        for field in labels:
            cell = cells.get(columns[field], "") if field in columns else ""
            values[field] = cell if cell != "" else defaults.get(field, "")
        yield build_record(number, values, labels, source_file=source, country_hint=country)
