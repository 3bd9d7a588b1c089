"""Fusion parameters and the fusion itself: a weighted sum of per-query max-normalised scores.

Why max-normalisation and a weighted sum: each signal lives on its own scale (BM25 is
unbounded and grows with query length, IPC cosine is in [0, 1]); dividing by the query's best
score puts them on [0, 1] without any corpus statistics, so the same few weights transfer to
other corpora and to queries of any length. A signal that is silent for a query (no IPC on
either side, no industry) is all zeros and adds nothing, so it cannot hurt.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypedDict

import numpy as np


class Cut(TypedDict):
    """`FusionParams.cut`: the `text.tokenize` options an index cuts its text with."""

    bigrams: bool
    phrases: bool
    elements: bool


SIGNALS: tuple[str, ...] = ("bm25", "ipc", "prior", "dense")
PARAMS_FILE = Path(__file__).with_name("fusion_params.json")


@dataclass(frozen=True)
class FusionParams:
    """Every tunable number of the engine, with the values read from fusion_params.json."""

    k1: float = 1.2
    b: float = 0.6
    title_weight: int = 1
    ipc_levels: tuple[str, ...] = ("subclass", "group", "subgroup")
    weights: dict[str, float] = field(
        default_factory=lambda: {"bm25": 1.0, "ipc": 0.6, "prior": 0.1, "dense": 0.5}
    )
    rerank_depth: int = 100
    # How the dense cosines of a short list are put on [0, 1] before weighting: "max" (divided
    # by the best, like every other signal) or "minmax" (the worst → 0, the best → 1). e5
    # cosines sit in a narrow high band (~0.75-0.9), so "max" leaves them nearly flat.
    dense_scaling: str = "max"
    bigrams: bool = False
    phrases: bool = True
    # Whether a Chinese word also gives the chemical element it holds (钠离子 → 钠:
    # text.elements); an index saved before has none, and its queries are cut the same way.
    elements: bool = False
    # Weight of a query term's translations (CC-CEDICT, shuanglian.text.bilingual) relative to
    # the term itself; 0 turns cross-language matching off.
    cross_lingual: float = 0.7
    # Power of a Chinese query term's general-language informativeness
    # (shuanglian.text.informativeness) its weight is multiplied by; 0 turns it off.
    background_idf: float = 0.0
    # Whether a query text of several lines counts each term once per line that holds it
    # (matcher.query_terms: a profile of patents, one per line); off keeps plain counts.
    query_passages: bool = False
    # Logistic coefficients turning a hit's evidence into P(relevant) (engine.calibrate),
    # fitted on the dev suites by benchmarks/calibrate.py.
    calibration: dict[str, float] = field(
        default_factory=lambda: {
            "intercept": -3.0,
            "query_coverage": 2.0,
            "doc_coverage": 2.0,
            "ipc": 1.0,
        }
    )
    comment: str = ""

    @property
    def cut(self) -> Cut:
        """How text is cut into terms (`text.tokenize` options): one place for every caller
        that must cut documents and queries alike."""
        return Cut(bigrams=self.bigrams, phrases=self.phrases, elements=self.elements)

    def to_json(self) -> dict[str, object]:
        """The JSON form stored beside an index and in fusion_params.json."""
        data = asdict(self)
        data["ipc_levels"] = list(self.ipc_levels)
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> FusionParams:
        """Parse the JSON form; unknown keys are ignored so old files keep loading."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "calibration" in known:
            known["calibration"] = {
                str(k): float(v)
                for k, v in dict(known["calibration"]).items()  # type: ignore[call-overload]
            }
        if "ipc_levels" in known:
            known["ipc_levels"] = tuple(known["ipc_levels"])  # type: ignore[arg-type]
        if "weights" in known:
            weights = {s: 0.0 for s in SIGNALS}
            weights.update({str(k): float(v) for k, v in dict(known["weights"]).items()})  # type: ignore[call-overload]
            known["weights"] = weights
        return cls(**known)  # type: ignore[arg-type]


def load_params(path: Path | None = None) -> FusionParams:
    """The tuned parameters (fusion_params.json beside this module unless a path is given)."""
    target = path or PARAMS_FILE
    if not target.exists():
        return FusionParams()
    return FusionParams.from_json(json.loads(target.read_text(encoding="utf-8")))


def normalise_max(scores: np.ndarray) -> np.ndarray:
    """Scores divided by their maximum (rows independently for 2-D); all-zero rows stay zero."""
    arr = np.asarray(scores, dtype=np.float32)
    if arr.ndim == 1:
        top = float(arr.max(initial=0.0))
        return arr / top if top > 0 else np.zeros_like(arr)
    top = arr.max(axis=1, keepdims=True, initial=0.0)
    top[top <= 0] = 1.0
    return np.maximum(arr, 0.0) / top


def normalise_minmax(scores: np.ndarray) -> np.ndarray:
    """1-D scores mapped to [0, 1], lowest → 0 and highest → 1; all-equal scores give zeros."""
    arr = np.asarray(scores, dtype=np.float32)
    if not len(arr):
        return arr
    low = float(arr.min())
    span = float(arr.max()) - low
    return (arr - low) / span if span > 0 else np.zeros_like(arr)


def active_weights(
    params: FusionParams, signals: tuple[str, ...] | list[str] | None
) -> dict[str, float]:
    """The weights in use: all of them, or only the requested signals (each at its weight,
    or 1.0 when a single signal is asked for alone, so `--signals ipc` ranks by IPC)."""
    if not signals:
        return dict(params.weights)
    unknown = [s for s in signals if s not in SIGNALS]
    if unknown:
        raise ValueError(f"未知信号 (unknown signals): {unknown}; 可选 (choose from) {SIGNALS}")
    if len(signals) == 1:
        return {s: (1.0 if s == signals[0] else 0.0) for s in SIGNALS}
    return {s: (params.weights.get(s, 0.0) if s in signals else 0.0) for s in SIGNALS}
