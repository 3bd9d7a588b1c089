"""Indicator maths on hand-checked records, and the stored assessment of the pool."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuanglian.inventory.indicators import (
    FeedbackStats,
    MarketContext,
    assess_patent,
    division_of,
    grade_for,
    linked_divisions,
    load_config,
)
from shuanglian.patents.models import Patent

from .conftest import hand_link

AS_OF = date(2025, 1, 1)


def _by_key(result):
    return {i.key: i for i in result.indicators}


def test_strong_invention_hand_checked():
    patent = Patent(
        patent_type="invention",
        legal_status="有权-审定授权",
        filing_date=date(2020, 1, 1),
        claims_count=5,
        main_ipc="H04N5/225",
        ipc_codes=["H04N5/225", "H04N5/232", "H02J7/00"],
        transfer_count=1,
        licence_count=0,
    )
    market = MarketContext(100, {"39": 4, "65": 2}, {"39": 2})
    result = assess_patent(
        patent,
        divisions={"39": 0.7, "65": 0.3},
        market=market,
        feedback=FeedbackStats(count=2, mean_prospect=4.0, cooperation=1, interest=2),
        as_of=AS_OF,
    )
    ind = _by_key(result)
    assert ind["legal_status"].score == 1.0
    assert ind["remaining_term"].value == 15.0 and ind["remaining_term"].score == 1.0
    assert ind["claims_count"].score == 0.5
    assert ind["ipc_breadth"].value == 2 and ind["ipc_breadth"].score == pytest.approx(0.6667)
    assert ind["transfer_history"].score == 1.0
    # 0.7 × 4/100 + 0.3 × 2/100 = 3.4% of enterprises; saturation 5% → 0.68
    assert ind["industry_fit"].value == pytest.approx(0.034)
    assert ind["industry_fit"].score == pytest.approx(0.68)
    assert ind["demand_density"].value == 2 and ind["demand_density"].score == 0.4
    # (4 − 1)/4 + 0.25 for a cooperation intent = 1.0
    assert ind["market_feedback"].score == 1.0
    # 15+10+10+5+3.333+10+10.2+4+15 = 82.53
    assert result.score == pytest.approx(82.53)
    assert result.grade == "A" and result.suggested_tier == 2
    assert sum(i.contribution for i in result.indicators) == pytest.approx(result.score, abs=0.05)
    assert all(i.source and i.reason for i in result.indicators)


def test_lapsed_utility_model_hand_checked():
    patent = Patent(
        patent_type="utility_model",
        legal_status="未缴年费专利权终止",
        filing_date=date(2015, 6, 1),
        ipc_codes=[],
    )
    result = assess_patent(
        patent, divisions={}, market=MarketContext(0, {}, {}), feedback=FeedbackStats(), as_of=AS_OF
    )
    ind = _by_key(result)
    assert ind["legal_status"].score == 0.0
    assert ind["remaining_term"].value == 0.41  # 151 days to 2025-06-01
    assert ind["patent_type"].score == 0.6
    assert ind["claims_count"].score == 0.5 and "未知" in ind["claims_count"].reason
    assert ind["market_feedback"].score == 0.5 and "暂无" in ind["market_feedback"].reason
    # 0.1×0.041 + 0.1×0.6 + 0.1×0.5 + 0.15×0.5 = 0.1891
    assert result.score == pytest.approx(18.91)
    assert result.grade == "D" and result.suggested_tier == 3


def test_grade_thresholds():
    assert [grade_for(s) for s in (75, 74.99, 55, 35, 34.9)] == ["A", "B", "B", "C", "D"]


def test_weights_and_sources_cover_every_indicator():
    cfg = load_config()
    assert set(cfg["weights"]) == set(cfg["sources"])
    assert all(w > 0 for w in cfg["weights"].values())


def test_linked_divisions_normalises_weights():
    patent = Patent(main_ipc="H04N5/225", ipc_codes=["H04N5/225", "B64U20/80"])
    divs = linked_divisions(patent, hand_link)
    assert divs == pytest.approx({"39": 0.35, "65": 0.15, "37": 0.5})


@pytest.mark.parametrize(
    "code,div",
    [("C3911", "39"), ("3911", "39"), ("C39", "39"), ("I6510", "65"), ("C", None), (None, None)],
)
def test_division_of(code, div):
    assert division_of(code) == div


@given(
    claims=st.integers(0, 500),
    transfers=st.integers(0, 20),
    prospect=st.floats(1, 5),
    n_ent=st.integers(0, 1000),
)
def test_score_is_always_between_0_and_100(claims, transfers, prospect, n_ent):
    patent = Patent(
        patent_type="invention",
        legal_status="有权",
        claims_count=claims,
        transfer_count=transfers,
        filing_date=date(2010, 1, 1),
        ipc_codes=["G06F40/289"],
    )
    result = assess_patent(
        patent,
        divisions={"65": 1.0},
        market=MarketContext(max(n_ent, 1), {"65": n_ent}, {}),
        feedback=FeedbackStats(count=1, mean_prospect=prospect),
        as_of=AS_OF,
    )
    assert 0 <= result.score <= 100
    assert all(0 <= i.score <= 1 for i in result.indicators)
