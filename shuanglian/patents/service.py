"""Patent services: bulk upsert from importers, lookups and listings.

`upsert_patents` is the write path for every import format. It never builds ORM objects per
row: each batch of `batch_size` records (the CLI passes `Settings.import_batch_size`) costs one
SELECT of the existing keys, one multi-row INSERT and one executemany UPDATE, which is what
keeps 100k rows well under a minute on SQLite.

Counting rules (the same in a dry run, which writes nothing):

* a key not in the database and not seen earlier in the file → inserted;
* a key already stored → updated when any field the file provides differs, else unchanged;
* a key repeated within one file → compared with its previous row in the file (later row
  wins), so a file with the same row twice reports 1 inserted + 1 unchanged.

Only the fields the import file provides (`PatentIn.model_fields_set`) are compared and
written; `institution_id` is only set when the import names an institution.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext, suppress
from datetime import date
from itertools import islice
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, or_, select
from sqlalchemy.orm import Session

from shuanglian.audit import record_audit
from shuanglian.config import DEFAULT_IMPORT_BATCH_MAX_S, DEFAULT_IMPORT_BATCH_SIZE
from shuanglian.db import utcnow
from shuanglian.errors import NotFound
from shuanglian.importing import ImportReport
from shuanglian.patents.models import Institution, Patent
from shuanglian.patents.numbers import (
    PatentNumberError,
    application_key,
    normalize_publication_number,
)
from shuanglian.patents.schemas import DATA_FIELDS, PatentIn
from shuanglian.text.normalize import normalize_for_search

_LIST_FIELDS = ("applicants", "inventors", "ipc_codes", "cpc_codes")
_TABLE: Table = Patent.__table__  # type: ignore[assignment]


# --------------------------------------------------------------------------- institutions


def get_or_create_institution(session: Session, *, name: str) -> Institution:
    """The institution with this exact name, created if new."""
    name = name.strip()
    found = session.scalar(select(Institution).where(Institution.name == name))
    if found is not None:
        return found
    institution = Institution(name=name)
    session.add(institution)
    session.flush()
    record_audit(
        session,
        actor=None,
        action="institution.create",
        subject=institution,
        detail={"text": name},
        institution_id=institution.id,
    )
    return institution


def _institution_id(session: Session, name: str | None, *, create: bool) -> int | None:
    if not name or not name.strip():
        return None
    if create:
        return get_or_create_institution(session, name=name).id
    return session.scalar(select(Institution.id).where(Institution.name == name.strip()))


# --------------------------------------------------------------------------- upsert


def upsert_patents(
    session: Session,
    *,
    records: Iterable[PatentIn],
    institution_name: str | None = None,
    dry_run: bool = False,
    report: ImportReport | None = None,
    batch_size: int | None = None,
    checkpoint: Callable[[], None] | None = None,
    batch_max_s: float = DEFAULT_IMPORT_BATCH_MAX_S,
) -> ImportReport:
    """Insert or update patents by application key in bulk batches; the caller commits.

    With `checkpoint` (the operator's CLI on SQLite passes the session's commit) it is called
    after every batch, so the write lock is held for one batch at a time and logins and forms
    keep working during a long import; the import is then no longer all-or-nothing (an
    upsert: run it again after fixing the file). A batch that took longer than `batch_max_s`
    to write makes the next ones smaller (down to `MIN_CHECKPOINT_BATCH` rows; back up to
    `batch_size` when they are quick again): on a slow or busy machine 2,000 rows held the
    lock for longer than a login waits for it (`sqlite_busy_timeout_ms`), and logins failed
    with "database is locked" while an import ran.
    """
    report = report if report is not None else ImportReport()
    report.dry_run = dry_run
    size = batch_size or DEFAULT_IMPORT_BATCH_SIZE
    # A savepoint makes the whole import atomic even for callers that keep using the session
    # after an ImportFailed: every batch written so far is rolled back with it.
    atomic = not dry_run and checkpoint is None
    scope = session.begin_nested() if atomic else nullcontext()
    with scope:
        institution_id = _institution_id(session, institution_name, create=not dry_run)
        if institution_name and institution_id is None:
            institution_id = -1  # dry run of a new institution: every row would change
        seen: dict[str, int] = {}
        iterator = iter(records)
        rows = size
        # Reading and checking a batch (outside the transaction on SQLite) happens in islice;
        # only `_upsert_batch` runs with the write lock held.
        while batch := list(islice(iterator, rows)):
            started = time.monotonic()
            _upsert_batch(
                session,
                batch,
                institution_id=institution_id,
                set_institution=bool(institution_name),
                dry_run=dry_run,
                seen=seen,
                report=report,
            )
            if checkpoint is not None and not dry_run:
                held = time.monotonic() - started
                checkpoint()
                rows = next_batch_rows(rows, held, most=size, max_s=batch_max_s)
    return report


MIN_CHECKPOINT_BATCH = 20


def next_batch_rows(rows: int, held_s: float, *, most: int, max_s: float) -> int:
    """Rows for the next committed batch, from how long this one held the write lock:
    scaled down when it took longer than `max_s`, doubled (up to `most`) when it took under
    half of it."""
    if held_s > max_s:
        return max(MIN_CHECKPOINT_BATCH, min(rows - 1, int(rows * max_s / held_s)))
    if held_s < max_s / 2:
        return min(most, rows * 2)
    return rows


def _incoming(record: PatentIn) -> dict[str, Any]:
    """The data fields this record provides (its file's columns), lists copied."""
    provided = record.model_fields_set
    values = {}
    for name in DATA_FIELDS:
        if name in provided or name in ("application_number", "title"):
            value = getattr(record, name)
            values[name] = list(value) if name in _LIST_FIELDS else value
    return values


def _fingerprint(values: dict[str, Any], institution_id: int | None) -> int:
    """A hash of what a row would write; `values` keys come in DATA_FIELDS order."""
    flat = tuple(tuple(v) if isinstance(v, list) else v for v in values.values())
    return hash((institution_id, tuple(values), flat))


def _upsert_batch(
    session: Session,
    batch: list[PatentIn],
    *,
    institution_id: int | None,
    set_institution: bool,
    dry_run: bool,
    seen: dict[str, int],
    report: ImportReport,
) -> None:
    keys = list(dict.fromkeys(r.application_key for r in batch))
    existing = {
        row["application_key"]: row
        for row in session.execute(
            select(_TABLE).where(_TABLE.c.application_key.in_(keys))
        ).mappings()
    }
    final: dict[str, tuple[PatentIn, dict[str, Any]]] = {}
    for record in batch:
        key = record.application_key
        values = _incoming(record)
        fingerprint = _fingerprint(values, institution_id if set_institution else None)
        if key in seen:
            if seen[key] == fingerprint:
                report.unchanged += 1
            else:
                report.updated += 1
        elif key in existing:
            if _changes(existing[key], values, institution_id, set_institution):
                report.updated += 1
            else:
                report.unchanged += 1
        else:
            report.inserted += 1
        seen[key] = fingerprint
        final[key] = (record, values)
    if dry_run:
        return
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for key, (record, values) in final.items():
        if key not in existing:
            inserts.append(_insert_row(record, institution_id, now))
            continue
        changes = _changes(existing[key], values, institution_id, set_institution)
        if not changes:
            continue
        merged = {
            name: changes.get(name, existing[key][name])
            for name in ("title", "abstract", "alt_title", "alt_abstract")
        }
        changes["search_text"] = _search_text(**merged)
        changes["source_file"] = record.source_file
        changes["source_row"] = record.source_row
        changes["updated_at"] = now
        changes["b_id"] = existing[key]["id"]
        updates.setdefault(tuple(sorted(changes)), []).append(changes)
    if inserts:
        session.execute(insert(_TABLE), inserts)
    for params in updates.values():
        statement = _TABLE.update().where(_TABLE.c.id == bindparam("b_id"))
        session.execute(statement, params)


def _changes(
    stored: Any, values: dict[str, Any], institution_id: int | None, set_institution: bool
) -> dict[str, Any]:
    """Columns whose incoming value differs from the stored row."""
    changes = {}
    for name, value in values.items():
        current = stored[name]
        if name in _LIST_FIELDS:
            current = list(current or [])
        if current != value:
            changes[name] = value
    if set_institution and stored["institution_id"] != institution_id:
        changes["institution_id"] = institution_id
    return changes


def _insert_row(record: PatentIn, institution_id: int | None, now: Any) -> dict[str, Any]:
    row = record.model_dump()
    row["search_text"] = _search_text(
        title=record.title,
        abstract=record.abstract,
        alt_title=record.alt_title,
        alt_abstract=record.alt_abstract,
    )
    row["institution_id"] = institution_id if institution_id and institution_id > 0 else None
    row["created_at"] = now
    row["updated_at"] = now
    return row


def _search_text(
    *,
    title: str,
    abstract: str | None,
    alt_title: str | None = None,
    alt_abstract: str | None = None,
) -> str:
    """Both languages, when stored, so the catalogue's 锂电池 finds an English patent whose
    source gave a Chinese translation (and the reverse)."""
    parts = [title, abstract or "", alt_title or "", alt_abstract or ""]
    return normalize_for_search("\n".join(p for p in parts if p))


# --------------------------------------------------------------------------- reading


def get_patent(session: Session, *, patent_id: int) -> Patent:
    """The patent with this id, or NotFound."""
    patent = session.get(Patent, patent_id)
    if patent is None:
        raise NotFound(f"专利 {patent_id} 不存在（patent {patent_id} not found）")
    return patent


def patents_by_id(session: Session, *, ids: Iterable[int]) -> dict[int, Patent]:
    """The patents with these ids, by id (missing ones left out), for lists of other records."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    return {p.id: p for p in session.scalars(select(Patent).where(Patent.id.in_(wanted)))}


def list_institutions(session: Session, *, limit: int = 500) -> list[Institution]:
    """Institutions by name, for choosers and admin lists."""
    statement = select(Institution).order_by(Institution.name).limit(max(min(limit, 5000), 0))
    return list(session.scalars(statement))


def get_institution(session: Session, *, institution_id: int) -> Institution:
    """The institution with this id, or NotFound."""
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise NotFound(f"机构 {institution_id} 不存在 (institution not found)")
    return institution


def get_patent_by_number(session: Session, *, number: str) -> Patent:
    """The patent with this application or publication number (any common spelling)."""
    patent = session.scalar(select(Patent).where(_number_filter(number)))
    if patent is None:
        raise NotFound(f"找不到专利 {number}（no patent with number {number}）")
    return patent


def list_patents(
    session: Session,
    *,
    q: str | None = None,
    institution_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> list[Patent]:
    """Patents matching a text or number query, newest filing first, one page."""
    statement = _filtered(select(Patent), q=q, institution_id=institution_id)
    statement = statement.order_by(Patent.filing_date.desc().nulls_last(), Patent.id)
    return list(session.scalars(statement.offset(max(offset, 0)).limit(max(min(limit, 500), 0))))


def search_patents(
    session: Session,
    *,
    q: str | None = None,
    institution_id: int | None = None,
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[Patent], int]:
    """One page of patents matching `q` (text or number) and the total."""
    items = list_patents(session, q=q, institution_id=institution_id, offset=offset, limit=limit)
    return items, count_patents(session, q=q, institution_id=institution_id)


def count_patents(
    session: Session, *, q: str | None = None, institution_id: int | None = None
) -> int:
    """How many patents `list_patents` would page through."""
    statement = _filtered(select(func.count(Patent.id)), q=q, institution_id=institution_id)
    return int(session.scalar(statement) or 0)


def _filtered(statement: Any, *, q: str | None, institution_id: int | None) -> Any:
    if institution_id is not None:
        statement = statement.where(Patent.institution_id == institution_id)
    if q and q.strip():
        needle = normalize_for_search(q)
        statement = statement.where(
            or_(Patent.search_text.contains(needle, autoescape=True), _number_filter(q))
        )
    return statement


def _number_filter(number: str) -> Any:
    """Match application key or publication number; false when `number` is no number."""
    clauses = []
    with suppress(PatentNumberError):
        clauses.append(Patent.application_key == application_key(number))
    with suppress(PatentNumberError):
        clauses.append(Patent.publication_number == normalize_publication_number(number))
    if not clauses:
        return Patent.id.is_(None)
    return or_(*clauses)


def remaining_term_years(patent: Patent, *, today: date | None = None) -> float | None:
    """Years left until the statutory expiry date (negative once expired)."""
    if patent.expiry_date is None:
        return None
    today = today or date.today()
    return (patent.expiry_date - today).days / 365.25
