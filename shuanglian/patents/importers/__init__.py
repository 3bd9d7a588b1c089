"""Patent importers: one module per file format, one entry point for the CLI and the web.

Every format module streams `PatentIn` records or `RowRejection`s; `import_patents` routes
a file to its module and hands the stream to `patents.service.upsert_patents`, so counting,
batching and atomicity are the same for all formats.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from shuanglian.errors import ImportFailed
from shuanglian.importing import ImportReport
from shuanglian.patents.importers.cnipa import parse_cnipa_export
from shuanglian.patents.importers.common import ImportItem, RowRejection, collect_rejections
from shuanglian.patents.importers.detect import FORMATS, detect_format
from shuanglian.patents.importers.generic_csv import parse_mapped_table
from shuanglian.patents.importers.patentsview import parse_patentsview
from shuanglian.patents.importers.uspto_xml import parse_uspto_xml
from shuanglian.patents.service import upsert_patents


def parse_patent_file(
    path: Path | Sequence[Path],
    *,
    fmt: str = "auto",
    mapping: Path | dict[str, Any] | str | None = None,
) -> Iterator[ImportItem]:
    """The record stream for a file in the given (or detected) format; nothing is written."""
    paths = [Path(p) for p in path] if isinstance(path, (list, tuple)) else None
    single = Path(path) if paths is None else paths[0]  # type: ignore[arg-type]
    if fmt == "auto":
        fmt = "csv" if mapping is not None else ("patentsview" if paths else detect_format(single))
    if fmt == "cnipa":
        return parse_cnipa_export(single)
    if fmt == "patentsview":
        return parse_patentsview(paths or single)
    if fmt == "uspto-xml":
        return parse_uspto_xml(single)
    if fmt == "csv":
        if mapping is None:
            raise ImportFailed(
                "无法识别的表格：通用 CSV 需要用 --mapping 指定列映射"
                "（unrecognised table: a generic CSV needs a --mapping file）"
            )
        return parse_mapped_table(single, mapping=mapping)
    raise ImportFailed(f"未知格式 {fmt}，可用：auto, {', '.join(FORMATS)}（unknown format {fmt}）")


def import_patents(
    session: Session,
    *,
    path: Path | Sequence[Path],
    fmt: str = "auto",
    institution: str | None = None,
    mapping: Path | dict[str, Any] | str | None = None,
    dry_run: bool = False,
    batch_size: int | None = None,
) -> ImportReport:
    """Import a patent file into the store (or only report, with dry_run); the caller commits."""
    report = ImportReport(dry_run=dry_run)
    items = parse_patent_file(path, fmt=fmt, mapping=mapping)
    return upsert_patents(
        session,
        records=collect_rejections(items, report),
        institution_name=institution,
        dry_run=dry_run,
        report=report,
        batch_size=batch_size,
    )


__all__ = [
    "FORMATS",
    "ImportItem",
    "RowRejection",
    "detect_format",
    "import_patents",
    "parse_patent_file",
]
