"""PatentsView bulk tables (granted patents, tab-separated): g_patent plus side tables.

Input: a folder, or several files, holding `g_patent.tsv` and any of

* `g_patent_abstract.tsv`       patent_id, patent_abstract
* `g_cpc_current.tsv`           patent_id, cpc_sequence, cpc_group, ...
* `g_ipc_at_issue.tsv`          patent_id, ipc_sequence, section, ipc_class, subclass, ...
* `g_assignee_disambiguated.tsv` patent_id, assignee_sequence, disambig_assignee_organization, ...
* `g_inventor_disambiguated.tsv` patent_id, inventor_sequence, disambig_inventor_name_first/last
* `g_application.tsv`           patent_id, application_id, filing_date, series_code

Join strategy and its memory trade-off: g_patent is read in chunks of `chunk_size` patents;
for each chunk every side table is scanned once and only the rows of that chunk's patents are
kept in dicts keyed by patent_id. Memory is O(chunk_size × rows per patent) whatever the
table sizes, and it works whatever order the files are in. The price is one pass over each
side table per chunk: one pass for an institution's extract (the usual case), about 40 for the
full national tables at the default 200k — there a sort-merge on pre-sorted files would be
cheaper, but PatentsView does not promise any order, and a wrong merge silently drops data.

Without g_application a patent is keyed by its number (`PN:US10032242`, see
`patents.numbers.publication_key`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import suppress
from itertools import islice
from pathlib import Path
from typing import Any

from shuanglian.errors import ImportFailed
from shuanglian.patents.importers.common import ImportItem, RowRejection, build_record
from shuanglian.patents.numbers import PatentNumberError, patent_type_from
from shuanglian.tabular import Row, read_table, require_columns

TABLES = (
    "g_patent",
    "g_patent_abstract",
    "g_cpc_current",
    "g_ipc_at_issue",
    "g_assignee_disambiguated",
    "g_inventor_disambiguated",
    "g_application",
)
SIDE_TABLES = TABLES[1:]
_SUFFIXES = (".tsv", ".txt", ".csv")
DEFAULT_CHUNK = 200_000


def find_tables(path: Path | Sequence[Path]) -> dict[str, Path]:
    """Table name → file, from a folder or a list of files; ImportFailed without g_patent."""
    if isinstance(path, (str, Path)):
        path = Path(path)
        files = sorted(path.iterdir()) if path.is_dir() else [path]
    else:
        files = [Path(p) for p in path]
    found: dict[str, Path] = {}
    for file in files:
        name = file.name.lower()
        for suffix in _SUFFIXES:
            if name.endswith(suffix):
                stem = name[: -len(suffix)]
                if stem in TABLES:
                    found[stem] = file
    if "g_patent" not in found:
        raise ImportFailed(
            "PatentsView 数据需要 g_patent.tsv（PatentsView import needs g_patent.tsv; "
            f"found: {', '.join(f.name for f in files) or 'nothing'}）"
        )
    return found


def is_patentsview(path: Path | Sequence[Path]) -> bool:
    """True when `path` is (or holds) a PatentsView g_patent table."""
    try:
        find_tables(path)
    except (ImportFailed, OSError):
        return False
    return True


def parse_patentsview(
    path: Path | Sequence[Path], *, chunk_size: int = DEFAULT_CHUNK
) -> Iterator[ImportItem]:
    """Stream PatentsView patents joined with whichever side tables are present."""
    tables = find_tables(path)
    header, rows = read_table(tables["g_patent"], delimiter="\t")
    columns = require_columns(header, {"patent_id": ("patent_id",), "title": ("patent_title",)})
    for name in SIDE_TABLES:
        if name in tables:
            side_header, side_rows = read_table(tables[name], delimiter="\t")
            side_rows.close()
            require_columns(side_header, {"patent_id": ("patent_id",)})
    return _records(rows, header, columns, tables, chunk_size)


def _records(
    rows: Iterator[Row],
    header: list[str],
    columns: dict[str, str],
    tables: dict[str, Path],
    chunk_size: int,
) -> Iterator[ImportItem]:
    source = tables["g_patent"].name
    id_column, title_column = columns["patent_id"], columns["title"]
    while chunk := list(islice(rows, chunk_size)):
        ids = {cells[id_column] for _, cells in chunk}
        side = {name: _side_rows(tables[name], ids) for name in SIDE_TABLES if name in tables}
        for number, cells in chunk:
            # The header that matched may differ from the canonical name in case or spacing
            # ("Patent_ID"); `_record` reads the canonical names (a KeyError found by fuzzing).
            cells = {**cells, "patent_id": cells[id_column], "patent_title": cells[title_column]}
            yield _record(number, cells, header, side, source)


def _side_rows(path: Path, ids: set[str]) -> dict[str, list[dict[str, str]]]:
    """Rows of one side table for the given patent ids, grouped by patent_id."""
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    _, rows = read_table(path, delimiter="\t")
    for _, cells in rows:
        key = cells.get("patent_id", "")
        if key in ids:
            grouped[key].append(cells)
    return grouped


def _record(
    number: int,
    cells: dict[str, str],
    header: list[str],
    side: dict[str, dict[str, list[dict[str, str]]]],
    source: str,
) -> ImportItem:
    patent_id = cells["patent_id"]
    if cells.get("withdrawn", "").strip() in ("1", "true", "True"):
        return RowRejection(number, "withdrawn", f"专利 {patent_id} 已撤回（withdrawn patent）")
    kind = cells.get("wipo_kind", "")
    values: dict[str, Any] = {
        "publication_number": f"US{patent_id}{kind}",
        "title": cells.get("patent_title", ""),
        "grant_date": cells.get("patent_date", ""),
        "publication_date": cells.get("patent_date", ""),
    }
    columns = {
        "publication_number": "patent_id",
        "title": "patent_title",
        "grant_date": "patent_date",
        "publication_date": "patent_date",
        "claims_count": "num_claims",
        "patent_type": "patent_type",
        "abstract": "patent_abstract",
    }
    if "num_claims" in header:
        values["claims_count"] = cells.get("num_claims", "")
    # Defensive publications and statutory invention registrations have no type: left empty.
    with suppress(PatentNumberError):
        values["patent_type"] = patent_type_from(cells.get("patent_type", "") or kind)
    abstracts = side.get("g_patent_abstract", {}).get(patent_id)
    if "patent_abstract" in header:
        values["abstract"] = cells.get("patent_abstract", "")
    elif abstracts is not None or "g_patent_abstract" in side:
        values["abstract"] = abstracts[0].get("patent_abstract", "") if abstracts else ""
    if "g_cpc_current" in side:
        values["cpc_codes"] = [
            r.get("cpc_group", "") for r in _ordered(side["g_cpc_current"], patent_id, "cpc")
        ]
    if "g_ipc_at_issue" in side:
        values["ipc_codes"] = [_ipc(r) for r in _ordered(side["g_ipc_at_issue"], patent_id, "ipc")]
    if "g_assignee_disambiguated" in side:
        values["applicants"] = [
            _person(r, "assignee")
            for r in _ordered(side["g_assignee_disambiguated"], patent_id, "assignee")
        ]
    if "g_inventor_disambiguated" in side:
        values["inventors"] = [
            _person(r, "inventor")
            for r in _ordered(side["g_inventor_disambiguated"], patent_id, "inventor")
        ]
    applications = side.get("g_application", {}).get(patent_id)
    if applications:
        app = applications[0]
        values["filing_date"] = app.get("filing_date", "")
        values["application_number"] = _application_number(app)
        columns["application_number"] = "g_application.application_id"
        columns["filing_date"] = "g_application.filing_date"
    return build_record(
        number, values, columns, source_file=source, country_hint="US", language="en"
    )


def _ordered(group: dict[str, list[dict[str, str]]], patent_id: str, prefix: str) -> list:
    rows = group.get(patent_id, [])
    return sorted(rows, key=lambda r: _int(r.get(f"{prefix}_sequence", "")))


def _int(text: str) -> int:
    return int(text) if text.strip().isdigit() else 0


def _person(row: dict[str, str], role: str) -> str:
    org = row.get(f"disambig_{role}_organization", "")
    if org:
        return org
    first = row.get(f"disambig_{role}_individual_name_first") or row.get(
        f"disambig_{role}_name_first", ""
    )
    last = row.get(f"disambig_{role}_individual_name_last") or row.get(
        f"disambig_{role}_name_last", ""
    )
    return " ".join(p for p in (first, last) if p)


def _ipc(row: dict[str, str]) -> str:
    head = row.get("section", "") + row.get("ipc_class", "") + row.get("subclass", "")
    group, subgroup = row.get("main_group", ""), row.get("subgroup", "")
    return f"{head}{group}/{subgroup}" if group and subgroup else head


def _application_number(app: dict[str, str]) -> str:
    """Series code + 6-digit serial (`16/123456`); empty when the id has another shape."""
    raw = app.get("application_id", "")
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 8:
        return digits
    series = re.sub(r"\D", "", app.get("series_code", ""))
    if len(digits) == 6 and series:
        return series.zfill(2) + digits
    return ""
