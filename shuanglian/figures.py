"""Headline figures (核心指标): the one place the platform's counts are defined and computed.

The home page, the big screen (`/screen`), `shuanglian stats` and the inventory report all read
their numbers here, so "patents pooled" means the same thing everywhere. Each figure is one SQL
aggregate with a one-line definition in both languages (the dashboards show it on hover), and
knows which column ties it to an institution, so the same definition gives the platform total,
one institution's figure, or one figure per institution (`figures_by_institution`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.deals.models import Contract
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.inventory.models import (
    COOPERATION_INTENTS,
    Feedback,
    InventoryItem,
    PoolEntry,
    Push,
    SelfAssessment,
)
from shuanglian.patents.models import Institution, Patent
from shuanglian.supermarket.models import Inquiry, Listing, ListingDailyStat

CHINA_TZ = timezone(timedelta(hours=8), "CST")
# Self-assessed 实施状态 that mean the patent is already converted.
CONVERTED_STATUSES = ("已许可", "已转让", "已作价入股")


def today_in_china() -> date:
    """The calendar day in Beijing time ("today" on the big screen)."""
    return datetime.now(CHINA_TZ).date()


@dataclass(frozen=True)
class Figure:
    """One headline figure: its names, its definition, and its query.

    `query(today)` returns a one-column aggregate SELECT over the whole platform and the column
    that ties a row to an institution (None for figures no institution owns, e.g. enterprises).
    """

    key: str
    label: str
    label_en: str
    definition: str  # zh-CN, one line
    definition_en: str
    query: Callable[[date], tuple[Any, Any]]  # (one-column aggregate SELECT, column)
    money: bool = False  # 万元, a Decimal with two places


def _count(model: Any, *where: Any) -> Select[Any]:
    return select(func.count()).select_from(model).where(*where)


FIGURES: tuple[Figure, ...] = (
    Figure(
        "institutions", "机构", "Institutions",
        "登记在平台上的高校和科研机构数。",
        "Universities and research institutes registered on the platform.",
        lambda _: (_count(Institution), Institution.id),
    ),
    Figure(
        "patents", "专利", "Patents",
        "平台上的专利数（已导入的全部专利，含未盘点的）。",
        "Patents stored on the platform (every imported patent, inventoried or not).",
        lambda _: (_count(Patent), Patent.institution_id),
    ),
    Figure(
        "patents_invention", "其中发明专利", "of which inventions",
        "平台上专利类型为发明专利的专利数。",
        "Stored patents whose type is invention.",
        lambda _: (_count(Patent, Patent.patent_type == "invention"), Patent.institution_id),
    ),
    Figure(
        "inventoried", "盘点数", "Inventoried",
        "已加入盘点批次的专利数（每件专利只盘点一次）。",
        "Patents added to an inventory batch (each patent is inventoried once).",
        lambda _: (_count(InventoryItem), InventoryItem.institution_id),
    ),
    Figure(
        "assessed", "已自评", "Self-assessed",
        "盘点专利中已填写自评表的数量。",
        "Inventoried patents whose self-assessment has been filled in.",
        lambda _: (
            select(func.count())
            .select_from(InventoryItem)
            .join(SelfAssessment, SelfAssessment.item_id == InventoryItem.id),
            InventoryItem.institution_id,
        ),
    ),
    Figure(
        "assessed_good", "自评转化前景好", "Self-assessed as high value",
        "自评价值分级为“高”的盘点专利数。",
        "Inventoried patents whose self-assessed value grade is 高 (high).",
        lambda _: (
            select(func.count())
            .select_from(InventoryItem)
            .join(SelfAssessment, SelfAssessment.item_id == InventoryItem.id)
            .where(SelfAssessment.value_grade == "高"),
            InventoryItem.institution_id,
        ),
    ),
    Figure(
        "pooled", "入库数", "In the pool",
        "现在在可转化资源库中的专利数（已失效或撤回出库的不计）。",
        "Patents in the convertible pool now (those that lapsed or were withdrawn excluded).",
        lambda _: (_count(PoolEntry, PoolEntry.active.is_(True)), PoolEntry.institution_id),
    ),
    Figure(
        "pooled_invention", "其中发明专利", "of which inventions",
        "资源库中专利类型为发明专利的专利数。",
        "Patents in the pool now whose type is invention.",
        lambda _: (
            select(func.count())
            .select_from(PoolEntry)
            .join(Patent, Patent.id == PoolEntry.patent_id)
            .where(PoolEntry.active.is_(True), Patent.patent_type == "invention"),
            PoolEntry.institution_id,
        ),
    ),
    Figure(
        "pushed_patents", "已推送专利", "Patents pushed",
        "至少推送给一家企业的专利数。",
        "Patents pushed to at least one enterprise.",
        lambda _: (
            select(func.count(func.distinct(Push.patent_id)))
            .select_from(Push)
            .join(Patent, Patent.id == Push.patent_id),
            Patent.institution_id,
        ),
    ),
    Figure(
        "pushes", "推送次数", "Pushes",
        "推送记录数（一件专利推送给一家企业记一次）。",
        "Push records (one patent pushed to one enterprise counts once).",
        lambda _: (
            select(func.count()).select_from(Push).join(Patent, Patent.id == Push.patent_id),
            Patent.institution_id,
        ),
    ),
    Figure(
        "enterprises_reached", "推送企业数", "Enterprises reached",
        "收到过推送的不同企业数（同一企业只计一次）。",
        "Distinct enterprises that received at least one push (each counted once).",
        lambda _: (
            select(func.count(func.distinct(Push.enterprise_id)))
            .select_from(Push)
            .join(Patent, Patent.id == Push.patent_id),
            Patent.institution_id,
        ),
    ),
    Figure(
        "feedback", "反馈数", "Feedback received",
        "企业对推送专利提交的评价反馈数。",
        "Evaluations enterprises returned on pushed patents.",
        lambda _: (
            select(func.count())
            .select_from(Feedback)
            .join(Patent, Patent.id == Feedback.patent_id),
            Patent.institution_id,
        ),
    ),
    Figure(
        "cooperation_intents", "有合作意向数", "With a cooperation intent",
        "至少一家企业表示洽谈、许可、转让、作价入股或合作开发意向的专利数。",
        "Patents for which an enterprise stated an intent to negotiate, license, buy, take "
        "as equity or co-develop.",
        lambda _: (
            select(func.count(func.distinct(Feedback.patent_id)))
            .select_from(Feedback)
            .join(Patent, Patent.id == Feedback.patent_id)
            .where(Feedback.intent.in_(COOPERATION_INTENTS)),
            Patent.institution_id,
        ),
    ),
    Figure(
        "converted", "已转化数", "Converted",
        "有转让或许可记录，或自评为已许可、已转让、已作价入股的盘点专利数。",
        "Inventoried patents with a CNIPA transfer or licence record, or self-assessed as "
        "licensed, transferred or contributed as equity.",
        lambda _: (
            select(func.count())
            .select_from(InventoryItem)
            .join(Patent, Patent.id == InventoryItem.patent_id)
            .outerjoin(SelfAssessment, SelfAssessment.item_id == InventoryItem.id)
            .where(
                or_(
                    func.coalesce(Patent.transfer_count, 0)
                    + func.coalesce(Patent.licence_count, 0)
                    > 0,
                    SelfAssessment.implementation_status.in_(CONVERTED_STATUSES),
                )
            ),
            InventoryItem.institution_id,
        ),
    ),
    Figure(
        "enterprises", "企业", "Enterprises",
        "平台上登记的企业数。",
        "Enterprises registered on the platform.",
        lambda _: (_count(Enterprise), None),
    ),
    Figure(
        "demands", "技术需求", "Technical demands",
        "企业发布的技术需求数（含已关闭的）。",
        "Technical demands posted by enterprises (closed ones included).",
        lambda _: (_count(Demand), None),
    ),
    Figure(
        "users", "用户", "Users",
        "平台账号数（含已停用的）。",
        "Accounts on the platform (disabled ones included).",
        lambda _: (_count(User), User.institution_id),
    ),
    Figure(
        "listings", "上架成果", "Listings published",
        "科技成果超市中正在上架的成果数（草稿和已下架的不计）。",
        "Listings on sale in the technology supermarket now (drafts and withdrawn excluded).",
        lambda _: (_count(Listing, Listing.status == "published"), Listing.institution_id),
    ),
    Figure(
        "views", "浏览次数", "Views",
        "成果详情页被打开的累计次数（不含扫码）。",
        "Times a listing's page was opened, all time (QR scans not included).",
        lambda _: (select(func.coalesce(func.sum(Listing.view_count), 0)), Listing.institution_id),
    ),
    Figure(
        "scans", "扫码次数", "QR scans",
        "通过成果二维码打开详情页的累计次数。",
        "Times a listing's page was opened from its QR code, all time.",
        lambda _: (select(func.coalesce(func.sum(Listing.scan_count), 0)), Listing.institution_id),
    ),
    Figure(
        "scans_today", "今日扫码", "Scans today",
        "今天（北京时间）通过二维码打开成果的次数。",
        "QR scans of listings today (Beijing time).",
        lambda today: (
            select(func.coalesce(func.sum(ListingDailyStat.scans), 0))
            .select_from(ListingDailyStat)
            .join(Listing, Listing.id == ListingDailyStat.listing_id)
            .where(ListingDailyStat.day == today),
            Listing.institution_id,
        ),
    ),
    Figure(
        "inquiries", "咨询留言", "Inquiries",
        "访客就成果提交的咨询留言数。",
        "Messages visitors sent about listings.",
        lambda _: (
            select(func.count())
            .select_from(Inquiry)
            .join(Listing, Listing.id == Inquiry.listing_id),
            Listing.institution_id,
        ),
    ),
    Figure(
        "contracts", "签约项目", "Contracts signed",
        "平台上登记的已签约技术合同数（含开放许可、作价入股）。",
        "Technology contracts recorded on the platform (open licences and equity included).",
        lambda _: (select(func.count(Contract.id)), Contract.institution_id),
    ),
    Figure(
        "amount", "签约金额（万元）", "Amount signed (10k CNY)",
        "平台上登记的技术合同金额合计，单位万元。",
        "Total amount of the technology contracts recorded on the platform, in 10k CNY.",
        lambda _: (select(func.coalesce(func.sum(Contract.amount), 0)), Contract.institution_id),
        money=True,
    ),
)  # fmt: skip
BY_KEY: dict[str, Figure] = {f.key: f for f in FIGURES}


def _value(figure: Figure, raw: Any) -> int | Decimal:
    if figure.money:
        return Decimal(raw or 0).quantize(Decimal("0.01"))
    return int(raw or 0)


def _figures(keys: Iterable[str] | None) -> list[Figure]:
    if keys is None:
        return list(FIGURES)
    unknown = [k for k in keys if k not in BY_KEY]
    if unknown:
        raise KeyError(f"unknown figure {unknown[0]!r}")
    return [BY_KEY[k] for k in keys]


def headline_figures(
    session: Session,
    *,
    keys: Iterable[str] | None = None,
    institution_id: int | None = None,
    today: date | None = None,
) -> dict[str, int | Decimal]:
    """The figures named by `keys` (all when None), for the platform or one institution.

    With `institution_id`, figures no institution owns (enterprises, demands) are left out.
    """
    today = today or today_in_china()
    out: dict[str, int | Decimal] = {}
    for figure in _figures(keys):
        stmt, inst = figure.query(today)
        if institution_id is not None:
            if inst is None:
                continue
            stmt = stmt.where(inst == institution_id)
        out[figure.key] = _value(figure, session.scalar(stmt))
    return out


def figures_by_institution(
    session: Session,
    *,
    keys: Iterable[str],
    institution_id: int | None = None,
    today: date | None = None,
) -> dict[str, dict[int, int | Decimal]]:
    """Each figure per institution, `{key: {institution_id: value}}` (institutions with a zero
    are absent), optionally for one institution only. Distinct counts (enterprises reached) do
    not add up across institutions: take the platform total from `headline_figures`."""
    today = today or today_in_china()
    out: dict[str, dict[int, int | Decimal]] = {}
    for figure in _figures(keys):
        stmt, inst = figure.query(today)
        if inst is None:
            raise KeyError(f"figure {figure.key!r} belongs to no institution")
        grouped = stmt.add_columns(inst).where(inst.is_not(None)).group_by(inst)
        if institution_id is not None:
            grouped = grouped.where(inst == institution_id)
        out[figure.key] = {int(i): _value(figure, v) for v, i in session.execute(grouped).all()}
    return out


def patents_by_type(session: Session) -> dict[str, int]:
    """Stored patents per patent type ("invention", "utility_model", "design", "unknown")."""
    stmt = select(Patent.patent_type, func.count()).group_by(Patent.patent_type)
    return {ptype or "unknown": int(n) for ptype, n in session.execute(stmt)}


def database_counts(session: Session) -> dict[str, int]:
    """What `shuanglian stats` prints: the main record counts, plus patents by type."""
    keys = ("institutions", "patents", "enterprises", "demands", "users")
    counts = {k: int(v) for k, v in headline_figures(session, keys=keys).items()}
    for ptype, n in patents_by_type(session).items():
        counts[f"patents_{ptype}"] = n
    return counts


def definitions(lang: str = "zh") -> dict[str, tuple[str, str]]:
    """`{key: (label, definition)}` in `lang`, for a page to show on hover."""
    if lang == "en":
        return {f.key: (f.label_en, f.definition_en) for f in FIGURES}
    return {f.key: (f.label, f.definition) for f in FIGURES}
