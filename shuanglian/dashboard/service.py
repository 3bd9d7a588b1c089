"""Dashboards: the conversion funnel, breakdowns, trends and top lists, all from SQL aggregates.

Every number is a GROUP BY or a COUNT over the database (through `shuanglian.figures`, so the
definitions are the headline figures' own); Python only renames the few hundred grouped rows
(institution ids → names, regions → provinces, IPC subclasses → WIPO fields, industry codes →
GB/T 4754 门类). Nothing here loads patents, pushes or enterprises row by row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, Numeric, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select
from sqlalchemy.sql.util import find_tables

from shuanglian.challenges.models import Challenge, Verification
from shuanglian.dashboard.appends import by_id, mark, new_rows
from shuanglian.dashboard.summary import Pieces, scope_key
from shuanglian.dashboard.summary import rows as kept_rows
from shuanglian.dashboard.tables import Column, Table
from shuanglian.deals.models import Contract, Deal, DealActivity, DealItem
from shuanglian.deals.pipeline import STAGES
from shuanglian.deals.schemas import CONTRACT_KINDS
from shuanglian.enterprises.models import Enterprise
from shuanglian.figures import (
    BY_KEY,
    Figure,
    Scope,
    headline_figures,
    in_range,
    scoped_query,
    today_in_china,
)
from shuanglian.inventory.models import (
    COOPERATION_INTENTS,
    INTENT_LABELS,
    College,
    Feedback,
    InventoryBatch,
    InventoryItem,
    PoolEntry,
    Push,
)
from shuanglian.patents.models import PATENT_TYPES, Institution, Patent
from shuanglian.reference import gbt4754
from shuanglian.reference.ipc import (
    technology_field,
    technology_field_names,
    technology_field_names_zh,
)
from shuanglian.reference.regions import PROVINCES, province_of
from shuanglian.supermarket.models import Inquiry, Listing, ListingDailyStat

# The headline cards of the bureau and institution dashboards, in reading order.
CARD_KEYS = (
    "patents", "inventoried", "assessed_good", "pooled", "pooled_invention",
    "graded_a", "graded_b", "graded_c", "graded_d", "pushed_patents", "enterprises_reached",
    "feedback", "cooperation_intents", "listings", "views", "scans", "inquiries",
    "challenges_posted", "challenges_solved", "challenges_verified", "deals", "deals_open",
    "converted", "contracts", "amount", "contracts_transfer", "contracts_licence",
    "open_licences_taken", "contracts_equity", "amount_equity", "open_licences_declared",
    "income_received", "income_to_inventors", "pilot_bookings",
)  # fmt: skip
INSTITUTION_COLUMNS = (
    "patents", "inventoried", "pooled", "pushed_patents", "feedback", "cooperation_intents",
    "converted", "contracts", "amount",
)  # fmt: skip
TREND_KEYS = ("pushes", "feedback", "cooperation_intents", "deals", "contracts", "amount")
DEAL_STAGE_NAMES = STAGES  # the deal machine's own state names
CONTRACT_KIND_NAMES = {
    "transfer": ("转让", "Transfer"),
    "licence": ("许可", "Licence"),
    "open_licence": ("开放许可", "Open licence"),
    "equity": ("作价入股", "Equity"),
}
TOP_N = 10


def _col(key: str) -> Column:
    f = BY_KEY[key]
    return Column(key, f.label, f.label_en, f.money)


# --------------------------------------------------------------------------- the funnel

# Each funnel stage counts distinct patents, up to the period's end (a funnel of the programme
# so far, not of one month's events: a patent pooled in May and pushed in June stays one path).
FUNNEL: tuple[Figure, ...] = (
    BY_KEY["inventoried"],
    Figure(
        "f_pooled", "入库", "Pooled",
        "进入过可转化资源库的专利数（含后来出库的）。",
        "Patents that entered the convertible pool (including those that left later).",
        lambda _: (select(func.count(func.distinct(PoolEntry.patent_id))),
                   PoolEntry.institution_id),
        when=PoolEntry.entered_at, stock=True,
    ),
    Figure(
        "f_pushed", "推送", "Pushed", BY_KEY["pushed_patents"].definition,
        BY_KEY["pushed_patents"].definition_en, BY_KEY["pushed_patents"].query,
        when=Push.created_at, stock=True, bare=BY_KEY["pushed_patents"].bare,
    ),
    Figure(
        "f_feedback", "反馈", "Feedback",
        "收到至少一条企业评价反馈的专利数。",
        "Patents with at least one enterprise evaluation.",
        lambda _: (
            select(func.count(func.distinct(Feedback.patent_id)))
            .select_from(Feedback).join(Patent, Patent.id == Feedback.patent_id),
            Patent.institution_id,
        ),
        when=Feedback.created_at, stock=True,
        bare=lambda: select(func.count(func.distinct(Feedback.patent_id))),
    ),
    Figure(
        "f_intent", "合作意向", "Intent", BY_KEY["cooperation_intents"].definition,
        BY_KEY["cooperation_intents"].definition_en, BY_KEY["cooperation_intents"].query,
        when=Feedback.created_at, stock=True, bare=BY_KEY["cooperation_intents"].bare,
    ),
    Figure(
        "f_deal", "洽谈", "Deal",
        "进入洽谈项目的专利数。",
        "Patents in a deal.",
        lambda _: (
            select(func.count(func.distinct(DealItem.patent_id)))
            .select_from(DealItem).join(Deal, Deal.id == DealItem.deal_id),
            Deal.institution_id,
        ),
        when=Deal.opened_on, stock=True,
    ),
    Figure(
        "f_contract", "签约", "Contract", BY_KEY["converted"].definition,
        BY_KEY["converted"].definition_en, BY_KEY["converted"].query,
        when=Contract.signed_on, stock=True,
    ),
    Figure(
        "f_production", "量产", "Production",
        "所在洽谈项目已进入量产阶段的专利数。",
        "Patents whose deal reached production.",
        lambda _: (
            select(func.count(func.distinct(DealItem.patent_id)))
            .select_from(DealItem).join(Deal, Deal.id == DealItem.deal_id)
            .where(Deal.stage == "production"),
            Deal.institution_id,
        ),
        when=Deal.stage_changed_on, stock=True,
    ),
)  # fmt: skip


def _days(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    """Days from `earlier` to `later` (dates or timestamps) as a number, in SQL.

    Both backends count in UTC: PostgreSQL's epoch of a timestamptz is absolute and a date's
    is its midnight in UTC; SQLite stores timestamps as UTC text and dates as their day."""
    if session.get_bind().dialect.name == "postgresql":
        return (func.extract("epoch", later) - func.extract("epoch", earlier)) / 86400
    return func.julianday(later) - func.julianday(earlier)


def _bucket(session: Session, days: Any) -> Any:
    """Days to a tenth (the funnel shows medians to a tenth of a day)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.round(cast(days, Numeric), 1)
    return func.round(days, 1)


def _median(
    session: Session, diffs: Select[Any], *, delta: Callable[..., Any] | None = None
) -> float | None:
    """The median of a one-column SELECT of day counts, each counted to a tenth of a day.

    The database counts the values per tenth (a few hundred rows however many patents): the
    counts are kept and, when rows are only appended, the new rows' counts added to them
    (`dashboard.appends`; `delta` for a SELECT that reads the appended table in a subquery),
    so the median follows a push without reading every push again."""
    days = diffs.selected_columns[0]
    value = _bucket(session, days)
    hist = diffs.with_only_columns(value, func.count()).where(days.is_not(None)).group_by(value)
    counts = sorted(
        (float(v), int(n)) for v, n in kept_rows(session, hist, delta=delta) if v is not None
    )
    total = sum(n for _, n in counts)
    if not total:
        return None

    def nth(k: int) -> float:  # the k-th value (from 0) in order
        seen = 0
        for v, n in counts:
            seen += n
            if k < seen:
                return v
        raise AssertionError(k)

    return round((nth((total - 1) // 2) + nth(total // 2)) / 2, 1)


def _first_push_delta(session: Session, scope: Scope) -> Callable[..., Any]:
    """The days from pool to first push of the patents whose first push was appended since
    (`_median`'s delta): None when a new push came before an old one of its patent (that
    patent's first push moved; the median is recomputed)."""
    inst_filter = _institution_filter(scope)
    end = scope.period.end if scope.period else None

    def delta(old: dict[str, int], new: dict[str, int]) -> Any:
        fresh = new_rows(Push.__table__, old, new)
        if mark(new, "inventory_pushes") <= mark(old, "inventory_pushes"):
            return []
        earlier = aliased(Push)
        moved = exists(
            select(earlier.id).where(
                earlier.patent_id == Push.patent_id,
                earlier.id <= mark(old, "inventory_pushes"),
                earlier.created_at > Push.created_at,
            )
        )
        moved_rows = by_id(select(Push.id).where(fresh, moved), Push, old, new)
        if session.scalar(select(exists(moved_rows))):
            return None
        before = exists(
            select(earlier.id).where(
                earlier.patent_id == Push.patent_id,
                earlier.id <= mark(new, "inventory_pushes"),
                or_(
                    earlier.created_at < Push.created_at,
                    and_(earlier.created_at == Push.created_at, earlier.id < Push.id),
                ),
            )
        )
        days = _days(session, Push.created_at, PoolEntry.entered_at)
        value = _bucket(session, days)
        stmt = (
            select(value, func.count())
            .select_from(PoolEntry)
            .join(Push, Push.patent_id == PoolEntry.patent_id)
            .where(fresh, ~before, *in_range(PoolEntry.entered_at, None, end))
        )
        if inst_filter is not None:
            stmt = stmt.where(inst_filter(PoolEntry.institution_id))
        return by_id(stmt.group_by(value), Push, old, new)

    return delta


def _stage_durations(session: Session, scope: Scope) -> list[Select[Any] | None]:
    """For each funnel step (stage i → stage i+1), a SELECT of the days each patent took.

    From the rows' own timestamps: inventory item created → pool entered → first push →
    feedback → (intent is stated with the feedback) → deal opened → contract signed →
    production (the deal timeline's step into 量产)."""
    first_push = (
        select(Push.patent_id, func.min(Push.created_at).label("at"))
        .group_by(Push.patent_id)
        .subquery()
    )
    production = (
        select(DealActivity.deal_id, func.min(DealActivity.on).label("on"))
        .where(DealActivity.to_stage == "production")
        .group_by(DealActivity.deal_id)
        .subquery()
    )
    inst_filter = _institution_filter(scope)
    end = scope.period.end if scope.period else None

    def limited(stmt: Select[Any], inst: Any, when: Any) -> Select[Any]:
        if inst_filter is not None:
            stmt = stmt.where(inst_filter(inst))
        return stmt.where(*in_range(when, None, end))

    return [
        limited(
            select(_days(session, PoolEntry.entered_at, InventoryItem.created_at)).join(
                InventoryItem, InventoryItem.patent_id == PoolEntry.patent_id
            ),
            PoolEntry.institution_id,
            PoolEntry.entered_at,
        ),
        limited(
            select(_days(session, first_push.c.at, PoolEntry.entered_at)).join(
                first_push, first_push.c.patent_id == PoolEntry.patent_id
            ),
            PoolEntry.institution_id,
            PoolEntry.entered_at,
        ),
        limited(
            select(_days(session, Feedback.created_at, Push.created_at))
            .select_from(Feedback)
            .join(Push, Push.id == Feedback.push_id)
            .join(Patent, Patent.id == Feedback.patent_id),
            Patent.institution_id,
            Feedback.created_at,
        ),
        None,  # the intent is part of the feedback form: no time passes between them
        limited(
            select(_days(session, Deal.opened_on, Feedback.created_at))
            .select_from(Deal)
            .join(Feedback, Feedback.push_id == Deal.push_id)
            .where(Feedback.intent.in_(COOPERATION_INTENTS)),
            Deal.institution_id,
            Deal.opened_on,
        ),
        limited(
            select(_days(session, Contract.signed_on, Deal.opened_on))
            .select_from(Contract)
            .join(Deal, Deal.id == Contract.deal_id),
            Contract.institution_id,
            Contract.signed_on,
        ),
        limited(
            select(_days(session, production.c.on, Contract.signed_on))
            .select_from(Contract)
            .join(production, production.c.deal_id == Contract.deal_id),
            Contract.institution_id,
            Contract.signed_on,
        ),
    ]


def _institution_filter(scope: Scope) -> Any:
    """A function narrowing an institution column to the scope's institution or province."""
    if scope.institution_id is not None:
        return lambda col: col == scope.institution_id
    if scope.region is not None:
        ids = select(Institution.id).where(Institution.region.like(scope.region.short + "%"))
        return lambda col: col.in_(ids)
    return None


def funnel(session: Session, scope: Scope, *, today: date | None = None) -> Table:
    """inventory → pool → pushed → feedback → intent → deal → contract → production."""
    today = today or today_in_china()
    counts = []
    for figure in FUNNEL:
        found = scoped_query(figure, scope, today, bare=True)
        counts.append(int(kept_rows(session, found[0])[0][0] or 0) if found else 0)
    medians = [
        _median(session, d, delta=_first_push_delta(session, scope) if i == 1 else None)
        if d is not None
        else None
        for i, d in enumerate(_stage_durations(session, scope))
    ]
    rows: list[list[Any]] = []
    for i, figure in enumerate(FUNNEL):
        previous = counts[i - 1] if i else None
        rate = round(100 * counts[i] / previous, 1) if previous else None
        rows.append([
            figure.label if figure.key != "inventoried" else "盘点",
            counts[i],
            rate,
            medians[i - 1] if i else None,
        ])  # fmt: skip
    return Table(
        "funnel", "转化漏斗", "Conversion funnel",
        [
            Column("stage", "环节", "Stage"),
            Column("patents", "专利数", "Patents"),
            Column("rate", "较上一环节（%）", "Of previous stage (%)"),
            Column("days", "上一环节至此中位天数", "Median days from previous stage"),
        ],
        rows, chart="funnel", series=["patents"],
        note="截至统计期末累计的专利数；中位天数由各记录的时间戳计算，每条记录的天数精确到 0.1 天"
        "（合作意向与反馈同时填写）。",
        note_en="Patents up to the period's end; median days from the records' timestamps, "
        "each record's days to a tenth (the intent is given with the feedback).",
        rows_en=[[FUNNEL[i].label_en if i else "Inventory", *r[1:]] for i, r in enumerate(rows)],
    )  # fmt: skip


# --------------------------------------------------------------------------- breakdowns


def _grouped(
    session: Session,
    key: str,
    scope: Scope,
    by: Any,
    *,
    join: tuple[Any, Any] | None = None,
    today: date,
) -> dict[Any, int | Decimal]:
    """One figure grouped by a column (`join` brings the column's table in)."""
    figure = BY_KEY[key]
    # Grouped by something other than the patent's own columns, a platform-wide count needs no
    # join to patents (it only found the institution).
    expr = by.__clause_element__() if hasattr(by, "__clause_element__") else by
    by_patent = any(t.name == "patents" for t in find_tables(expr, check_columns=True))
    found = scoped_query(figure, scope, today, bare=not by_patent)
    if found is None:
        return {}
    stmt = found[0]
    froms = {t.name for t in find_tables(stmt) if hasattr(t, "name")}
    if by_patent and join is None and "patents" not in froms and "inventory_pool" in froms:
        # The pool figures count entries without their patents; grouped by a patent column
        # they need them.
        stmt = stmt.join(Patent, Patent.id == PoolEntry.patent_id)
    stmt = stmt.add_columns(by)
    if join is not None:
        stmt = stmt.join(*join)
    stmt = stmt.group_by(by)
    out: dict[Any, int | Decimal] = {}
    for value, group in kept_rows(session, stmt):
        raw = Decimal(value or 0).quantize(Decimal("0.01")) if figure.money else int(value or 0)
        out[group] = raw
    return out


def _per_entity(
    session: Session,
    key: str,
    scope: Scope,
    entity: Any,
    target: Any,
    by: tuple[Any, ...],
    *,
    today: date,
) -> dict[tuple[Any, ...], int]:
    """A push count grouped by columns of the patent or enterprise each push names (`entity`,
    the push's column; `target`, the row's id), in two steps: the pushes reduced to one row per
    entity first (distinct, or with their count), then one lookup per entity rather than per
    push. Distinct counts stay exact: an entity is in one group."""
    figure = BY_KEY[key]
    found = scoped_query(figure, scope, today, bare=True)
    if found is None:
        return {}
    distinct = key in ("pushed_patents", "enterprises_reached")
    n: Any
    if distinct:
        per = found[0].with_only_columns(entity.label("e")).distinct().subquery()
        n = func.count()
    else:
        per = (
            found[0]
            .with_only_columns(entity.label("e"), func.count().label("n"))
            .group_by(entity)
            .subquery()
        )
        n = func.sum(per.c.n)
    stmt = select(n, *by).select_from(per).join(target.table, target == per.c.e).group_by(*by)
    # The same counts in one level (a lookup per push rather than per entity: slower to
    # compute afresh, but what `dashboard.appends` adds new pushes to).
    flat = found[0].with_only_columns(
        func.count(func.distinct(entity)) if distinct else func.count(), *by
    )
    if target.table not in find_tables(found[0]):
        flat = flat.join(target.table, target == entity)
    flat = flat.group_by(*by)
    return {tuple(r[1:]): int(r[0] or 0) for r in kept_rows(session, stmt, fold_as=flat)}


def _pushed_patents_by(session: Session, scope: Scope, today: date) -> dict[tuple[Any, ...], int]:
    """Patents pushed per (institution, patent type): one statement for the institution and
    the patent-type tables (a patent is in one group, so the counts add up)."""
    return _per_entity(
        session, "pushed_patents", scope, Push.patent_id, Patent.id,
        (Patent.institution_id, Patent.patent_type), today=today,
    )  # fmt: skip


def _by_type(per: dict[tuple[Any, ...], int]) -> dict[Any, int]:
    out: dict[Any, int] = defaultdict(int)
    for (_inst, ptype), n in per.items():
        out[ptype] += n
    return dict(out)


def by_institution(session: Session, scope: Scope, *, today: date) -> Table:
    """The institutions' figures side by side, most contracts (then pool) first."""
    from shuanglian.figures import figures_by_institution

    data = figures_by_institution(
        session,
        keys=[k for k in INSTITUTION_COLUMNS if k != "pushed_patents"],
        scope=scope,
        today=today,
        execute=partial(kept_rows, session),
    )
    pushed: dict[int, int] = defaultdict(int)
    for (i, _type), n in _pushed_patents_by(session, scope, today).items():
        if i is not None:
            pushed[int(i)] += n
    data["pushed_patents"] = dict(pushed)
    ids = {i for per in data.values() for i in per}
    names = (
        dict(
            session.execute(
                select(Institution.id, Institution.name).where(Institution.id.in_(ids))
            ).all()
        )
        if ids
        else {}
    )
    rows = [[names.get(i, str(i)), *[data[k].get(i, 0) for k in INSTITUTION_COLUMNS]] for i in ids]
    rows.sort(key=lambda r: (-float(r[8] or 0), -float(r[3] or 0), str(r[0])))
    return Table(
        "by_institution", "各机构", "By institution",
        [Column("institution", "机构", "Institution"), *[_col(k) for k in INSTITUTION_COLUMNS]],
        rows, series=["pooled", "contracts"],
    )  # fmt: skip


def _institution_provinces(session: Session) -> dict[int, str]:
    """Institution id → province short name (from the free-text region), for the few
    thousand institutions; those without a recognisable region are left out."""
    out = {}
    for iid, region in session.execute(select(Institution.id, Institution.region)):
        p = province_of(region)
        if p is not None:
            out[int(iid)] = p.short
    return out


def by_province(session: Session, scope: Scope, *, today: date) -> Table:
    """Per province: the institutions' pool and contracts, the enterprises reached there."""
    from shuanglian.figures import figures_by_institution

    keys = ("patents", "pooled", "contracts", "amount")
    data = figures_by_institution(
        session, keys=keys, scope=scope, today=today, execute=partial(kept_rows, session)
    )
    where = _institution_provinces(session)
    totals: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for k in keys:
        for iid, v in data[k].items():
            if iid in where:
                totals[where[iid]][k] += v
    for (text, _city), v in _reached_by_place(session, scope, today).items():
        p = province_of(text)
        if p is not None:
            totals[p.short]["enterprises_reached"] += v
    order = {p.short: i for i, p in enumerate(PROVINCES)}
    names = sorted(totals, key=lambda n: (-totals[n].get("pooled", 0), order[n]))
    figures = [[totals[n].get(k, 0) for k in (*keys, "enterprises_reached")] for n in names]
    english = {p.short: p.name_en for p in PROVINCES}
    return Table(
        "by_province", "各省份", "By province",
        [Column("province", "省份", "Province"), *[_col(k) for k in keys],
         _col("enterprises_reached")],
        [[n, *f] for n, f in zip(names, figures, strict=True)], chart="map", series=["pooled"],
        rows_en=[[english[n], *f] for n, f in zip(names, figures, strict=True)],
        note="专利、入库、签约按机构所在地；推送企业数按企业所在地（同一企业只计一次）。",
        note_en="Patents, pool and contracts by the institution's province; enterprises "
        "reached by the enterprise's province.",
    )  # fmt: skip


def by_city(session: Session, scope: Scope, *, today: date) -> Table:
    """Enterprises reached per city (the enterprises' registered city), top cities first."""
    cities: dict[str, int] = defaultdict(int)
    for (province, city), v in _reached_by_place(session, scope, today).items():
        cities[f"{province or ''} {city or ''}".strip() or "未知"] += int(v)
    ranked: list[list[Any]] = [
        [k, v] for k, v in sorted(cities.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return Table(
        "by_city", "推送企业所在城市", "Enterprises reached by city",
        [Column("city", "省份 城市", "Province city"), _col("enterprises_reached")],
        ranked[:30],
    )  # fmt: skip


def _reached_by_place(
    session: Session, scope: Scope, today: date
) -> dict[tuple[str | None, str | None], int]:
    """Enterprises reached per (province, city) as the enterprises registered them: one
    statement for the province and the city tables (an enterprise is in one place, so the
    distinct counts add up across places)."""
    return _per_entity(
        session, "enterprises_reached", scope, Push.enterprise_id, Enterprise.id,
        (Enterprise.province, Enterprise.city), today=today,
    )  # fmt: skip


def by_industry(session: Session, scope: Scope, *, today: date) -> Table:
    """Pushes, feedback, intents and contracts by the enterprise's GB/T 4754 门类 (section),
    with the 大类 (division) rows in `extra["by_division"]`.

    Grouped by the stored code in SQL (at most the ~1,400 codes of the standard), then rolled
    up to 大类 and 门类 here."""
    specs = {
        "pushes": Push.enterprise_id,
        "feedback": Feedback.enterprise_id,
        "cooperation_intents": Feedback.enterprise_id,
        "contracts": Contract.enterprise_id,
        "amount": Contract.enterprise_id,
    }
    sections: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    divisions: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for key, ent in specs.items():
        got: dict[Any, Any]
        if key == "pushes":  # a million pushes: one lookup per enterprise, not per push
            per = _per_entity(
                session, key, scope, Push.enterprise_id, Enterprise.id,
                (Enterprise.industry_code,), today=today,
            )  # fmt: skip
            got = {code: n for (code,), n in per.items()}
        else:
            got = _grouped(
                session, key, scope, Enterprise.industry_code,
                join=(Enterprise, Enterprise.id == ent), today=today,
            )  # fmt: skip
        for code, v in got.items():
            item = gbt4754.industry(code) if code else None
            section = item.section if item is not None else "?"
            division = gbt4754.division_of(code) if item is not None else None
            sections[section][key] += v
            divisions[division or "?"][key] += v
    section_names = {i.code: i.name for i in gbt4754.industries_at_level("门类")}
    division_names = {i.code: i.name for i in gbt4754.industries_at_level("大类")}
    unknown = "未填写或无法识别"
    rows = [
        [f"{c} {section_names[c]}" if c in section_names else unknown,
         *[sections[c].get(k, 0) for k in specs]]
        for c in sorted(sections)
    ]  # fmt: skip
    division_rows = [
        [f"{c} {division_names[c]}" if c in division_names else unknown,
         *[divisions[c].get(k, 0) for k in specs]]
        for c in sorted(divisions)
    ]  # fmt: skip
    rows.sort(key=lambda r: -r[1])
    division_rows.sort(key=lambda r: -r[1])
    columns = [*[_col(k) for k in specs]]
    table = Table(
        "by_industry", "各行业（GB/T 4754 门类）", "By industry (GB/T 4754 section)",
        [Column("industry", "行业门类", "Section"), *columns],
        rows, series=["pushes", "cooperation_intents"],
        note="按接收推送、反馈或签约企业的国民经济行业分类（GB/T 4754-2017）。",
        note_en="By the GB/T 4754-2017 industry of the enterprise pushed to, giving feedback "
        "or signing.",
    )  # fmt: skip
    table.extra["by_division"] = Table(
        "by_division", "各行业（GB/T 4754 大类）", "By industry (GB/T 4754 division)",
        [Column("industry", "行业大类", "Division"), *columns],
        division_rows[:30], series=["pushes"],
    )  # fmt: skip
    return table


def by_division(session: Session, scope: Scope, *, today: date) -> Table:
    """The 大类 (division) rows of the industry breakdown, top 30."""
    return by_industry(session, scope, today=today).extra["by_division"]


def by_tech_field(session: Session, scope: Scope, *, today: date) -> Table:
    """Pooled patents per WIPO technology field (35 fields, from the main IPC's subclass),
    named in Chinese (English on ?lang=en)."""
    got = _grouped(session, "pooled", scope, func.substr(Patent.main_ipc, 1, 4), today=today)
    fields: dict[int, int] = defaultdict(int)
    for subclass, v in got.items():
        found = technology_field(subclass) if subclass else None
        fields[found[0] if found else 0] += int(v)
    names, names_zh = technology_field_names(), technology_field_names_zh()
    order = sorted(fields, key=lambda n: (-fields[n], n == 0, n))
    rows: list[list[Any]] = [
        [f"{n:02d} {names_zh.get(n, names[n])}" if n else "其他/未分类", fields[n]] for n in order
    ]
    rows_en: list[list[Any]] = [
        [f"{n:02d} {names[n]}" if n else "Other / unclassified", fields[n]] for n in order
    ]
    return Table(
        "by_tech_field", "各技术领域（WIPO 35）", "By technology field (WIPO 35)",
        [Column("field", "技术领域", "Field"), _col("pooled")], rows,
        note="资源库专利按主分类号所属 WIPO 技术领域（35 个领域）。",
        note_en="Pooled patents by the WIPO field (of 35) of their main IPC.",
        rows_en=rows_en,
    )  # fmt: skip


def by_patent_type(session: Session, scope: Scope, *, today: date) -> Table:
    """Patents, pool, pushes and conversions per patent type."""
    keys = ("patents", "pooled", "pushed_patents", "converted")
    data: dict[str, dict[Any, Any]] = {
        "patents": _grouped(session, "patents", scope, Patent.patent_type, today=today),
        "pooled": _grouped(session, "pooled", scope, Patent.patent_type, today=today),
        "pushed_patents": _by_type(_pushed_patents_by(session, scope, today)),
        "converted": _grouped(
            session, "converted", scope, Patent.patent_type,
            join=(Patent, Patent.id == Contract.patent_id), today=today,
        ),
    }  # fmt: skip
    types = sorted({t for d in data.values() for t in d}, key=lambda t: str(t))
    names = [PATENT_TYPES.get(t or "", ("未知", "Unknown")) for t in types]
    counts = [[data[k].get(t, 0) for k in keys] for t in types]
    return Table(
        "by_patent_type", "各专利类型", "By patent type",
        [Column("type", "专利类型", "Type"), *[_col(k) for k in keys]],
        [[zh, *c] for (zh, _), c in zip(names, counts, strict=True)],
        chart="pie", series=["pooled"],
        rows_en=[[en, *c] for (_, en), c in zip(names, counts, strict=True)],
    )  # fmt: skip


def _month_expr(session: Session, column: Any) -> Any:
    """'YYYY-MM' of a date or timestamp column (UTC months for timestamps)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def by_month(session: Session, scope: Scope, *, today: date) -> Table:
    """Monthly flows (pushes, feedback, intents, deals, contracts, amount) over the period,
    or the last twelve months."""
    from shuanglian.figures import Period, _add_months

    period = scope.period
    if period is None:
        first = _add_months(today.year, today.month, -11)
        period = Period(first, _add_months(today.year, today.month, 1), "近12个月", "12m")
    scoped = Scope(scope.institution_id, scope.region, period)
    data = {}
    for key in TREND_KEYS:
        when = BY_KEY[key].when
        data[key] = _grouped(session, key, scoped, _month_expr(session, when), today=today)
    rows = [[m, *[data[k].get(m, 0) for k in TREND_KEYS]] for m in period.months()]
    return Table(
        "by_month", "月度趋势", "Monthly trend",
        [Column("month", "月份", "Month"), *[_col(k) for k in TREND_KEYS]], rows,
        chart="line", series=["pushes", "feedback", "contracts"],
    )  # fmt: skip


def deals_by_stage(session: Session, scope: Scope, *, today: date) -> Table:
    """Deals (opened by the period's end) by the stage they are in now."""
    found = scoped_query(BY_KEY["deals_open"], scope, today)
    counts: dict[str, int] = {}
    if found is not None:
        base = select(Deal.stage, func.count()).where(
            *in_range(Deal.opened_on, None, scope.period.end if scope.period else None)
        )
        flt = _institution_filter(scope)
        if flt is not None:
            base = base.where(flt(Deal.institution_id))
        counts = {s: int(n) for s, n in kept_rows(session, base.group_by(Deal.stage))}
    rows = [[DEAL_STAGE_NAMES[s][0], counts.get(s, 0)] for s in DEAL_STAGE_NAMES]
    table = Table(
        "deals_by_stage", "洽谈项目各阶段", "Deals by stage",
        [Column("stage", "阶段", "Stage"), Column("deals", "项目数", "Deals")], rows,
        rows_en=[[DEAL_STAGE_NAMES[s][1], counts.get(s, 0)] for s in DEAL_STAGE_NAMES],
    )  # fmt: skip
    return table


def contracts_by_kind(session: Session, scope: Scope, *, today: date) -> Table:
    """Contracts and amounts per kind (transfer, licence, open licence, equity)."""
    count = _grouped(session, "contracts", scope, Contract.kind, today=today)
    amount = _grouped(session, "amount", scope, Contract.kind, today=today)
    kinds = (*CONTRACT_KIND_NAMES, *sorted(set(count) - set(CONTRACT_KIND_NAMES)))
    names = [CONTRACT_KIND_NAMES.get(k, CONTRACT_KINDS.get(k, (k, k))) for k in kinds]
    figures = [[count.get(k, 0), amount.get(k, Decimal("0.00"))] for k in kinds]
    return Table(
        "contracts_by_kind", "合同类型", "Contracts by kind",
        [Column("kind", "类型", "Kind"), _col("contracts"), _col("amount")],
        [[zh, *f] for (zh, _), f in zip(names, figures, strict=True)],
        chart="pie", series=["amount"],
        rows_en=[[en, *f] for (_, en), f in zip(names, figures, strict=True)],
    )  # fmt: skip


def top_listings(session: Session, scope: Scope, *, today: date) -> Table:
    """The most visited listings (views + scans; in the period, from the daily counts)."""
    if scope.period is not None:
        views = func.coalesce(func.sum(ListingDailyStat.views), 0)
        scans = func.coalesce(func.sum(ListingDailyStat.scans), 0)
        stmt = (
            select(Listing.id, Listing.title, views, scans)
            .join(ListingDailyStat, ListingDailyStat.listing_id == Listing.id)
            .where(*in_range(ListingDailyStat.day, scope.period.start, scope.period.end))
            .group_by(Listing.id, Listing.title)
            .order_by((views + scans).desc(), Listing.id)
        )
    else:
        stmt = select(Listing.id, Listing.title, Listing.view_count, Listing.scan_count).order_by(
            (Listing.view_count + Listing.scan_count).desc(), Listing.id
        )
    flt = _institution_filter(scope)
    if flt is not None:
        stmt = stmt.where(flt(Listing.institution_id))
    stmt = stmt.where(Listing.status == "published").limit(TOP_N)
    found = list(session.execute(stmt))
    inquiries = dict(
        session.execute(
            select(Inquiry.listing_id, func.count())
            .where(Inquiry.listing_id.in_([r[0] for r in found]))
            .group_by(Inquiry.listing_id)
        ).all()
    ) if found else {}  # fmt: skip
    rows = [[t, int(v), int(s), int(inquiries.get(i, 0))] for i, t, v, s in found]
    return Table(
        "top_listings", "最受关注的成果", "Most viewed listings",
        [Column("listing", "成果", "Listing"), _col("views"), _col("scans"), _col("inquiries")],
        rows, series=["views", "scans"],
    )  # fmt: skip


def by_college(session: Session, scope: Scope, *, today: date) -> Table:
    """An institution's inventory by college (学院) and the pool, pushes and intents of it."""
    return _inventory_groups(
        session, scope, InventoryItem.college_id, College, "by_college", "各学院", "By college"
    )


def by_batch(session: Session, scope: Scope, *, today: date) -> Table:
    """An institution's inventory by batch (盘点批次)."""
    return _inventory_groups(
        session, scope, InventoryItem.batch_id, InventoryBatch, "by_batch", "各盘点批次", "By batch"
    )


def _inventory_groups(
    session: Session, scope: Scope, group: Any, model: Any, key: str, title: str, title_en: str
) -> Table:
    """Inventoried / pooled / pushed / intent patents grouped by an inventory item column."""
    end = scope.period.end if scope.period else None
    base = select(group, func.count(InventoryItem.id)).where(
        *in_range(InventoryItem.created_at, None, end)
    )
    flt = _institution_filter(scope)
    if flt is not None:
        base = base.where(flt(InventoryItem.institution_id))
    counts = {g: int(n) for g, n in kept_rows(session, base.group_by(group))}

    def patents_with(model_col: Any, *where: Any) -> dict[Any, int]:
        stmt = (
            select(group, func.count(func.distinct(InventoryItem.patent_id)))
            .join(model_col.class_, model_col == InventoryItem.patent_id)
            .where(*where, *in_range(InventoryItem.created_at, None, end))
        )
        if flt is not None:
            stmt = stmt.where(flt(InventoryItem.institution_id))
        return {g: int(n) for g, n in kept_rows(session, stmt.group_by(group))}

    pooled = patents_with(PoolEntry.patent_id, PoolEntry.active.is_(True))
    pushed = patents_with(Push.patent_id)
    intents = patents_with(Feedback.patent_id, Feedback.intent.in_(COOPERATION_INTENTS))
    ids = [g for g in counts if g is not None]
    names: dict[Any, str] = {}
    if ids:
        names = dict(session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())
    rows = [
        [names.get(g, "未分学院" if model is College else "—"), counts[g], pooled.get(g, 0),
         pushed.get(g, 0), intents.get(g, 0)]
        for g in sorted(counts, key=lambda g: -counts[g])
    ]  # fmt: skip
    return Table(
        key, title, title_en,
        [Column("group", title[1:] if title.startswith("各") else title, title_en[3:]),
         _col("inventoried"), Column("pooled", "在库", "In the pool"),
         Column("pushed", "已推送", "Pushed"), Column("intent", "有合作意向", "With an intent")],
        rows, series=["inventoried", "pooled"],
    )  # fmt: skip


# --------------------------------------------------------------------------- the dashboard


@dataclass
class Dashboard:
    """Everything one dashboard page (or report) shows, for one scope."""

    scope: Scope
    cards: dict[str, int | Decimal]
    tables: dict[str, Table] = field(default_factory=dict)
    title: str = ""


BUREAU_TABLES = (
    "funnel", "by_province", "by_city", "by_institution", "by_industry", "by_division",
    "by_tech_field", "by_patent_type", "by_month", "deals_by_stage", "contracts_by_kind",
    "top_listings",
)  # fmt: skip
INSTITUTION_TABLES = (
    "funnel", "by_college", "by_batch", "by_industry", "by_tech_field", "by_patent_type",
    "by_month", "deals_by_stage", "contracts_by_kind", "top_listings",
)  # fmt: skip
BUILDERS = {
    "funnel": funnel,
    "by_province": by_province,
    "by_city": by_city,
    "by_institution": by_institution,
    "by_industry": by_industry,
    "by_division": by_division,
    "by_tech_field": by_tech_field,
    "by_patent_type": by_patent_type,
    "by_month": by_month,
    "deals_by_stage": deals_by_stage,
    "contracts_by_kind": contracts_by_kind,
    "top_listings": top_listings,
    "by_college": by_college,
    "by_batch": by_batch,
}


def table_keys(scope: Scope) -> tuple[str, ...]:
    """Which tables a scope's dashboard shows (an institution's adds colleges and batches)."""
    return INSTITUTION_TABLES if scope.institution_id is not None else BUREAU_TABLES


def kept_table(session: Session, pieces: Pieces, scope: Scope, key: str, today: date) -> Table:
    """One table, kept until a table it reads changes (`dashboard.summary`)."""
    name = f"table:{key}:{scope_key(scope)}:{today.isoformat()}"
    table: Table = pieces.get(name, lambda: BUILDERS[key](session, scope, today=today))
    return table


def kept_figures(
    session: Session,
    keys: Iterable[str],
    *,
    scope: Scope,
    today: date,
    pieces: Pieces | None = None,
) -> dict[str, int | Decimal]:
    """`headline_figures`, each figure kept until a table it reads changes."""
    pieces = pieces or Pieces(session)
    out: dict[str, int | Decimal] = {}

    def one(key: str) -> dict[str, int | Decimal]:
        return headline_figures(
            session, keys=[key], scope=scope, today=today, execute=partial(kept_rows, session)
        )

    for k in keys:
        name = f"fig:{k}:{scope_key(scope)}:{today.isoformat()}"
        out.update(pieces.get(name, partial(one, k)))
    return out


def build_table(session: Session, *, scope: Scope, key: str, today: date | None = None) -> Table:
    """One table of the dashboard (a download, or a chart's data)."""
    if key not in table_keys(scope):
        from shuanglian.errors import NotFound

        raise NotFound(f"没有这张表 (no such table): {key}")
    return kept_table(session, Pieces(session), scope, key, today or today_in_china())


def build_dashboard(
    session: Session,
    *,
    scope: Scope,
    today: date | None = None,
    tables: bool = True,
    pieces: Pieces | None = None,
) -> Dashboard:
    """The cards and every table for a scope: the bureau's (platform or a province) or an
    institution's own. Each figure and table is computed by SQL, or reused while none of the
    tables it reads has changed since (`dashboard.summary`)."""
    today = today or today_in_china()
    pieces = pieces or Pieces(session)
    keys = [
        k
        for k in CARD_KEYS
        if scope.institution_id is None or BY_KEY[k].query(today)[1] is not None
    ]
    cards = kept_figures(session, keys, scope=scope, today=today, pieces=pieces)
    board = Dashboard(scope, cards)
    if tables:
        seen: dict[str, Table] = {}
        for key in table_keys(scope):
            if key == "by_division" and "by_industry" in seen:
                seen[key] = seen["by_industry"].extra["by_division"]
                continue
            seen[key] = kept_table(session, pieces, scope, key, today)
        board.tables = seen
    return board


# --------------------------------------------------------------------------- other roles


def enterprise_view(session: Session, *, enterprise_id: int) -> dict[str, Any]:
    """An enterprise's own activity: pushes received, feedback given, challenges, deals."""

    def n(stmt: Any) -> int:
        return int(session.scalar(stmt) or 0)

    mine = Feedback.enterprise_id == enterprise_id
    cards = {
        "pushes": n(select(func.count(Push.id)).where(Push.enterprise_id == enterprise_id)),
        "feedback": n(select(func.count(Feedback.id)).where(mine)),
        "cooperation_intents": n(
            select(func.count()).select_from(Feedback).where(
                Feedback.enterprise_id == enterprise_id, Feedback.intent.in_(COOPERATION_INTENTS))
        ),
        "challenges_posted": n(select(func.count()).select_from(Challenge).where(
            Challenge.enterprise_id == enterprise_id, Challenge.published_at.is_not(None))),
        "challenges_verified": n(
            select(func.count(func.distinct(Verification.challenge_id)))
            .join(Challenge, Challenge.id == Verification.challenge_id)
            .where(Challenge.enterprise_id == enterprise_id, Verification.verdict == "passed")
        ),
        "deals": n(select(func.count(Deal.id)).where(Deal.enterprise_id == enterprise_id)),
        "contracts": n(select(func.count(Contract.id))
                       .where(Contract.enterprise_id == enterprise_id)),
        "amount": Decimal(session.scalar(select(func.coalesce(func.sum(Contract.amount), 0)).where(
            Contract.enterprise_id == enterprise_id)) or 0).quantize(Decimal("0.01")),
    }  # fmt: skip
    stages = dict(
        session.execute(
            select(Deal.stage, func.count())
            .where(Deal.enterprise_id == enterprise_id)
            .group_by(Deal.stage)
        ).all()
    )
    deal_table = Table(
        "deals_by_stage", "我的洽谈项目", "My deals by stage",
        [Column("stage", "阶段", "Stage"), Column("deals", "项目数", "Deals")],
        [[DEAL_STAGE_NAMES[s][0], int(stages.get(s, 0))] for s in DEAL_STAGE_NAMES],
        rows_en=[[DEAL_STAGE_NAMES[s][1], int(stages.get(s, 0))] for s in DEAL_STAGE_NAMES],
    )  # fmt: skip
    recent = session.execute(
        select(Patent.title, Push.created_at, Feedback.intent)
        .select_from(Push)
        .join(Patent, Patent.id == Push.patent_id)
        .outerjoin(Feedback, Feedback.push_id == Push.id)
        .where(Push.enterprise_id == enterprise_id)
        .order_by(Push.created_at.desc(), Push.id.desc())
        .limit(20)
    ).all()
    pushes = Table(
        "recent_pushes", "最近收到的推送", "Latest pushes",
        [Column("patent", "专利", "Patent"), Column("on", "推送日期", "Pushed on"),
         Column("intent", "我的反馈", "My feedback")],
        [[t, at.date().isoformat() if at else "", intent or "未反馈"] for t, at, intent in recent],
        chart=None,
        rows_en=[[t, at.date().isoformat() if at else "",
                  INTENT_LABELS.get(intent, (intent, intent))[1] if intent else "No feedback yet"]
                 for t, at, intent in recent],
    )  # fmt: skip
    return {"cards": cards, "tables": {"deals_by_stage": deal_table, "recent_pushes": pushes}}


def manager_view(
    session: Session, *, manager_id: int | None, today: date | None = None
) -> dict[str, Any]:
    """A technology manager's deals: by stage, with days in the stage, and their contracts."""
    today = today or today_in_china()
    if manager_id is None:
        deals: list[Any] = []
    else:
        deals = list(session.execute(
            select(Deal.id, Deal.title, Deal.stage, Deal.stage_changed_on)
            .where(Deal.manager_id == manager_id).order_by(Deal.stage_changed_on)
        ).all())  # fmt: skip
    counts: dict[str, int] = defaultdict(int)
    for d in deals:
        counts[d.stage] += 1
    contracts = 0
    amount = Decimal("0.00")
    if manager_id is not None:
        row = session.execute(
            select(func.count(Contract.id), func.coalesce(func.sum(Contract.amount), 0))
            .join(Deal, Deal.id == Contract.deal_id).where(Deal.manager_id == manager_id)
        ).one()  # fmt: skip
        contracts, amount = int(row[0]), Decimal(row[1] or 0).quantize(Decimal("0.01"))
    open_days = sorted(
        (today - d.stage_changed_on).days
        for d in deals
        if d.stage in DEAL_STAGE_NAMES and d.stage not in ("production", "closed")
    )
    cards = {
        "deals": len(deals),
        "deals_open": len(open_days),
        "contracts": contracts,
        "amount": amount,
    }
    stage_table = Table(
        "deals_by_stage", "我的项目各阶段", "My deals by stage",
        [Column("stage", "阶段", "Stage"), Column("deals", "项目数", "Deals")],
        [[DEAL_STAGE_NAMES[s][0], counts.get(s, 0)] for s in DEAL_STAGE_NAMES],
        rows_en=[[DEAL_STAGE_NAMES[s][1], counts.get(s, 0)] for s in DEAL_STAGE_NAMES],
    )  # fmt: skip
    list_table = Table(
        "my_deals", "在谈项目（停留最久的在前）", "Open deals (longest in stage first)",
        [Column("deal", "项目", "Deal"), Column("stage", "阶段", "Stage"),
         Column("days", "本阶段天数", "Days in stage")],
        [[d.title, DEAL_STAGE_NAMES[d.stage][0], (today - d.stage_changed_on).days]
         for d in deals if d.stage not in ("production", "closed")],
        chart=None,
        rows_en=[[d.title, DEAL_STAGE_NAMES[d.stage][1], (today - d.stage_changed_on).days]
                 for d in deals if d.stage not in ("production", "closed")],
    )  # fmt: skip
    return {"cards": cards, "tables": {"deals_by_stage": stage_table, "my_deals": list_table}}
