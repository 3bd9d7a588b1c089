"""Enterprise and demand services: bulk upsert for importers, lookups and lists for the web.

Bulk writes never go through per-row ORM objects: each batch looks up the rows it touches in
two queries (by credit code, then by exact name), then writes with one executemany INSERT and
one executemany UPDATE by primary key. At 100k rows this is the difference between seconds and
minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, func, insert, or_, select, true, update
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.config import DEFAULT_IMPORT_BATCH_SIZE
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.errors import DomainError, NotFound
from shuanglian.importing import ImportReport
from shuanglian.text.normalize import normalize_for_search
from shuanglian.text.query_words import chinese_forms, most_words, query_words

T = TypeVar("T")

# Columns an enterprise record may carry; `name` is required, the rest optional. A key absent
# from a record leaves the stored value alone (the file did not have that column).
ENTERPRISE_FIELDS = (
    "name",
    "credit_code",
    "industry_code",
    "business_scope",
    "enterprise_type",
    "legal_representative",
    "registered_capital",
    "capital_currency",
    "founded_on",
    "size",
    "province",
    "city",
    "address",
)
DEMAND_FIELDS = (
    "title",
    "description",
    "industry_code",
    "budget",
    "deadline",
    "valid_from",
    "modes",
    "region",
    "status",
)
# Provenance: written on insert and on a real update, but a change in it alone (the same data
# re-imported from another file) does not make a row "updated".
SOURCE_FIELDS = ("source_file", "source_row")
DEMAND_STATUSES = ("open", "closed")
# status code → (zh, en), as every page and the CLI show it
DEMAND_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "open": ("征集中", "Open"),
    "closed": ("已关闭", "Closed"),
}
# visibility code → (zh, en)
DEMAND_VISIBILITY: dict[str, tuple[str, str]] = {
    "public": ("公开（显示企业名称）", "Public (company named)"),
    "anonymous": ("匿名（隐藏企业名称）", "Anonymous (company hidden)"),
    "matched": ("仅对匹配的机构可见", "Only institutions matched to us"),
}
MAX_PAGE_SIZE = 500


@dataclass
class Page(Generic[T]):
    """One page of a list plus the total the filters match (for pagers)."""

    items: list[T]
    total: int
    offset: int
    limit: int


@dataclass
class RowRecord:
    """A validated row from an importer: the values and where errors about it should point.

    `key_column` is the header, as written in the file, of the column that identifies the row
    (credit code or name); a conflicting duplicate is reported against it.
    """

    row: int
    values: dict[str, Any]
    key_column: str = ""


class _FirstSeen:
    """Rows already taken in this import, by identity: the first one wins.

    The later of two rows for one enterprise is counted unchanged when it says the same thing
    and rejected when it contradicts the first, so importing the same file twice is a no-op
    (with "later wins" the two rows would overwrite each other on every run). Only a content
    fingerprint is kept, so memory stays small at a million rows.
    """

    def __init__(self) -> None:
        self._seen: dict[object, tuple[int, int]] = {}

    def check(self, key: object, record: RowRecord, report: ImportReport) -> bool:
        """True if the record is new in this import; else counts or rejects it and says False."""
        fingerprint = hash(
            tuple((k, v) for k, v in record.values.items() if k not in SOURCE_FIELDS)
        )
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = (record.row, fingerprint)
            return True
        first_row, first_fingerprint = first
        if fingerprint == first_fingerprint:
            report.unchanged += 1
        else:
            report.reject(
                record.row,
                record.key_column,
                f"与第 {first_row} 行重复但内容不同，已保留第 {first_row} 行"
                f"（conflicts with row {first_row}, which was kept）",
            )
        return False


# --------------------------------------------------------------------------- enterprises


def enterprise_search_text(name: str | None, business_scope: str | None) -> str:
    """The text search and matching read: normalised name + business scope."""
    return normalize_for_search(" ".join(part for part in (name, business_scope) if part))


def demand_search_text(title: str | None, description: str | None) -> str:
    """The text search and matching read: normalised title + description."""
    return normalize_for_search(" ".join(part for part in (title, description) if part))


def upsert_enterprises(
    session: Session,
    *,
    records: Iterable[RowRecord],
    dry_run: bool = False,
    report: ImportReport | None = None,
    batch_size: int | None = None,
) -> ImportReport:
    """Insert new enterprises, update changed ones, count unchanged; all or nothing."""
    report = report or ImportReport()
    report.dry_run = dry_run
    size = batch_size or DEFAULT_IMPORT_BATCH_SIZE
    seen = _FirstSeen()
    fresh = (
        r
        for r in records
        if seen.check(r.values.get("credit_code") or ("name", r.values["name"]), r, report)
    )
    _write_in_batches(session, fresh, size, _upsert_enterprise_batch, report, dry_run=dry_run)
    return report


def _write_in_batches(
    session: Session,
    records: Iterable[RowRecord],
    size: int,
    write_batch: Callable[[Session, Sequence[RowRecord], ImportReport], None],
    report: ImportReport,
    *,
    dry_run: bool,
) -> None:
    """Write every batch inside one savepoint: any error (or a dry run) rolls all of them back,
    while the caller's outer transaction stays usable."""
    savepoint = session.begin_nested()
    try:
        for batch in _batched(records, size):
            write_batch(session, batch, report)
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()


def _upsert_enterprise_batch(
    session: Session, batch: Sequence[RowRecord], report: ImportReport
) -> None:
    codes = {r.values["credit_code"] for r in batch if r.values.get("credit_code")}
    names = {r.values["name"] for r in batch}
    columns = [getattr(Enterprise, f) for f in ("id", *ENTERPRISE_FIELDS)]
    found: list[dict[str, Any]] = []
    if codes:
        stmt = select(*columns).where(Enterprise.credit_code.in_(codes))
        found.extend(dict(row._mapping) for row in session.execute(stmt))
    stmt = select(*columns).where(Enterprise.name.in_(names))
    found.extend(dict(row._mapping) for row in session.execute(stmt))

    by_code: dict[str, dict[str, Any]] = {}
    by_name: dict[str, dict[str, Any]] = {}
    for stored in found:
        if stored["credit_code"]:
            by_code.setdefault(stored["credit_code"], stored)
        by_name.setdefault(stored["name"], stored)

    inserts: list[dict[str, Any]] = []
    updates: dict[int, dict[str, Any]] = {}
    for record in batch:
        values = record.values
        state = _match_enterprise(values, by_code, by_name)
        if state is None:
            row = {
                **values,
                "search_text": enterprise_search_text(values["name"], values.get("business_scope")),
            }
            inserts.append(row)
            # Later duplicates in this batch update the pending insert in place.
            _index_state(row, by_code, by_name)
            report.inserted += 1
            continue
        if values.get("credit_code") is None and state.get("credit_code"):
            # A row matched by name that carries no code must not erase the code on file.
            values = {k: v for k, v in values.items() if k != "credit_code"}
        changes = {k: v for k, v in values.items() if k not in SOURCE_FIELDS and state.get(k) != v}
        if not changes:
            report.unchanged += 1
            continue
        state.update(values)
        state["search_text"] = enterprise_search_text(state["name"], state.get("business_scope"))
        # A pending insert (no id yet) was just updated in place; a stored row gets an UPDATE.
        if state.get("id") is not None:
            pending = updates.setdefault(state["id"], {"id": state["id"]})
            pending.update(values)
            pending["search_text"] = state["search_text"]
        _index_state(state, by_code, by_name)
        report.updated += 1

    if inserts:
        session.execute(_bulk_insert(Enterprise), inserts)
    if updates:
        session.execute(update(Enterprise), list(updates.values()))


def _match_enterprise(
    values: dict[str, Any], by_code: dict[str, dict[str, Any]], by_name: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    """The stored (or pending) row a record denotes: same credit code, else same exact name.

    A record with a credit code falls back to the name only for a row that has no code yet;
    two registrations with the same name but different codes are different legal entities.
    """
    code = values.get("credit_code")
    if code:
        state = by_code.get(code)
        if state is not None:
            return state
        state = by_name.get(values["name"])
        return state if state is not None and not state.get("credit_code") else None
    return by_name.get(values["name"])


def _index_state(
    state: dict[str, Any], by_code: dict[str, dict[str, Any]], by_name: dict[str, dict[str, Any]]
) -> None:
    if state.get("credit_code"):
        by_code[state["credit_code"]] = state
    by_name.setdefault(state["name"], state)


def get_enterprise(session: Session, *, enterprise_id: int) -> Enterprise:
    """The enterprise with this id; NotFound otherwise."""
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(f"企业不存在：{enterprise_id}（enterprise not found）")
    return enterprise


def find_enterprise(session: Session, *, ref: str) -> Enterprise | None:
    """The enterprise a person means by a credit code or an exact name (code first)."""
    from shuanglian.enterprises.validators import validate_credit_code

    ref = (ref or "").strip()
    if not ref:
        return None
    try:
        code = validate_credit_code(ref)
    except ValueError:
        code = None
    if code:
        found = session.scalars(select(Enterprise).where(Enterprise.credit_code == code)).first()
        if found is not None:
            return found
    stmt = select(Enterprise).where(Enterprise.name == ref).order_by(Enterprise.id)
    return session.scalars(stmt).first()


def recent_enterprises(session: Session, *, limit: int = 50) -> list[Enterprise]:
    """The most recently added enterprises, newest first (the admin's organisation list)."""
    stmt = select(Enterprise).order_by(Enterprise.id.desc()).limit(max(min(limit, 500), 0))
    return list(session.scalars(stmt))


def industry_code_filter(column: Any, code: str) -> Any:
    """Rows coded at or below `code`, whichever way it is written (38, C38) or stored.

    Codes are stored bare (38, 3841) by the validators; rows written before that, or by
    hand, may carry the 门类 letter (C38), so both spellings are matched. A 门类 letter finds
    every 大类 in it.
    """
    from sqlalchemy import or_

    from shuanglian.reference.gbt4754 import (
        children,
        lettered_code,
        parse_industry_input,
    )

    try:
        bare = parse_industry_input(code)
    except ValueError:
        return column.startswith(code.strip(), autoescape=True)
    if bare.isalpha():
        prefixes = [bare] + [child.code for child in children(bare)]
    else:
        prefixes = [bare, lettered_code(bare)]
    return or_(*(column.startswith(p, autoescape=True) for p in prefixes))


def enterprises_among(
    session: Session,
    *,
    ids: list[int],
    province: str | None = None,
    industry_code: str | None = None,
) -> dict[int, Enterprise]:
    """The enterprises of `ids` that pass `list_enterprises`' filters, by id (a ranked list
    from the engine, filtered the way the register filters)."""
    if not ids:
        return {}
    stmt = select(Enterprise).where(Enterprise.id.in_(ids))
    if province:
        stmt = stmt.where(Enterprise.province == province.strip())
    if industry_code:
        stmt = stmt.where(industry_code_filter(Enterprise.industry_code, industry_code))
    return {e.id: e for e in session.scalars(stmt)}


def list_enterprises(
    session: Session,
    *,
    q: str | None = None,
    province: str | None = None,
    industry_code: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[Enterprise]:
    """Enterprises whose name/business scope contain every word of `q`, filtered, by name."""
    offset, limit = _page_bounds(offset, limit)
    stmt = select(Enterprise)
    for term in _query_terms(q):
        stmt = stmt.where(Enterprise.search_text.contains(term, autoescape=True))
    if province:
        stmt = stmt.where(Enterprise.province == province.strip())
    if industry_code:
        # A 大类 filter (33) also finds enterprises coded at 中类/小类 level (331, 3311).
        stmt = stmt.where(industry_code_filter(Enterprise.industry_code, industry_code))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(
        stmt.order_by(Enterprise.name, Enterprise.id).offset(offset).limit(limit)
    ).all()
    return Page(items=list(items), total=total, offset=offset, limit=limit)


# --------------------------------------------------------------------------- demands


def upsert_demands(
    session: Session,
    *,
    records: Iterable[RowRecord],
    dry_run: bool = False,
    report: ImportReport | None = None,
    batch_size: int | None = None,
) -> ImportReport:
    """Insert or update demands keyed by (enterprise, exact title); all or nothing."""
    report = report or ImportReport()
    report.dry_run = dry_run
    size = batch_size or DEFAULT_IMPORT_BATCH_SIZE
    seen = _FirstSeen()
    fresh = (
        r for r in records if seen.check((r.values["enterprise_id"], r.values["title"]), r, report)
    )
    _write_in_batches(session, fresh, size, _upsert_demand_batch, report, dry_run=dry_run)
    return report


def _upsert_demand_batch(
    session: Session, batch: Sequence[RowRecord], report: ImportReport
) -> None:
    enterprise_ids = {r.values["enterprise_id"] for r in batch}
    columns = [getattr(Demand, f) for f in ("id", "enterprise_id", *DEMAND_FIELDS)]
    stmt = select(*columns).where(Demand.enterprise_id.in_(enterprise_ids))
    existing: dict[tuple[int, str], dict[str, Any]] = {}
    for found in session.execute(stmt.order_by(Demand.id)):
        stored = dict(found._mapping)
        existing.setdefault((stored["enterprise_id"], stored["title"]), stored)

    inserts: list[dict[str, Any]] = []
    updates: dict[int, dict[str, Any]] = {}
    for record in batch:
        values = record.values
        key = (values["enterprise_id"], values["title"])
        state = existing.get(key)
        if state is None:
            row = {
                **values,
                "search_text": demand_search_text(values["title"], values.get("description")),
            }
            inserts.append(row)
            existing[key] = row
            report.inserted += 1
            continue
        changes = {k: v for k, v in values.items() if k not in SOURCE_FIELDS and state.get(k) != v}
        if not changes:
            report.unchanged += 1
            continue
        state.update(values)
        state["search_text"] = demand_search_text(state["title"], state.get("description"))
        if state.get("id") is not None:
            pending = updates.setdefault(state["id"], {"id": state["id"]})
            pending.update(values)
            pending["search_text"] = state["search_text"]
        report.updated += 1

    if inserts:
        session.execute(_bulk_insert(Demand), inserts)
    if updates:
        session.execute(update(Demand), list(updates.values()))


def get_demand(
    session: Session, *, demand_id: int, viewer: User | None = None, public: bool = False
) -> Demand:
    """The demand with this id; NotFound otherwise, and also (when `public`, for the pages and
    the API) when its visibility keeps it from `viewer`."""
    demand = session.get(Demand, demand_id)
    if demand is None or (
        public
        and session.scalar(
            select(Demand.id).where(Demand.id == demand_id, demand_visible_to(viewer))
        )
        is None
    ):
        raise NotFound(f"需求不存在：{demand_id}（demand not found）")
    return demand


def _matched_enterprises(viewer: User) -> Any:
    """Enterprises an institution's patents were pushed to: the 'matched' audience."""
    from shuanglian.inventory.models import Push
    from shuanglian.patents.models import Patent

    return (
        select(Push.enterprise_id)
        .join(Patent, Patent.id == Push.patent_id)
        .where(Patent.institution_id == viewer.institution_id)
    )


def demand_visible_to(viewer: User | None) -> Any:
    """SQL condition: the demands `viewer` (None: the public) may see.

    Public and anonymous demands are seen by all (an anonymous one without its company);
    a 'matched' one by its own enterprise, admins, and staff of institutions whose patents
    were pushed to the enterprise.
    """
    shown: Any = Demand.visibility.in_(("public", "anonymous"))
    if viewer is None:
        return shown
    if viewer.role == "admin":
        return true()
    if viewer.enterprise_id is not None:
        shown = or_(shown, Demand.enterprise_id == viewer.enterprise_id)
    if viewer.institution_id is not None:
        shown = or_(
            shown,
            and_(
                Demand.visibility == "matched",
                Demand.enterprise_id.in_(_matched_enterprises(viewer)),
            ),
        )
    return shown


def demand_company_shown(demand: Demand, viewer: User | None) -> bool:
    """Whether `viewer` may see which company posted `demand` (not for an anonymous one,
    except to that company and admins)."""
    if demand.visibility != "anonymous":
        return True
    return viewer is not None and (
        viewer.role == "admin" or viewer.enterprise_id == demand.enterprise_id
    )


def list_demands(
    session: Session,
    *,
    q: str | None = None,
    enterprise_id: int | None = None,
    industry_code: str | None = None,
    region: str | None = None,
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
    viewer: User | None = None,
    public: bool = False,
) -> Page[Demand]:
    """Demands whose title/description contain every word of `q`, newest first; when `public`
    (pages and API) only those `viewer` may see."""
    offset, limit = _page_bounds(offset, limit)
    stmt = select(Demand)
    if public:
        stmt = stmt.where(demand_visible_to(viewer))
    for term in _query_terms(q):
        stmt = stmt.where(Demand.search_text.contains(term, autoescape=True))
    if enterprise_id is not None:
        stmt = stmt.where(Demand.enterprise_id == enterprise_id)
    if industry_code:
        stmt = stmt.where(industry_code_filter(Demand.industry_code, industry_code))
    if region:
        stmt = stmt.where(Demand.region.contains(region.strip(), autoescape=True))
    if status:
        if status not in DEMAND_STATUSES:
            raise DomainError(
                f"未知的需求状态：{status}（unknown status; use {', '.join(DEMAND_STATUSES)}）",
                field="status",
            )
        stmt = stmt.where(Demand.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(stmt.order_by(Demand.id.desc()).offset(offset).limit(limit)).all()
    return Page(items=list(items), total=total, offset=offset, limit=limit)


# A demand search nothing matches in full: each word's newest PARTIAL_PER_WORD matches are
# read, and the PARTIAL_SHOWN demands holding the most words are shown.
PARTIAL_PER_WORD = 200
PARTIAL_SHOWN = 20


def partial_demands(session: Session, *, q: str | None, viewer: User | None) -> list[Demand]:
    """The demands `viewer` may see that hold the most words of `q` when none holds them all
    (锂电池正极材料; an English search, `battery`, over Chinese demands), a rarer word counting
    more (log(1 + demands / its matches)), ties newest first. An English word is looked for
    as its dictionary translations. [] for one Chinese word: its answer stands."""
    words = query_words(q)
    forms = [chinese_forms(w) for w in words]
    if not words or (len(words) == 1 and len(forms[0]) == 1):
        return []
    visible = demand_visible_to(viewer)
    everything = session.scalar(select(func.count(Demand.id)).where(visible)) or 0
    per_word = []
    for word_forms in forms:
        holds = or_(
            *(
                Demand.search_text.contains(normalize_for_search(f), autoescape=True)
                for f in word_forms
            )
        )
        ids = session.scalars(
            select(Demand.id)
            .where(visible, holds)
            .order_by(Demand.id.desc())
            .limit(PARTIAL_PER_WORD)
        ).all()
        matches = len(ids)
        if matches == PARTIAL_PER_WORD:  # more than were read: count them
            matches = session.scalar(select(func.count(Demand.id)).where(visible, holds)) or matches
        per_word.append((ids, matches))
    best = most_words(per_word, everything, PARTIAL_SHOWN)
    found = {d.id: d for d in session.scalars(select(Demand).where(Demand.id.in_(best)))}
    return [found[i] for i in best if i in found]


# --------------------------------------------------------------------------- helpers


def _bulk_insert(model: type[Enterprise] | type[Demand]) -> Any:
    """An ORM bulk INSERT sent as one executemany per batch.

    render_nulls keeps every row's parameter set identical; without it each pattern of empty
    cells became its own INSERT group (3x slower at 20k rows). No RETURNING: on PostgreSQL that
    switches SQLAlchemy to multi-row VALUES rendering, measured 2-3x slower than psycopg's
    pipelined executemany for this table.
    """
    return insert(model).execution_options(render_nulls=True)


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, max(1, size))):
        yield batch


def _page_bounds(offset: int, limit: int) -> tuple[int, int]:
    return max(0, int(offset)), min(max(1, int(limit)), MAX_PAGE_SIZE)


def _query_terms(q: str | None) -> list[str]:
    return [t for t in normalize_for_search(q or "").split(" ") if t]


__all__ = [
    "DEMAND_FIELDS",
    "ENTERPRISE_FIELDS",
    "Page",
    "RowRecord",
    "demand_search_text",
    "enterprise_search_text",
    "find_enterprise",
    "get_demand",
    "get_enterprise",
    "list_demands",
    "list_enterprises",
    "upsert_demands",
    "upsert_enterprises",
]
