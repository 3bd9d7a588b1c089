"""Patent importers: one module per file format, one entry point for the CLI and the web.

Every format module streams `PatentIn` records or `RowRejection`s; `import_patents` routes
a file to its module and hands the stream to `patents.service.upsert_patents`, so counting,
batching and atomicity are the same for all formats.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.audit import record_import
from shuanglian.config import DEFAULT_IMPORT_BATCH_MAX_S, DEFAULT_IMPORT_BATCH_SIZE
from shuanglian.errors import ImportFailed
from shuanglian.importing import ImportReport
from shuanglian.patents.importers.cnipa import parse_cnipa_export
from shuanglian.patents.importers.cnki import parse_cnki_export
from shuanglian.patents.importers.common import ImportItem, RowRejection, collect_rejections
from shuanglian.patents.importers.detect import FORMATS, detect_format
from shuanglian.patents.importers.generic_csv import parse_mapped_table
from shuanglian.patents.importers.patentsview import parse_patentsview
from shuanglian.patents.importers.patsnap import parse_patsnap_export
from shuanglian.patents.importers.uspto_xml import parse_uspto_xml
from shuanglian.patents.models import Institution, Patent
from shuanglian.patents.schemas import PatentIn
from shuanglian.patents.service import upsert_patents
from shuanglian.text.normalize import fold_width, to_simplified

HELD_ELSEWHERE_FIELD = "申请号 (application number)"
APPLICANTS_FIELD = "申请人 (applicants)"


def resolved_format(
    path: Path | Sequence[Path],
    *,
    fmt: str = "auto",
    mapping: Path | dict[str, Any] | str | None = None,
) -> str:
    """The format a file will be read as: the one given, or the one its header says."""
    if fmt != "auto":
        return fmt
    if mapping is not None:
        return "csv"
    if isinstance(path, (list, tuple)):
        return "patentsview"
    return detect_format(Path(path))  # type: ignore[arg-type]


def parse_patent_file(
    path: Path | Sequence[Path],
    *,
    fmt: str = "auto",
    mapping: Path | dict[str, Any] | str | None = None,
) -> Iterator[ImportItem]:
    """The record stream for a file in the given (or detected) format; nothing is written."""
    paths = [Path(p) for p in path] if isinstance(path, (list, tuple)) else None
    single = Path(path) if paths is None else paths[0]  # type: ignore[arg-type]
    fmt = resolved_format(path, fmt=fmt, mapping=mapping)
    if fmt == "cnipa":
        return parse_cnipa_export(single)
    if fmt == "cnki":
        return parse_cnki_export(single)
    if fmt == "patsnap":
        return parse_patsnap_export(single)
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
    claim_from_others: bool = True,
    actor: User | None = None,
    checkpoint: Callable[[], None] | None = None,
    batch_max_s: float = DEFAULT_IMPORT_BATCH_MAX_S,
) -> ImportReport:
    """Import a patent file into the store (or only report, with dry_run); the caller commits.

    A row for a patent already stored under another institution moves it to `institution`
    (the operator's CLI re-assigns holdings that way). With `claim_from_others=False` — an
    institution's own staff uploading in the web workspace — such rows are rejected instead,
    so one institution's file can never take over or overwrite another's patents.
    The import is logged (`import.patents`: file name and counts) as `actor`'s, or the
    system's when None (the operator's CLI). `checkpoint` is called after each written batch
    (see `upsert_patents`).
    """
    report = ImportReport(dry_run=dry_run)
    fmt = resolved_format(path, fmt=fmt, mapping=mapping)
    items = parse_patent_file(path, fmt=fmt, mapping=mapping)
    records: Iterable[PatentIn] = collect_rejections(items, report)
    if fmt != "cnki":
        # A CNKI export lists an application and its grant as two rows of one patent, which
        # its reader merges on purpose; anywhere else a repeated number is a mistake.
        records = _refuse_repeats(records, report)
    if institution:
        records = _warn_foreign_applicants(records, institution_name=institution, report=report)
    if institution and not claim_from_others:
        records = _refuse_held_elsewhere(
            session,
            records,
            institution_name=institution,
            report=report,
            batch_size=batch_size or DEFAULT_IMPORT_BATCH_SIZE,
        )
    upsert_patents(
        session,
        records=records,
        institution_name=institution,
        dry_run=dry_run,
        report=report,
        batch_size=batch_size,
        checkpoint=checkpoint,
        batch_max_s=batch_max_s,
    )
    institution_id = (
        session.scalar(select(Institution.id).where(Institution.name == institution.strip()))
        if institution and not dry_run
        else None
    )
    record_import(
        session,
        actor=actor,
        kind="patents",
        files=[path] if isinstance(path, str | Path) else path,
        report=report,
        subject=("institutions", institution_id) if institution_id else None,
        institution_id=institution_id,
        format=fmt,
    )
    return report


def _refuse_repeats(records: Iterable[PatentIn], report: ImportReport) -> Iterator[PatentIn]:
    """Reject a second row with an application number already seen in this file, naming both.

    Two rows for one patent in one file are a mistake in the file (a pasted block, a merged
    export); silently keeping the last would hide which one the person meant.
    """
    first_row: dict[str, int] = {}
    for record in records:
        row = record.source_row or 0
        seen = first_row.get(record.application_key)
        if seen is not None:
            report.reject(
                row,
                HELD_ELSEWHERE_FIELD,
                f"申请号 {record.application_number} 在本文件中重复：第 {seen} 行与第 {row} 行，"
                f"已保留第 {seen} 行；请删去其中一行 (duplicate application number in this file: "
                f"rows {seen} and {row}; row {seen} was kept)",
            )
            continue
        first_row[record.application_key] = row
        yield record


def _name_key(text: str) -> str:
    """Names compared loosely: width, case, spaces and bracket forms do not matter."""
    folded = to_simplified(fold_width(text)).lower()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "()（）")


def _warn_foreign_applicants(
    records: Iterable[PatentIn], *, institution_name: str, report: ImportReport
) -> Iterator[PatentIn]:
    """Keep every record, but warn when its applicants do not include the institution.

    Such rows are often real (a patent filed jointly, or under a former name), so they are
    imported; the warning lets the clerk check a file that holds another holder's patents.
    """
    own = _name_key(institution_name)
    for record in records:
        names = record.applicants or []
        if names and not any(own in _name_key(n) or _name_key(n) in own for n in names):
            report.warn(
                record.source_row or 0,
                APPLICANTS_FIELD,
                f"申请人“{'；'.join(names)[:80]}”中没有“{institution_name}”，已导入，请核对是否为"
                "本单位专利 (the applicants do not include the institution; imported, please "
                "check)",
            )
        yield record


def _refuse_held_elsewhere(
    session: Session,
    records: Iterable[PatentIn],
    *,
    institution_name: str,
    report: ImportReport,
    batch_size: int,
) -> Iterator[PatentIn]:
    """Pass on records of new patents and of the institution's own; reject every other.

    A patent already stored without a holder (the operator imported it, e.g. from a national
    export) is not the uploader's either: taking it over would give staff a way to claim and
    retitle any unowned record. One SELECT of the holders per batch of keys, the same batching
    as the upsert after it.
    """
    own_id = session.scalar(
        select(Institution.id).where(Institution.name == institution_name.strip())
    )
    iterator = iter(records)
    while batch := list(islice(iterator, batch_size)):
        keys = list({record.application_key for record in batch})
        stored = session.execute(
            select(Patent.application_key, Patent.institution_id).where(
                Patent.application_key.in_(keys)
            )
        )
        holders = {key: holder for key, holder in stored}
        for record in batch:
            if record.application_key in holders and (
                own_id is None or holders[record.application_key] != own_id
            ):
                report.reject(
                    record.source_row or 0,
                    HELD_ELSEWHERE_FIELD,
                    f"专利 {record.application_number} 已在平台登记且不属于本单位，"
                    "不能作为本单位专利导入，如有误请联系平台管理员 "
                    "(the patent is already registered and not held by your institution)",
                )
                continue
            yield record


__all__ = [
    "FORMATS",
    "ImportItem",
    "RowRejection",
    "detect_format",
    "import_patents",
    "parse_patent_file",
]
