"""Headline figures (核心指标): the one place the platform's counts are defined and computed.

The home page, the big screen (`/screen`), `shuanglian stats` and the inventory report all read
their numbers here, so "patents pooled" means the same thing everywhere. Each figure is one SQL
aggregate with a one-line definition in both languages (the dashboards show it on hover), and
knows which column ties it to an institution, so the same definition gives the platform total,
one institution's figure, or one figure per institution (`figures_by_institution`).

Periods and regions (the dashboards and `shuanglian report`): a *flow* figure (pushes, feedback,
contracts, …) counts the events dated inside the period; a *stock* figure (patents, pool, …)
counts what existed at the period's end. A region (a province) keeps the rows whose institution
is in it; figures no institution owns use the enterprise's province (or the pilot platform's).
"已转化" (converted) is a technology contract signed on the platform — never a transfer recorded
elsewhere (that one is `transfer_records`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Select, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import find_tables

from shuanglian.accounts.models import User
from shuanglian.challenges.models import Application, Challenge, Verification
from shuanglian.deals.models import Contract, Deal, InventorPayout, OpenLicence, Payment
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
from shuanglian.pilots.models import PilotBooking, PilotPlatform
from shuanglian.reference.regions import Province, parse_region
from shuanglian.supermarket.models import Inquiry, Listing, ListingDailyStat

CHINA_TZ = timezone(timedelta(hours=8), "CST")
# Self-assessed 实施状态 that mean the patent is already converted.
CONVERTED_STATUSES = ("已许可", "已转让", "已作价入股")
# Deal stages still under way (deals.pipeline.OPEN_STAGES; repeated to keep this module light).
OPEN_DEAL_STAGES = ("contact", "nda", "due_diligence", "negotiation", "contract", "pilot")
POOL_GRADES = ("A", "B", "C", "D")


def today_in_china() -> date:
    """The calendar day in Beijing time ("today" on the big screen)."""
    return datetime.now(CHINA_TZ).date()


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """A reporting period [start, end) in Beijing calendar days, with its name."""

    start: date
    end: date  # exclusive
    label: str  # 2026年11月 / 2026年第4季度 / 2026年 / 2026-01-05 至 2026-02-01
    key: str  # what was parsed: 2026-11, 2026Q4, 2026, 2026-01-05..2026-01-31

    def months(self) -> list[str]:
        """The "YYYY-MM" months the period touches, in order (trend charts' x axis)."""
        out, y, m = [], self.start.year, self.start.month
        while date(y, m, 1) < self.end:
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})\s*[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_CUSTOM = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|~|至)\s*(\d{4}-\d{2}-\d{2})$")
PERIOD_HELP = "2026-11（月）、2026Q4（季度）、2026（年）或 2026-01-05..2026-02-20（自定义，含两端）"


def _add_months(y: int, m: int, n: int) -> date:
    total = y * 12 + (m - 1) + n
    return date(total // 12, total % 12 + 1, 1)


def parse_period(text: str) -> Period:
    """A month, quarter, year or custom range (both days included); ValueError says the forms."""
    value = (text or "").strip()
    if m := _MONTH.match(value):
        y, mo = int(m[1]), int(m[2])
        if 1 <= mo <= 12:
            return Period(date(y, mo, 1), _add_months(y, mo, 1), f"{y}年{mo}月", f"{y}-{mo:02d}")
    elif m := _QUARTER.match(value):
        y, q = int(m[1]), int(m[2])
        return Period(
            date(y, 3 * q - 2, 1), _add_months(y, 3 * q - 2, 3), f"{y}年第{q}季度", f"{y}Q{q}"
        )
    elif m := _YEAR.match(value):
        y = int(m[1])
        return Period(date(y, 1, 1), date(y + 1, 1, 1), f"{y}年", str(y))
    elif m := _CUSTOM.match(value):
        try:
            first, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
        except ValueError:
            pass
        else:
            if last >= first:
                return Period(
                    first, last + timedelta(days=1), f"{first} 至 {last}", f"{first}..{last}"
                )
    raise ValueError(f"无法识别的统计期 (unknown period): {value!r}；应为 {PERIOD_HELP}")


def _moment(day: date) -> datetime:
    """Midnight in Beijing as a UTC datetime: what timestamp columns are compared with."""
    return datetime.combine(day, time(0), CHINA_TZ).astimezone(UTC)


def in_range(column: Any, start: date | None, end: date | None) -> list[Any]:
    """WHERE terms keeping `column` (a Date or a timestamp) in [start, end); None = open."""
    is_day = isinstance(column.type, Date)  # DateTime is not a Date subclass
    terms = []
    if start is not None:
        terms.append(column >= (start if is_day else _moment(start)))
    if end is not None:
        terms.append(column < (end if is_day else _moment(end)))
    return terms


def region_terms(column: Any, province: Province) -> Any:
    """Free-text region column names this province ("江苏", "江苏省南京市" …)."""
    return column.like(province.short + "%")


# --------------------------------------------------------------------------- the figures


@dataclass(frozen=True)
class Figure:
    """One headline figure: its names, its definition, and its query.

    `query(today)` returns a one-column aggregate SELECT over the whole platform and the column
    that ties a row to an institution (None for figures no institution owns, e.g. enterprises).
    `when` is the date or timestamp column a period filters on; `stock` figures count what
    existed by the period's end, the others (flows) what happened inside it. `enterprise` (an
    enterprise id column) or `region` (a free-text place column) in the SELECT place a figure
    no institution owns in a province. `in_period(start, end)` replaces the query for a period
    where the all-time one reads running counters (views, scans) or current state (the pool).
    """

    key: str
    label: str
    label_en: str
    definition: str  # zh-CN, one line
    definition_en: str
    query: Callable[[date], tuple[Any, Any]]  # (one-column aggregate SELECT, column)
    money: bool = False  # 万元, a Decimal with two places
    when: Any = None
    stock: bool = False
    enterprise: Any = None
    region: Any = None
    in_period: Callable[[date | None, date], tuple[Any, Any]] | None = None
    # The same count without the join that only finds the row's institution, for a scope with
    # neither institution nor region (the join is a lookup per push on a million pushes).
    bare: Callable[[], Select[Any]] | None = None


def _count(model: Any, *where: Any) -> Select[Any]:
    return select(func.count()).select_from(model).where(*where)


def _pool_at(end: date | None, *where: Any) -> Select[Any]:
    """Patents in the pool at the start of `end` (entered before, not left by then).

    The patents table is joined only for a condition on the patent (its type): a pool entry's
    patent always exists (a foreign key that cascades), and the join is a lookup per entry."""
    terms = [*where]
    if end is not None:
        terms += in_range(PoolEntry.entered_at, None, end)
        terms.append(or_(PoolEntry.left_at.is_(None), PoolEntry.left_at >= _moment(end)))
    else:
        terms.append(PoolEntry.active.is_(True))
    stmt = select(func.count()).select_from(PoolEntry)
    if any(t.name == "patents" for w in where for t in find_tables(w, check_columns=True)):
        stmt = stmt.join(Patent, Patent.id == PoolEntry.patent_id)
    return stmt.where(*terms)


def _daily(column: Any, start: date | None, end: date) -> tuple[Any, Any]:
    return (
        select(func.coalesce(func.sum(column), 0))
        .select_from(ListingDailyStat)
        .join(Listing, Listing.id == ListingDailyStat.listing_id)
        .where(*in_range(ListingDailyStat.day, start, end)),
        Listing.institution_id,
    )


def _contracts(*where: Any) -> Select[Any]:
    return select(func.count(Contract.id)).where(*where)


def _amount(*where: Any) -> Select[Any]:
    return select(func.coalesce(func.sum(Contract.amount), 0)).where(*where)


FIGURES: tuple[Figure, ...] = (
    Figure(
        "institutions", "机构", "Institutions",
        "登记在平台上的高校和科研机构数。",
        "Universities and research institutes registered on the platform.",
        lambda _: (_count(Institution), Institution.id),
        when=Institution.created_at, stock=True,
    ),
    Figure(
        "patents", "专利", "Patents",
        "平台上的专利数（已导入的全部专利，含未盘点的）。",
        "Patents stored on the platform (every imported patent, inventoried or not).",
        lambda _: (_count(Patent), Patent.institution_id),
        when=Patent.created_at, stock=True,
    ),
    Figure(
        "patents_invention", "其中发明专利", "of which inventions",
        "平台上专利类型为发明专利的专利数。",
        "Stored patents whose type is invention.",
        lambda _: (_count(Patent, Patent.patent_type == "invention"), Patent.institution_id),
        when=Patent.created_at, stock=True,
    ),
    Figure(
        "inventoried", "盘点数", "Inventoried",
        "已加入盘点批次的专利数（每件专利只盘点一次）。",
        "Patents added to an inventory batch (each patent is inventoried once).",
        lambda _: (_count(InventoryItem), InventoryItem.institution_id),
        when=InventoryItem.created_at, stock=True,
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
        when=SelfAssessment.created_at, stock=True,
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
        when=SelfAssessment.created_at, stock=True,
    ),
    Figure(
        "pooled", "入库数", "In the pool",
        "现在在可转化资源库中的专利数（已失效或撤回出库的不计）。",
        "Patents in the convertible pool now (those that lapsed or were withdrawn excluded).",
        lambda _: (_pool_at(None), PoolEntry.institution_id),
        stock=True,
        in_period=lambda _s, end: (_pool_at(end), PoolEntry.institution_id),
    ),
    Figure(
        "pooled_invention", "其中发明专利", "of which inventions",
        "资源库中专利类型为发明专利的专利数。",
        "Patents in the pool now whose type is invention.",
        lambda _: (_pool_at(None, Patent.patent_type == "invention"), PoolEntry.institution_id),
        stock=True,
        in_period=lambda _s, end: (
            _pool_at(end, Patent.patent_type == "invention"), PoolEntry.institution_id
        ),
    ),
    *(
        Figure(
            f"graded_{g.lower()}", f"评级 {g}", f"Graded {g}",
            f"资源库中评估等级为 {g} 的专利数（按平台价值指标评定）。",
            f"Patents in the pool whose assessed grade (the platform's value indicators) is {g}.",
            (lambda grade: lambda _: (_pool_at(None, PoolEntry.grade == grade),
                                      PoolEntry.institution_id))(g),
            stock=True,
            in_period=(lambda grade: lambda _s, end: (
                _pool_at(end, PoolEntry.grade == grade), PoolEntry.institution_id))(g),
        )
        for g in POOL_GRADES
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
        when=Push.created_at,
        bare=lambda: select(func.count(func.distinct(Push.patent_id))),
    ),
    Figure(
        "pushes", "推送次数", "Pushes",
        "推送记录数（一件专利推送给一家企业记一次）。",
        "Push records (one patent pushed to one enterprise counts once).",
        lambda _: (
            select(func.count()).select_from(Push).join(Patent, Patent.id == Push.patent_id),
            Patent.institution_id,
        ),
        when=Push.created_at,
        bare=lambda: select(func.count()).select_from(Push),
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
        when=Push.created_at,
        bare=lambda: select(func.count(func.distinct(Push.enterprise_id))),
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
        when=Feedback.created_at,
        bare=lambda: select(func.count()).select_from(Feedback),
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
        when=Feedback.created_at,
        bare=lambda: select(func.count(func.distinct(Feedback.patent_id))).where(
            Feedback.intent.in_(COOPERATION_INTENTS)
        ),
    ),
    Figure(
        "converted", "已转化数", "Converted",
        "在平台上签订技术合同（转让、许可、开放许可、作价入股）的专利数；按期统计时为期内签约的。",
        "Patents with a technology contract (transfer, licence, open licence, equity) signed "
        "on the platform; for a period, signed in that period.",
        lambda _: (
            select(func.count(func.distinct(Contract.patent_id))).where(
                Contract.patent_id.is_not(None)
            ),
            Contract.institution_id,
        ),
        when=Contract.signed_on,
    ),
    Figure(
        "transfer_records", "有转化记录", "With a transfer record",
        "有转让或许可记录，或自评为已许可、已转让、已作价入股的盘点专利数（含平台外的转化）。",
        "Inventoried patents with a CNIPA transfer or licence record, or self-assessed as "
        "licensed, transferred or contributed as equity (conversions off the platform too).",
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
        when=InventoryItem.created_at, stock=True,
    ),
    Figure(
        "enterprises", "企业", "Enterprises",
        "平台上登记的企业数。",
        "Enterprises registered on the platform.",
        lambda _: (_count(Enterprise), None),
        when=Enterprise.created_at, stock=True, enterprise=Enterprise.id,
    ),
    Figure(
        "demands", "技术需求", "Technical demands",
        "企业发布的技术需求数（含已关闭的）。",
        "Technical demands posted by enterprises (closed ones included).",
        lambda _: (_count(Demand), None),
        when=Demand.created_at, enterprise=Demand.enterprise_id,
    ),
    Figure(
        "users", "用户", "Users",
        "平台账号数（含已停用的）。",
        "Accounts on the platform (disabled ones included).",
        lambda _: (_count(User), User.institution_id),
        when=User.created_at, stock=True,
    ),
    Figure(
        "listings", "上架成果", "Listings published",
        "科技成果超市中正在上架的成果数（草稿和已下架的不计）。",
        "Listings on sale in the technology supermarket now (drafts and withdrawn excluded).",
        lambda _: (_count(Listing, Listing.status == "published"), Listing.institution_id),
        when=Listing.published_at, stock=True,
    ),
    Figure(
        "views", "浏览次数", "Views",
        "成果详情页被打开的累计次数（不含扫码）；按期统计时为期内的。",
        "Times a listing's page was opened, all time (QR scans not included); for a period, "
        "inside it.",
        lambda _: (select(func.coalesce(func.sum(Listing.view_count), 0)), Listing.institution_id),
        in_period=lambda start, end: _daily(ListingDailyStat.views, start, end),
    ),
    Figure(
        "scans", "扫码次数", "QR scans",
        "通过成果二维码打开详情页的累计次数；按期统计时为期内的。",
        "Times a listing's page was opened from its QR code, all time; for a period, inside it.",
        lambda _: (select(func.coalesce(func.sum(Listing.scan_count), 0)), Listing.institution_id),
        in_period=lambda start, end: _daily(ListingDailyStat.scans, start, end),
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
        when=Inquiry.created_at,
    ),
    Figure(
        "challenges_posted", "发布榜单", "Challenges posted",
        "企业发布（出题）的揭榜挂帅榜单数（草稿不计）。",
        "Challenges enterprises published (drafts excluded).",
        lambda _: (_count(Challenge, Challenge.published_at.is_not(None)), None),
        when=Challenge.published_at, enterprise=Challenge.enterprise_id,
    ),
    Figure(
        "challenges_solved", "已答题榜单", "Challenges solved",
        "揭榜团队交付成果并进入验题（至少验证过一次）的榜单数。",
        "Challenges whose team delivered a solution that was tested at least once.",
        lambda _: (
            select(func.count(func.distinct(Verification.challenge_id)))
            .select_from(Verification)
            .join(Challenge, Challenge.id == Verification.challenge_id)
            .outerjoin(Application, Application.id == Verification.application_id),
            Application.institution_id,
        ),
        when=Verification.recorded_at, enterprise=Challenge.enterprise_id,
    ),
    Figure(
        "challenges_verified", "验题通过", "Challenges verified",
        "在企业生产线上验证通过的榜单数。",
        "Challenges whose solution passed verification on the enterprise's line.",
        lambda _: (
            select(func.count(func.distinct(Verification.challenge_id)))
            .select_from(Verification)
            .join(Challenge, Challenge.id == Verification.challenge_id)
            .outerjoin(Application, Application.id == Verification.application_id)
            .where(Verification.verdict == "passed"),
            Application.institution_id,
        ),
        when=Verification.recorded_at, enterprise=Challenge.enterprise_id,
    ),
    Figure(
        "deals", "洽谈项目", "Deals opened",
        "技术经理人或机构发起的洽谈项目数（含已终止的）。",
        "Deals opened by a manager or an institution (closed ones included).",
        lambda _: (_count(Deal), Deal.institution_id),
        when=Deal.opened_on,
    ),
    Figure(
        "deals_open", "在谈项目", "Deals under way",
        "尚未量产也未终止的洽谈项目数。",
        "Deals neither in production nor closed.",
        lambda _: (_count(Deal, Deal.stage.in_(OPEN_DEAL_STAGES)), Deal.institution_id),
        when=Deal.opened_on, stock=True,
    ),
    Figure(
        "deals_production", "已量产项目", "Deals in production",
        "进入量产阶段的洽谈项目数。",
        "Deals that reached production.",
        lambda _: (_count(Deal, Deal.stage == "production"), Deal.institution_id),
        when=Deal.stage_changed_on,
    ),
    Figure(
        "contracts", "签约项目", "Contracts signed",
        "平台上登记的已签约技术合同数（含开放许可、作价入股）。",
        "Technology contracts recorded on the platform (open licences and equity included).",
        lambda _: (_contracts(), Contract.institution_id),
        when=Contract.signed_on,
    ),
    Figure(
        "amount", "签约金额（万元）", "Amount signed (10k CNY)",
        "平台上登记的技术合同金额合计，单位万元。",
        "Total amount of the technology contracts recorded on the platform, in 10k CNY.",
        lambda _: (_amount(), Contract.institution_id),
        money=True, when=Contract.signed_on,
    ),
    Figure(
        "contracts_transfer", "转让合同", "Transfer contracts",
        "平台上签订的专利转让合同数。",
        "Patent transfer contracts signed on the platform.",
        lambda _: (_contracts(Contract.kind == "transfer"), Contract.institution_id),
        when=Contract.signed_on,
    ),
    Figure(
        "contracts_licence", "许可合同", "Licence contracts",
        "平台上签订的专利实施许可合同数（不含开放许可）。",
        "Patent licence contracts signed on the platform (open licences not included).",
        lambda _: (_contracts(Contract.kind == "licence"), Contract.institution_id),
        when=Contract.signed_on,
    ),
    Figure(
        "open_licences_taken", "开放许可实施", "Open licences taken",
        "企业依开放许可声明取得实施许可的次数。",
        "Times an enterprise took a licence under an open-licence declaration.",
        lambda _: (_contracts(Contract.kind == "open_licence"), Contract.institution_id),
        when=Contract.signed_on,
    ),
    Figure(
        "contracts_equity", "作价入股", "Equity contributions",
        "以专利作价入股（技术增资）的合同数。",
        "Contracts contributing patents as equity.",
        lambda _: (_contracts(Contract.kind == "equity"), Contract.institution_id),
        when=Contract.signed_on,
    ),
    Figure(
        "amount_equity", "作价入股金额（万元）", "Equity amount (10k CNY)",
        "作价入股合同的作价金额合计，单位万元。",
        "Total value of the equity contributions, in 10k CNY.",
        lambda _: (_amount(Contract.kind == "equity"), Contract.institution_id),
        money=True, when=Contract.signed_on,
    ),
    Figure(
        "open_licences_declared", "开放许可声明", "Open-licence declarations",
        "正在生效的开放许可声明数。",
        "Open-licence declarations in force.",
        lambda _: (_count(OpenLicence, OpenLicence.status == "in_force"),
                   OpenLicence.institution_id),
        when=OpenLicence.declared_on, stock=True,
    ),
    Figure(
        "income_received", "到账金额（万元）", "Income received (10k CNY)",
        "技术合同已到账的款项合计，单位万元。",
        "Payments received under the contracts, in 10k CNY.",
        lambda _: (
            select(func.coalesce(func.sum(Payment.amount), 0))
            .select_from(Payment)
            .join(Contract, Contract.id == Payment.contract_id),
            Contract.institution_id,
        ),
        money=True, when=Payment.received_on,
    ),
    Figure(
        "income_to_inventors", "发明人奖酬（万元）", "Paid to inventors (10k CNY)",
        "按收益分配规则已支付给发明人（团队）的金额合计，单位万元。",
        "Income distributed to inventors under the distribution rules, in 10k CNY.",
        lambda _: (
            select(func.coalesce(func.sum(InventorPayout.amount), 0))
            .select_from(InventorPayout)
            .join(Contract, Contract.id == InventorPayout.contract_id),
            Contract.institution_id,
        ),
        money=True, when=InventorPayout.paid_on,
    ),
    Figure(
        "pilot_bookings", "中试预约", "Pilot bookings",
        "向中试平台提交的预约数（含未确认的）。",
        "Bookings requested at pilot platforms (unconfirmed ones included).",
        lambda _: (
            select(func.count())
            .select_from(PilotBooking)
            .join(PilotPlatform, PilotPlatform.id == PilotBooking.platform_id),
            None,
        ),
        when=PilotBooking.created_at, region=PilotPlatform.province,
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


@dataclass(frozen=True)
class Scope:
    """Which rows the figures count: an institution, a province, a period (each optional)."""

    institution_id: int | None = None
    region: Province | None = None
    period: Period | None = None

    @classmethod
    def parse(
        cls,
        *,
        institution_id: int | None = None,
        region: str | None = None,
        period: str | None = None,
    ) -> Scope:
        """From the CLI's or a page's text; ValueError carries a zh/en sentence."""
        return cls(
            institution_id,
            parse_region(region) if region else None,
            parse_period(period) if period else None,
        )  # fmt: skip


def scoped_query(
    figure: Figure, scope: Scope, today: date, *, bare: bool = False
) -> tuple[Any, Any] | None:
    """The figure's SELECT narrowed to the scope, and its institution column; None when the
    figure has no meaning there (no institution owns it, or it cannot be placed in a region).

    `bare`: a lone count (nothing grouped or added to it) may drop the institution join when
    the scope has neither institution nor region."""
    period = scope.period
    if bare and figure.bare is not None and scope.institution_id is None and not scope.region:
        stmt = figure.bare()
        if period is not None and figure.when is not None:
            start = None if figure.stock else period.start
            stmt = stmt.where(*in_range(figure.when, start, period.end))
        return stmt, None
    if period is not None and figure.in_period is not None:
        stmt, inst = figure.in_period(None if figure.stock else period.start, period.end)
    else:
        stmt, inst = figure.query(today)
        if period is not None and figure.when is not None:
            start = None if figure.stock else period.start
            stmt = stmt.where(*in_range(figure.when, start, period.end))
    if scope.institution_id is not None:
        if inst is None:
            return None
        stmt = stmt.where(inst == scope.institution_id)
    if scope.region is not None:
        if inst is not None:
            where_inst = select(Institution.id).where(
                region_terms(Institution.region, scope.region)
            )
            stmt = stmt.where(inst.in_(where_inst))
        elif figure.enterprise is not None:
            where_ent = select(Enterprise.id).where(region_terms(Enterprise.province, scope.region))
            stmt = stmt.where(figure.enterprise.in_(where_ent))
        elif figure.region is not None:
            stmt = stmt.where(region_terms(figure.region, scope.region))
        else:
            return None
    return stmt, inst


def headline_figures(
    session: Session,
    *,
    keys: Iterable[str] | None = None,
    institution_id: int | None = None,
    today: date | None = None,
    scope: Scope | None = None,
    execute: Callable[[Select[Any]], Any] | None = None,
) -> dict[str, int | Decimal]:
    """The figures named by `keys` (all when None), for the platform or one institution,
    optionally narrowed to a region and a period (`scope`).

    With an institution, figures no institution owns (enterprises, demands) are left out; with
    a region, figures that cannot be placed in one (none today) are left out. `execute` runs
    each SELECT and returns its rows (the dashboards keep the results).
    """
    today = today or today_in_china()
    scope = scope or Scope()
    if institution_id is not None:
        scope = Scope(institution_id, scope.region, scope.period)
    out: dict[str, int | Decimal] = {}
    for figure in _figures(keys):
        found = scoped_query(figure, scope, today, bare=True)
        if found is not None:
            raw = execute(found[0])[0][0] if execute is not None else session.scalar(found[0])
            out[figure.key] = _value(figure, raw)
    return out


def figures_by_institution(
    session: Session,
    *,
    keys: Iterable[str],
    institution_id: int | None = None,
    today: date | None = None,
    scope: Scope | None = None,
    execute: Callable[[Select[Any]], Iterable[Any]] | None = None,
) -> dict[str, dict[int, int | Decimal]]:
    """Each figure per institution, `{key: {institution_id: value}}` (institutions with a zero
    are absent), optionally for one institution only. Distinct counts (enterprises reached) do
    not add up across institutions: take the platform total from `headline_figures`.
    `execute` runs each grouped SELECT (the dashboards keep the results)."""
    today = today or today_in_china()
    scope = scope or Scope()
    if institution_id is not None:
        scope = Scope(institution_id, scope.region, scope.period)
    out: dict[str, dict[int, int | Decimal]] = {}
    for figure in _figures(keys):
        found = scoped_query(figure, scope, today)
        if found is None or found[1] is None:
            raise KeyError(f"figure {figure.key!r} belongs to no institution")
        stmt, inst = found
        grouped = stmt.add_columns(inst).where(inst.is_not(None)).group_by(inst)
        got = execute(grouped) if execute is not None else session.execute(grouped).all()
        out[figure.key] = {int(i): _value(figure, v) for v, i in got}
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


def period_rule(figure: Figure, lang: str = "zh") -> str:
    """How a period counts this figure: at the period's end (stock) or inside it (flow)."""
    if figure.key == "scans_today":
        return "当天" if lang == "zh" else "today"
    if figure.stock:
        return "期末存量" if lang == "zh" else "at period end"
    return "期内发生" if lang == "zh" else "during the period"
