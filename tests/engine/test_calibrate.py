"""Rescaling the match model onto graded pairs moves what a level means, never the order."""

from __future__ import annotations

import math
import random

from shuanglian.engine.calibrate import (
    HIGH,
    MEDIUM,
    levels_first,
    logit,
    match_probability,
    rescale_calibration,
)
from shuanglian.engine.records import Explanation, Hit

BASE = {"intercept": -8.0, "query_coverage": 6.5, "doc_coverage": 6.4, "ipc": 0.6}


def _evidence(rng: random.Random) -> dict[str, float]:
    return {
        "query_coverage": rng.random() ** 3,
        "doc_coverage": rng.random() ** 3,
        "ipc": rng.random() if rng.random() < 0.3 else 0.0,
    }


def test_rescaling_recovers_how_often_such_hits_are_relevant() -> None:
    # Graded pairs whose true P(relevant) is sigmoid(1.6 + 0.7 z): the base model's ranking,
    # but leads far more often relevant than "same owner" suggests (the business-scope case).
    rng = random.Random(7)
    rows = [_evidence(rng) for _ in range(6000)]
    labels = [int(rng.random() < 1 / (1 + math.exp(-(1.6 + 0.7 * logit(r, BASE))))) for r in rows]
    scaled = rescale_calibration(BASE, rows, labels)
    assert abs(scaled["query_coverage"] / BASE["query_coverage"] - 0.7) < 0.1
    assert abs(scaled["intercept"] - (1.6 + 0.7 * BASE["intercept"])) < 0.5
    mean_p = sum(match_probability(r, scaled) for r in rows) / len(rows)
    assert abs(mean_p - sum(labels) / len(labels)) < 0.02
    # The same hits in the same order: only the level they read changes.
    before = sorted(range(200), key=lambda i: match_probability(rows[i], BASE))
    after = sorted(range(200), key=lambda i: match_probability(rows[i], scaled))
    assert before == after


def test_rescaling_ignores_hits_without_evidence() -> None:
    rng = random.Random(3)
    rows = [_evidence(rng) for _ in range(3000)]
    labels = [int(rng.random() < match_probability(r, BASE)) for r in rows]
    empty = [{"query_coverage": 0.0, "doc_coverage": 0.0, "ipc": 0.0}] * 3000
    with_empty = rescale_calibration(BASE, rows + empty, labels + [1] * 3000)
    assert with_empty == rescale_calibration(BASE, rows, labels)
    assert match_probability(empty[0], with_empty) == 0.0


def test_suite_weights_let_a_small_suite_count_as_much_as_a_big_one() -> None:
    rng = random.Random(11)
    big = [_evidence(rng) for _ in range(4000)]
    small = [_evidence(rng) for _ in range(400)]
    # The big suite's hits are rarely relevant, the small one's often.
    labels = [0] * len(big) + [1 if i % 2 else 0 for i in range(len(small))]
    unweighted = rescale_calibration(BASE, big + small, labels)
    weighted = rescale_calibration(
        BASE, big + small, labels, [1 / len(big)] * len(big) + [1 / len(small)] * len(small)
    )
    assert weighted["intercept"] > unweighted["intercept"]


def test_levels_first_keeps_the_engines_order_within_a_level_and_past_the_depth() -> None:
    def hit(name: str, match: float) -> Hit:
        return Hit(doc_id=name, score=1.0, explanation=Explanation(match=match))

    hits = [hit("a", 0.10), hit("b", 0.30), hit("c", 0.90), hit("d", 0.25), hit("e", 0.95)]
    # 高: c; 中: b, d (as ranked); 低: a; e lies past the depth and stays last.
    assert [h.doc_id for h in levels_first(hits, depth=4)] == ["c", "b", "d", "a", "e"]


def test_a_short_query_reads_high_only_for_a_hit_with_all_its_words() -> None:
    calibration = {"intercept": -4.6, "query_coverage": 7.7, "doc_coverage": 7.4, "ipc": 1.1}
    half = {"query_coverage": 0.5, "doc_coverage": 0.05, "ipc": 0.0}
    # A patent-length query covering half its words: strong evidence, read as it was.
    assert match_probability(half | {"query_words": 40.0}, calibration) == match_probability(
        half, calibration
    )
    assert match_probability(half, calibration) > HIGH
    # `lithium battery` and a car-battery shop that has only `battery`: no longer 高.
    held = match_probability(half | {"query_words": 2.0}, calibration)
    assert MEDIUM <= held < HIGH
    whole = {"query_coverage": 1.0, "doc_coverage": 0.05, "ipc": 0.0, "query_words": 2.0}
    assert match_probability(whole, calibration) > HIGH
    # Held within 中 in the same order, and what was 低 stays 低 (no pair becomes weak).
    most = {"query_coverage": 0.9, "doc_coverage": 0.05, "ipc": 0.0, "query_words": 3.0}
    assert held < match_probability(most, calibration) < HIGH
    little = {"query_coverage": 0.02, "doc_coverage": 0.01, "ipc": 0.0}
    assert match_probability(little, calibration) < MEDIUM
    assert match_probability(little | {"query_words": 2.0}, calibration) == match_probability(
        little, calibration
    )
