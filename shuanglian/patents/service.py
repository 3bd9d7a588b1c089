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
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any

from sqlalchemy import Table, bindparam, exists, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from shuanglian.audit import record_audit
from shuanglian.config import DEFAULT_IMPORT_BATCH_MAX_S, DEFAULT_IMPORT_BATCH_SIZE
from shuanglian.db import utcnow
from shuanglian.errors import NotFound
from shuanglian.importing import ImportReport
from shuanglian.patents.models import (
    Institution,
    Patent,
    PatentTerm,
    kind_from_name,
    write_patent_terms,
)
from shuanglian.patents.numbers import (
    PatentNumberError,
    application_key,
    normalize_publication_number,
)
from shuanglian.patents.schemas import DATA_FIELDS, PatentIn
from shuanglian.supermarket.search_terms import plain_query
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
    institution = Institution(name=name, kind=kind_from_name(name))
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
    _index_terms(session, inserts, updates)


def _index_terms(
    session: Session,
    inserts: list[dict[str, Any]],
    updates: dict[tuple[str, ...], list[dict[str, Any]]],
) -> None:
    """Keep `patent_terms` in step with a batch's bulk statements (no ORM events fire)."""
    connection = session.connection()
    if inserts:
        new_ids = dict(
            session.execute(
                select(_TABLE.c.application_key, _TABLE.c.id).where(
                    _TABLE.c.application_key.in_([row["application_key"] for row in inserts])
                )
            ).all()
        )
        rows = [(new_ids[r["application_key"]], r["title"], r.get("alt_title")) for r in inserts]
        write_patent_terms(connection, rows, replace=False)
    retitled = [
        params["b_id"]
        for params_list in updates.values()
        for params in params_list
        if "title" in params or "alt_title" in params
    ]
    if retitled:
        current = session.execute(
            select(_TABLE.c.id, _TABLE.c.title, _TABLE.c.alt_title).where(_TABLE.c.id.in_(retitled))
        ).all()
        write_patent_terms(connection, [tuple(row) for row in current])


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


def patent_abstracts(session: Session, *, ids: Iterable[int]) -> dict[int, str]:
    """The abstracts of these patents by id (those without one left out): the line under each
    matched title, with the shared words marked (web.highlight)."""
    return {pid: p.abstract for pid, p in patents_by_id(session, ids=ids).items() if p.abstract}


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


# Searches count their matches up to here and say so (`total_capped`): an exact count of a
# common word over a million patents reads every posting, for a number nobody pages through.
COUNT_CAP = 10_000


def list_patents(
    session: Session,
    *,
    q: str | None = None,
    institution_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> list[Patent]:
    """Patents matching a text or number query, one page (see `search_patents` for order)."""
    return search_patents(
        session, q=q, institution_id=institution_id, offset=offset, limit=limit
    ).items


@dataclass
class PatentPage:
    """One page of a patent search; `total` is counted up to COUNT_CAP (`capped` then)."""

    items: list[Patent]
    total: int
    capped: bool


def search_patents(
    session: Session,
    *,
    q: str | None = None,
    institution_id: int | None = None,
    offset: int = 0,
    limit: int = 20,
) -> PatentPage:
    """One page of patents matching `q` and how many match (up to COUNT_CAP).

    Without `q`: newest filing first. An application or publication number finds that patent.
    Words are looked up in the term index (`PatentTerm`: every word of the title, Chinese as
    character bigrams, English stemmed; either language's title) — every word must match —
    and the most recently added patents come first, read straight off the index. What the
    index has no term for (one-character Chinese words, queries of stopwords only) is matched
    inside the title and abstract text.
    """
    limit = max(min(limit, 500), 0)
    offset = max(offset, 0)
    if not (q and q.strip()):
        ids = select(Patent.id)
        if institution_id is not None:
            ids = ids.where(Patent.institution_id == institution_id)
        page = select(Patent).order_by(Patent.filing_date.desc().nulls_last(), Patent.id)
        if institution_id is not None:
            page = page.where(Patent.institution_id == institution_id)
        items = list(session.scalars(page.offset(offset).limit(limit)))
        return PatentPage(items, *_capped_count(session, ids))
    matching = _matching_ids(session, q=q, institution_id=institution_id)
    if matching is None:
        return PatentPage([], 0, False)
    page_ids = list(session.scalars(matching.offset(offset).limit(limit)))
    found = patents_by_id(session, ids=page_ids)
    return PatentPage([found[i] for i in page_ids if i in found], *_capped_count(session, matching))


def count_patents(
    session: Session, *, q: str | None = None, institution_id: int | None = None
) -> int:
    """How many patents `search_patents` finds, up to COUNT_CAP."""
    return search_patents(session, q=q, institution_id=institution_id, limit=0).total


def _capped_count(session: Session, ids: Any) -> tuple[int, bool]:
    counted = select(func.count()).select_from(ids.order_by(None).limit(COUNT_CAP + 1).subquery())
    n = int(session.scalar(counted) or 0)
    return (COUNT_CAP, True) if n > COUNT_CAP else (n, False)


def _matching_ids(session: Session, *, q: str, institution_id: int | None) -> Any | None:
    """A SELECT of matching patent ids in result order, or None when nothing can match."""
    numbered = select(Patent.id).where(_number_filter(q))
    if institution_id is not None:
        numbered = numbered.where(Patent.institution_id == institution_id)
    if session.scalar(numbered.limit(1)) is not None:
        return numbered.order_by(Patent.id.desc())
    query = plain_query(q)
    if not query.terms and not query.substrings:
        return None
    if not query.terms:
        ids = select(Patent.id)
        key = Patent.id
    else:
        lengths = {term: _postings(session, term) for term in query.terms}
        if not all(lengths.values()):
            return None  # a word no patent title has
        rarest, *others = sorted(query.terms, key=lambda t: lengths[t])
        ids = select(PatentTerm.patent_id).where(PatentTerm.term == rarest)
        key = PatentTerm.patent_id
        for term in others:
            other = aliased(PatentTerm)
            ids = ids.where(exists().where(other.patent_id == key, other.term == term))
        if query.substrings or institution_id is not None:
            ids = ids.join(Patent, Patent.id == key)
    for needle in query.substrings:
        ids = ids.where(Patent.search_text.contains(needle, autoescape=True))
    if institution_id is not None:
        ids = ids.where(Patent.institution_id == institution_id)
    return ids.order_by(key.desc())


def _postings(session: Session, term: str) -> int:
    """How many patents have `term`, counted up to COUNT_CAP + 1 (enough to pick the rarest)."""
    capped = select(PatentTerm.patent_id).where(PatentTerm.term == term).limit(COUNT_CAP + 1)
    return int(session.scalar(select(func.count()).select_from(capped.subquery())) or 0)


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
