"""A match level people can read: the engine's absolute evidence → P(relevant) → 高/中/低.

Why not the fused score: it is divided by each query's best score, so the top hit of every
query reads 1.00 whatever it is. The evidence here is absolute — the share of the query's
specific words the document has (query_coverage), the share of the document's own weight on
the query's words (doc_coverage), the raw IPC cosine — and a logistic model fitted on the dev
suites' top-10 hits (benchmarks/calibrate.py; coefficients in fusion_params.json) turns it into
the probability that such a hit was judged relevant there. That probability is the percent
shown everywhere (API, pages, push lists), and the same thresholds give the level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from shuanglian.engine.records import Hit

FEATURES: tuple[str, ...] = ("query_coverage", "doc_coverage", "ipc")
# P(relevant) at or above HIGH reads 高, at or above MEDIUM 中, else 低 (weak).
HIGH = 0.5
MEDIUM = 0.2
# A query of at most this many specific words reads 高 only for a hit that has every one
# (`short_query_match`).
SHORT_QUERY_WORDS = 3
# Patents shown to an enterprise come 高 first, then 中, then 低, among the first this many
# (a page's list): see `levels_first`.
LEVELS_FIRST_DEPTH = 20
LEVELS: dict[str, tuple[str, str]] = {
    "high": ("高", "high"),
    "medium": ("中", "medium"),
    "low": ("低", "low"),
}


def features(evidence: Mapping[str, float]) -> list[float]:
    """The model's inputs: square roots of the evidence (coverages are skewed towards 0)."""
    return [math.sqrt(max(0.0, min(1.0, float(evidence.get(f, 0.0))))) for f in FEATURES]


def match_probability(evidence: Mapping[str, float], calibration: Mapping[str, float]) -> float:
    """P(relevant) in [0, 1] for a hit's evidence under `calibration` ({'intercept', feature
    names → coefficient}); 0 when there is no evidence at all. With `query_words` in the
    evidence, a short query's hit that lacks some of its words reads 中 at most
    (`short_query_match`)."""
    x = features(evidence)
    if not any(x):
        return 0.0
    z = _log_odds(x, calibration)
    p = 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))
    if "query_words" not in evidence:
        return p
    coverage = float(evidence.get("query_coverage", 0.0))
    return float(short_query_match(p, coverage, float(evidence["query_words"])))


def short_query_match(
    probability: np.ndarray | float,
    query_coverage: np.ndarray | float,
    query_words: np.ndarray | float,
) -> np.ndarray:
    """The match of hits of queries of a few specific words (search boxes, one-line demands
    and business scopes): a hit that lacks some of the words reads 中 at most.

    Why: the model was fitted on patents and profiles, where covering half of the query's
    specific words is strong evidence; for `lithium battery` it is one word of two, and every
    car-battery shop read 高 84% (the lithium-battery maker 99%). A query of SHORT_QUERY_WORDS
    words or fewer now reads 高 only for a hit that has all of them; the others' 中 and 高 are
    drawn into 中 in the same order, and 低 stays 低 (so no pair becomes weak: a firm with two
    lines of business still meets a patent that fits one). Arrays (a bulk block) or one hit's
    floats alike."""
    short = (query_words >= 1) & (query_words <= SHORT_QUERY_WORDS)
    partial = short & (query_coverage < 1.0 - 1e-9) & (probability >= MEDIUM)
    top = HIGH - 0.01
    held = MEDIUM + (probability - MEDIUM) * (top - MEDIUM) / (1.0 - MEDIUM)
    return np.where(partial, held, probability)


def level(probability: float) -> str:
    """'high' / 'medium' / 'low' for a calibrated probability."""
    if probability >= HIGH:
        return "high"
    if probability >= MEDIUM:
        return "medium"
    return "low"


def levels_first(hits: Sequence[Hit], depth: int = LEVELS_FIRST_DEPTH) -> list[Hit]:
    """The first `depth` hits (explained) in level order, 高 then 中 then 低, the engine's order
    kept within a level and after `depth`.

    Why: an enterprise reading its list met 低 12% above 中 32%. On the enterprise→patent
    suites this order is as good as the fused one or better (nDCG@10: judged scopes 0.362 →
    0.374, xl 0.645 → 0.655, xlref 0.754 → 0.764; drones and zh-owner equal); only xlref
    without IPC codes loses (0.783 → 0.772). From patent to enterprise it cost 0.003–0.007 on
    four of five suites, so lists of enterprises keep the fused order. A hit's score is left
    as it was: the fused score, no longer in list order."""
    head = list(hits[:depth])
    order = list(LEVELS)  # high, medium, low
    head.sort(key=lambda h: order.index(level(h.explanation.match if h.explanation else 0.0)))
    return head + list(hits[depth:])


def logit(evidence: Mapping[str, float], calibration: Mapping[str, float]) -> float:
    """The model's log-odds for `evidence` (before the logistic)."""
    return _log_odds(features(evidence), calibration)


def _log_odds(x: Sequence[float], calibration: Mapping[str, float]) -> float:
    return float(calibration.get("intercept", 0.0)) + sum(
        float(calibration.get(name, 0.0)) * v for name, v in zip(FEATURES, x, strict=True)
    )


def rescale_calibration(
    calibration: Mapping[str, float],
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[int],
    weights: Sequence[float] | None = None,
) -> dict[str, float]:
    """Platt scaling of a fitted model onto other judgements: P = sigmoid(a + b·z), z the
    model's log-odds, folded back into the coefficients (so the order of any two hits is
    unchanged and only what a level means moves).

    Why: the evidence model is fitted where labels are plentiful (owner retrieval, thousands
    of hits), but "same owner" is a stricter label than "a lead worth a manager's time", which
    is what the platform shows; a few hundred pairs graded by reading set that meaning.
    Rows without evidence are left out: they read 0 whatever the model says."""
    kept = [i for i, r in enumerate(rows) if any(features(r))]
    z = np.array([logit(rows[i], calibration) for i in kept], dtype=np.float64)
    y = np.array([labels[i] for i in kept], dtype=np.float64)
    w = np.ones(len(kept)) if weights is None else np.array([weights[i] for i in kept], float)
    a, b = _logistic(np.column_stack([np.ones(len(z)), z]), y, w, np.zeros(2)).tolist()
    return {"intercept": round(a + b * float(calibration.get("intercept", 0.0)), 4)} | {
        name: round(b * float(calibration.get(name, 0.0)), 4) for name in FEATURES
    }


def fit_calibration(
    rows: Sequence[Mapping[str, float]], labels: Sequence[int], *, l2: float = 1.0
) -> dict[str, float]:
    """Logistic regression (Newton steps, small L2) of labels on `features(rows)`."""
    x = np.array([[1.0, *features(r)] for r in rows], dtype=np.float64)
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    w = _logistic(x, np.asarray(labels, dtype=np.float64), np.ones(len(x)), penalty)
    return {"intercept": round(float(w[0]), 4)} | {
        name: round(float(v), 4) for name, v in zip(FEATURES, w[1:], strict=True)
    }


def _logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, penalty: np.ndarray) -> np.ndarray:
    """Weighted logistic regression coefficients (L2 `penalty` per column): Newton steps from
    zero, halved while a step would raise the loss (plain Newton can overshoot when the new
    base rate is far from the old model's, as in `rescale_calibration`)."""

    def loss(beta: np.ndarray) -> float:
        m = x @ beta
        return float(w @ (np.logaddexp(0.0, m) - y * m) + 0.5 * penalty @ (beta * beta))

    beta = np.zeros(x.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        grad = x.T @ (w * (p - y)) + penalty * beta
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-12 * np.eye(len(beta))
        step = np.linalg.solve(hess, grad)
        current = loss(beta)
        while loss(beta - step) > current and np.abs(step).max() > 1e-12:
            step = step / 2
        beta = beta - step
        if np.abs(step).max() < 1e-10:
            break
    return beta
