"""CNKI (中国知网) patent exports: the CSV/xlsx the 专利 database's 导出 button writes.

Headers are bilingual pairs, `SrcDatabase-来源库, Author-作者, Applicant-申请人, Title-题名,
CountryName-国省名称, PubNo-公开号, PubTime-公开日期, Summary-摘要, Claims-主权项,
CLC-中图分类号, Label-标签` (real sample: shared/data/samples/cn_patents_sysu_cnki_export_1467.csv,
UTF-8 with BOM). What each column means in a patent export:

* `Author-作者` are the inventors, `Applicant-申请人` the applicants;
* `CLC-中图分类号` holds the IPC codes (the column keeps its literature-database name);
  anything in it that is not IPC-shaped (a real 中图 class such as TP391) is dropped;
* there is no application number: a record is keyed by its publication number without kind
  code (`PN:CN116510786`), which a CN application publication (A) and its grant (B) share;
* the kind code of `PubNo-公开号` gives the type (A/B invention, U utility model, S design)
  and says what `PubTime-公开日期` is: the publication date of an A, the grant date of a B/C/U/S
  (CN utility models and designs are published once, at grant);
* `Claims-主权项` (the first claim), `CountryName-国省名称` (the applicant's province),
  `SrcDatabase` and `Label` are not stored.

One export often lists both the A and the B of the same invention (30 pairs in the sample).
They are one patent: the file is read twice, first only to count the rows of each key, then
the rows of a key are merged (grant number and texts, publication date from the A, grant date
from the B) and the merged record is given for each of its rows, so the report counts the
second row as unchanged instead of letting the older A overwrite the grant.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shuanglian.patents.importers.common import ImportItem, RowRejection, build_record
from shuanglian.patents.numbers import (
    PatentNumberError,
    normalize_classification,
    normalize_publication_number,
    publication_key,
)
from shuanglian.tabular import Rows, find_columns, read_table, require_columns

REQUIRED = {
    "title": ("Title-题名", "Title"),
    "publication_number": ("PubNo-公开号", "PubNo"),
}
OPTIONAL = {
    "abstract": ("Summary-摘要", "Summary"),
    "applicants": ("Applicant-申请人", "Applicant"),
    "inventors": ("Author-作者", "Author"),
    "pub_time": ("PubTime-公开日期", "PubTime"),
    "ipc_codes": ("CLC-中图分类号", "CLC"),
    "source_database": ("SrcDatabase-来源库", "SrcDatabase"),
}
# Kinds whose PubTime is a grant (CN: B/C invention grants, U utility models, S designs).
_GRANT_KINDS = ("B", "C", "U", "Y", "S")


def cnki_columns(header: list[str]) -> dict[str, str]:
    """Canonical field → this file's header; ImportFailed when Title or PubNo is missing."""
    return {**require_columns(header, REQUIRED), **find_columns(header, OPTIONAL)}


def looks_like_cnki(header: list[str]) -> bool:
    """True for CNKI's bilingual headers (`Title-题名` and `PubNo-公开号`)."""
    bilingual = any("-" in name for name in header)
    return bilingual and len(find_columns(header, REQUIRED)) == len(REQUIRED)


def parse_cnki_export(path: Path) -> Iterator[ImportItem]:
    """Stream a CNKI patent export as `PatentIn` records or row rejections."""
    header, rows = read_table(path, is_header=looks_like_cnki)
    columns = cnki_columns(header)
    counts = _key_counts(rows, columns["publication_number"])
    _header, rows = read_table(path, is_header=looks_like_cnki)
    return _records(rows, columns, counts, Path(path).name)


def _key(raw: str) -> str | None:
    try:
        return publication_key(raw)
    except PatentNumberError:
        return None


def _key_counts(rows: Rows, column: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for _number, cells in rows:
        key = _key(cells.get(column, ""))
        if key:
            counts[key] += 1
    return counts


def _kind(number: str) -> str:
    try:
        normalized = normalize_publication_number(number)
    except PatentNumberError:
        return ""
    tail = normalized.rstrip("0123456789")
    return tail[-1] if tail and tail[-1].isalpha() and len(tail) > 2 else ""


def _row_values(cells: dict[str, str], columns: dict[str, str]) -> dict[str, Any]:
    number = cells.get(columns["publication_number"], "")
    values: dict[str, Any] = {
        "title": cells.get(columns["title"], ""),
        "publication_number": number,
    }
    for name in ("abstract", "applicants", "inventors"):
        if name in columns:
            values[name] = cells.get(columns[name], "")
    if "ipc_codes" in columns:
        parts = cells.get(columns["ipc_codes"], "").replace("；", ";").split(";")
        values["ipc_codes"] = "; ".join(
            code for part in parts if (code := normalize_classification(part.strip()))
        )
    if "pub_time" in columns:
        when = cells.get(columns["pub_time"], "")
        granted = _kind(number) in _GRANT_KINDS
        values["grant_date" if granted else "publication_date"] = when
        if granted and _kind(number) in ("U", "Y", "S"):
            values["publication_date"] = when
    return values


def _merge(group: list[dict[str, Any]]) -> dict[str, Any]:
    """One record from the rows of one patent: the grant's number and texts, both dates."""
    grants = [v for v in group if _kind(v["publication_number"]) in _GRANT_KINDS]
    merged = dict(grants[0] if grants else group[0])
    for values in group:
        for date_field in ("publication_date", "grant_date"):
            if values.get(date_field) and not merged.get(date_field):
                merged[date_field] = values[date_field]
    return merged


def _labels(columns: dict[str, str]) -> dict[str, str]:
    labels = dict(columns)
    if "pub_time" in columns:
        labels["publication_date"] = labels["grant_date"] = columns["pub_time"]
    return labels


def _records(
    rows: Rows, columns: dict[str, str], counts: Counter[str], source: str
) -> Iterator[ImportItem]:
    labels = _labels(columns)
    pending: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for number, cells in rows:
        values = _row_values(cells, columns)
        key = _key(values["publication_number"])
        if key is None or counts.get(key, 0) <= 1:
            yield build_record(number, values, labels, source_file=source)
            continue
        group = pending.setdefault(key, [])
        group.append((number, values))
        if len(group) < counts[key]:
            continue
        del pending[key]
        merged = build_record(
            group[0][0], _merge([v for _, v in group]), labels, source_file=source
        )
        for row, _values in group:
            if isinstance(merged, RowRejection):
                yield RowRejection(row, merged.field, merged.message)
            else:
                yield merged.model_copy(update={"source_row": row})
