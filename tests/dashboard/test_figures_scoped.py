"""Figures and dashboard tables against hand counts on `world.build` (periods and regions)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shuanglian.dashboard import service
from shuanglian.figures import Scope, headline_figures, parse_period
from shuanglian.reference.regions import parse_region
from tests.dashboard.world import build

TODAY = date(2026, 12, 20)
D = Decimal


def figs(session, **scope):  # type: ignore[no-untyped-def]
    return headline_figures(session, scope=Scope.parse(**scope), today=TODAY)


def test_platform_all_time(db_session) -> None:
    build(db_session)
    f = figs(db_session)
    assert (f["inventoried"], f["pooled"], f["graded_a"], f["graded_b"], f["graded_c"]) == (
        4, 3, 2, 1, 0,
    )  # fmt: skip
    assert (f["pushed_patents"], f["pushes"], f["enterprises_reached"]) == (3, 4, 2)
    assert (f["feedback"], f["cooperation_intents"]) == (3, 2)
    assert (f["deals"], f["deals_open"], f["deals_production"]) == (1, 0, 1)
    assert (f["converted"], f["contracts"], f["amount"]) == (2, 2, D("105.00"))
    assert (f["contracts_equity"], f["amount_equity"], f["open_licences_taken"]) == (
        1, D("100.00"), 1,
    )  # fmt: skip
    assert f["income_to_inventors"] == D("20.00")
    assert (f["challenges_posted"], f["challenges_solved"], f["challenges_verified"]) == (1, 1, 1)
    assert (f["pilot_bookings"], f["views"], f["scans"], f["inquiries"]) == (1, 9, 4, 1)


def test_a_month_counts_flows_inside_it_and_stocks_at_its_end(db_session) -> None:
    build(db_session)
    f = figs(db_session, period="2026-11")
    # Flows in November: pushes a2→E1, b1→E2; b1's 许可 feedback; the equity contract.
    assert (f["pushes"], f["pushed_patents"], f["feedback"], f["cooperation_intents"]) == (
        2, 2, 1, 1,
    )  # fmt: skip
    assert (f["contracts"], f["amount"], f["converted"], f["deals"]) == (1, D("100.00"), 1, 0)
    assert (f["challenges_verified"], f["challenges_posted"], f["pilot_bookings"]) == (1, 0, 1)
    assert (f["views"], f["scans"], f["inquiries"], f["income_to_inventors"]) == (
        3, 2, 1, D("0.00"),
    )  # fmt: skip
    # Stocks at the end of November: all four inventoried, three in the pool.
    assert (f["inventoried"], f["pooled"]) == (4, 3)
    sept = figs(db_session, period="2026-09")
    assert (sept["inventoried"], sept["pooled"], sept["pushes"]) == (2, 1, 0)


def test_quarter_year_and_custom_periods(db_session) -> None:
    build(db_session)
    q4 = figs(db_session, period="2026Q4")
    assert (q4["pushes"], q4["contracts"], q4["amount"], q4["deals"]) == (4, 2, D("105.00"), 1)
    assert q4["income_to_inventors"] == D("20.00")
    assert figs(db_session, period="2026")["contracts"] == 2
    assert figs(db_session, period="2025")["contracts"] == 0
    custom = figs(db_session, period="2026-11-05..2026-11-11")  # both days included
    assert (custom["pushes"], custom["contracts"], custom["feedback"]) == (1, 1, 1)


def test_regions_keep_their_institutions_and_enterprises(db_session) -> None:
    build(db_session)
    js = figs(db_session, region="32")
    assert (js["inventoried"], js["pooled"], js["pushes"], js["enterprises_reached"]) == (
        3, 2, 3, 2,
    )  # fmt: skip
    assert (js["contracts"], js["amount"], js["challenges_posted"], js["pilot_bookings"]) == (
        1, D("100.00"), 1, 1,
    )  # fmt: skip
    zj = figs(db_session, region="浙江省")
    assert (zj["inventoried"], zj["contracts"], zj["amount"], zj["challenges_posted"]) == (
        1, 1, D("5.00"), 0,
    )  # fmt: skip
    assert figs(db_session, region="330000", period="2026-11")["amount"] == D("0.00")


def test_one_institution(db_session) -> None:
    w = build(db_session)
    f = figs(db_session, institution_id=w.a)
    assert (f["inventoried"], f["converted"], f["challenges_solved"], f["amount"]) == (
        3, 1, 1, D("100.00"),
    )  # fmt: skip
    assert "challenges_posted" not in f and "pilot_bookings" not in f  # no institution owns them


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("2026-11", date(2026, 11, 1), date(2026, 12, 1)),
        ("2026-12", date(2026, 12, 1), date(2027, 1, 1)),
        ("2026Q4", date(2026, 10, 1), date(2027, 1, 1)),
        ("2026q1", date(2026, 1, 1), date(2026, 4, 1)),
        ("2026", date(2026, 1, 1), date(2027, 1, 1)),
        ("2026-02-01..2026-02-28", date(2026, 2, 1), date(2026, 3, 1)),
    ],
)
def test_parse_period(text: str, start: date, end: date) -> None:
    p = parse_period(text)
    assert (p.start, p.end) == (start, end)


@pytest.mark.parametrize("bad", ["2026-13", "2026Q5", "26", "2026-03-01..2026-02-01", "上月"])
def test_bad_periods_and_regions_are_refused_with_the_forms(bad: str) -> None:
    with pytest.raises(ValueError, match="统计期"):
        parse_period(bad)
    with pytest.raises(ValueError, match="地区"):
        parse_region("99")


def test_funnel_counts_rates_and_median_days(db_session) -> None:
    build(db_session)
    table = service.funnel(db_session, Scope(), today=TODAY)
    assert [r[1] for r in table.rows] == [4, 3, 3, 2, 2, 1, 2, 1]
    assert [r[2] for r in table.rows] == [None, 75.0, 100.0, 66.7, 100.0, 50.0, 200.0, 50.0]
    # pool 10/30/14 days after inventory; first push 11/24/21 after pool; feedback 10/3/5
    # after the push; intent with the feedback; deal 10-21 − 10-11 02:00 UTC; contract 21
    # days after the deal; production 20 days after the contract.
    assert [r[3] for r in table.rows] == [None, 14.0, 21.0, 5.0, None, 9.9, 21.0, 20.0]


def test_breakdowns(db_session) -> None:
    w = build(db_session)
    scope = Scope()
    provinces = {r[0]: r[1:] for r in service.by_province(db_session, scope, today=TODAY).rows}
    # patents, pooled, contracts, amount, enterprises reached (by the enterprise's province)
    assert provinces["江苏"] == [3, 2, 1, D("100.00"), 1]
    assert provinces["浙江"] == [1, 1, 1, D("5.00"), 1]
    industry = service.by_industry(db_session, scope, today=TODAY)
    assert industry.rows == [["C 制造业", 4, 3, 2, 2, D("105.00")]]
    divisions = {r[0]: r[1] for r in industry.extra["by_division"].rows}
    assert divisions == {"38 电气机械和器材制造业": 2, "26 化学原料和化学制品制造业": 2}
    types = {r[0]: r[1:] for r in service.by_patent_type(db_session, scope, today=TODAY).rows}
    assert types == {"发明": [3, 3, 3, 2], "实用新型": [1, 0, 0, 0]}
    month = {r[0]: r[1:] for r in service.by_month(db_session, Scope.parse(period="2026Q4"),
                                                    today=TODAY).rows}  # fmt: skip
    assert month["2026-10"] == [2, 2, 1, 1, 0, 0]
    assert month["2026-11"] == [2, 1, 1, 0, 1, D("100.00")]
    assert month["2026-12"] == [0, 0, 0, 0, 1, D("5.00")]
    stages = dict(service.deals_by_stage(db_session, scope, today=TODAY).rows)
    assert stages["量产"] == 1 and sum(stages.values()) == 1
    kinds = {r[0]: r[1:] for r in service.contracts_by_kind(db_session, scope, today=TODAY).rows}
    assert kinds["作价入股"] == [1, D("100.00")] and kinds["开放许可"] == [1, D("5.00")]
    assert service.top_listings(db_session, scope, today=TODAY).rows == [["甲成果", 9, 4, 1]]
    mine = Scope(institution_id=w.a)
    colleges = {r[0]: r[1:] for r in service.by_college(db_session, mine, today=TODAY).rows}
    assert colleges == {"材料学院": [2, 2, 2, 1], "未分学院": [1, 0, 0, 0]}
    batches = {r[0]: r[1:] for r in service.by_batch(db_session, mine, today=TODAY).rows}
    assert batches == {"A1": [2, 2, 2, 1], "A2": [1, 0, 0, 0]}
    tech = service.by_tech_field(db_session, scope, today=TODAY)
    fields = dict(tech.rows)
    assert sum(fields.values()) == 3
    # WIPO field names in Chinese (reference wipo_35_fields_zh.csv), English on ?lang=en.
    assert fields == {"01 电气机械、设备和能源": 2, "06 计算机技术": 1}  # a1, b1: H01M; a2: G06F
    assert dict(tech.rows_in("en")) == {
        "01 Electrical machinery, apparatus, energy": 2,
        "06 Computer technology": 1,
    }


def test_institution_dashboard_holds_only_its_own_numbers(db_session) -> None:
    w = build(db_session)
    board = service.build_dashboard(db_session, scope=Scope(institution_id=w.b), today=TODAY)
    assert board.cards["inventoried"] == 1 and board.cards["amount"] == D("5.00")
    assert [r[1] for r in board.tables["funnel"].rows][:3] == [1, 1, 1]
    assert "by_institution" not in board.tables and "by_province" not in board.tables
    assert board.tables["top_listings"].rows == []  # A's listing is not B's


def test_empty_database_builds_every_table(db_session) -> None:
    board = service.build_dashboard(db_session, scope=Scope.parse(period="2026-11"), today=TODAY)
    assert set(board.tables) == set(service.BUREAU_TABLES)
    assert all(v == 0 for v in board.cards.values())
    assert [r[1] for r in board.tables["funnel"].rows] == [0] * 8
