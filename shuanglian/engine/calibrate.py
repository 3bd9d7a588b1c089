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

FEATURES: tuple[str, ...] = ("query_coverage", "doc_coverage", "ipc")
# P(relevant) at or above HIGH reads 高, at or above MEDIUM 中, else 低 (weak).
HIGH = 0.5
MEDIUM = 0.2
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
    names → coefficient}); 0 when there is no evidence at all."""
    x = features(evidence)
    if not any(x):
        return 0.0
    z = float(calibration.get("intercept", 0.0)) + sum(
        float(calibration.get(name, 0.0)) * v for name, v in zip(FEATURES, x, strict=True)
    )
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


def level(probability: float) -> str:
    """'high' / 'medium' / 'low' for a calibrated probability."""
    if probability >= HIGH:
        return "high"
    if probability >= MEDIUM:
        return "medium"
    return "low"


def fit_calibration(
    rows: Sequence[Mapping[str, float]], labels: Sequence[int], *, l2: float = 1.0
) -> dict[str, float]:
    """Logistic regression (Newton steps, small L2) of labels on `features(rows)`."""
    x = np.array([[1.0, *features(r)] for r in rows], dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) + penalty * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return {"intercept": round(float(w[0]), 4)} | {
        name: round(float(v), 4) for name, v in zip(FEATURES, w[1:], strict=True)
    }
