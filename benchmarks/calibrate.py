"""Fit the match-level calibration (engine.calibrate) on BEIR suites and store it.

    .venv/bin/python benchmarks/calibrate.py ../shared/bench/dev/* [--judged SUITE ...] [--write]

Each query's top 10 hits, explained, give (evidence, judged relevant?) pairs; one logistic
model over every suite and both directions, so the percent means the same on every page.
Each suite weighs the same (its pairs are weighted by 1/count), so the big drones suites do
not decide alone. Prints the fitted coefficients, the share of relevant hits per level on each
suite, and with --write stores the coefficients in shuanglian/engine/fusion_params.json.
`--judged` suites (benchmarks/scope_suite.py: patents against business scopes, graded by
reading) then rescale the fitted model (engine.calibrate.rescale_calibration, each judged suite
weighing the same): owner retrieval teaches which evidence is stronger, the graded pairs what
a level means on the platform, where an enterprise is a business scope and "relevant" means a
lead worth a manager's time, not "the same owner".

`--folds K` says whether a refit would read the graded pairs better than the stored model
before anyone writes it: the rescale is fitted K times on the other folds' queries and scored
on the held-out queries' pairs (log-loss over the pairs with evidence, the only ones a
calibration moves), beside the stored model on the same pairs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from shuanglian.engine.calibrate import (
    features,
    fit_calibration,
    level,
    match_probability,
    rescale_calibration,
)
from shuanglian.engine.evaluate import read_qrels, record_from_beir, suite_info, suite_rows
from shuanglian.engine.fusion import PARAMS_FILE, load_params
from shuanglian.engine.matcher import Matcher

# (evidence, relevant, query id) of each hit, in the same order.
Pairs = tuple[list[dict[str, float]], list[int], list[str]]


def pairs(path: Path) -> Pairs:
    """(evidence, relevant, query id) of every top-10 hit of every judged query of one suite."""
    qrels = read_qrels(path / "qrels" / "test.tsv")
    matcher = Matcher.build(record_from_beir(r) for r in suite_rows(path / "corpus.jsonl"))
    queries = [record_from_beir(r) for r in suite_rows(path / "queries.jsonl")]
    queries = [q for q in queries if q.id in qrels]
    rows: list[dict[str, float]] = []
    labels: list[int] = []
    query_ids: list[str] = []
    for q, hits in zip(queries, matcher.search_many(queries, top=10, explain=True), strict=True):
        for h in hits:
            assert h.explanation is not None
            rows.append(h.explanation.evidence)
            labels.append(int(qrels[q.id].get(h.doc_id, 0) > 0))
            query_ids.append(q.id)
    return rows, labels, query_ids


def _fold(query_id: str, folds: int) -> int:
    return int(hashlib.md5(query_id.encode("utf-8")).hexdigest(), 16) % folds


def _log_loss(probs: list[float], labels: list[int]) -> float:
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-6, 1 - 1e-6)
    y = np.asarray(labels, dtype=np.float64)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def rescaled(
    fitted: dict[str, float], judged: dict[str, Pairs], skip: int, folds: int
) -> dict[str, float]:
    """The rescale on the judged pairs, leaving out fold `skip` (-1: none); each suite weighs
    the same."""
    rows: list[dict[str, float]] = []
    labels: list[int] = []
    weights: list[float] = []
    for r, y, q in judged.values():
        kept = [i for i in range(len(r)) if _fold(q[i], folds) != skip]
        rows += [r[i] for i in kept]
        labels += [y[i] for i in kept]
        weights += [1.0 / max(len(kept), 1)] * len(kept)
    return rescale_calibration(fitted, rows, labels, weights)


def cross_validate(fitted: dict[str, float], judged: dict[str, Pairs], folds: int) -> None:
    """Held-out log-loss of a refit against the stored calibration, per judged suite."""
    stored = load_params().calibration
    held: dict[str, list[float]] = {name: [0.0] * len(v[0]) for name, v in judged.items()}
    for k in range(folds):
        calib = rescaled(fitted, judged, k, folds)
        for name, (r, _y, q) in judged.items():
            for i in range(len(r)):
                if _fold(q[i], folds) == k:
                    held[name][i] = match_probability(r[i], calib)
    for name, (r, y, _q) in judged.items():
        with_evidence = [i for i in range(len(r)) if any(features(r[i]))]
        labels = [y[i] for i in with_evidence]
        refit = _log_loss([held[name][i] for i in with_evidence], labels)
        now = _log_loss([match_probability(r[i], stored) for i in with_evidence], labels)
        print(
            f"{name}: {len(with_evidence)} pairs with evidence; log-loss stored {now:.3f}, "
            f"refit held out ({folds} folds by query) {refit:.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("suites", nargs="+", type=Path)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--judged", nargs="*", type=Path, default=[])
    parser.add_argument(
        "--folds", type=int, default=0, help="cross-validate a refit (needs --judged)"
    )
    args = parser.parse_args(argv)
    data = {suite_info(p)["name"]: pairs(p) for p in args.suites}
    judged = {suite_info(p)["name"] + " (judged)": pairs(p) for p in args.judged}
    rows: list[dict[str, float]] = []
    labels: list[int] = []
    for r, y, _q in data.values():
        # Equal weight per suite: repeat small suites' pairs up to the largest suite's count.
        reps = max(1, round(max(len(v[0]) for v in data.values()) / max(len(r), 1)))
        rows += r * reps
        labels += y * reps
    fitted = fit_calibration(rows, labels)
    calib = fitted
    print("fitted:", json.dumps(calib))
    if judged:
        calib = rescaled(fitted, judged, -1, 1)
        print("rescaled on the judged suites:", json.dumps(calib))
        if args.folds > 1:
            cross_validate(fitted, judged, args.folds)
    for name, (r, y, _q) in (data | judged).items():
        counts: dict[str, list[int]] = {"high": [], "medium": [], "low": []}
        probs = [match_probability(ev, calib) for ev in r]
        for p, lab in zip(probs, y, strict=True):
            counts[level(p)].append(lab)
        cells = [
            f"{k} {len(v)} hits, {sum(v) / len(v):.2f} relevant" if v else f"{k} 0"
            for k, v in counts.items()
        ]
        mean = f"mean P {sum(probs) / len(probs):.3f}, {sum(y) / len(y):.3f} relevant"
        print(f"{name}: " + "; ".join(cells) + f" ({mean})")
    if args.write:
        params = json.loads(PARAMS_FILE.read_text(encoding="utf-8"))
        params["calibration"] = calib
        PARAMS_FILE.write_text(json.dumps(params, ensure_ascii=False, indent=2) + "\n", "utf-8")
        load_params()
    return 0


if __name__ == "__main__":
    sys.exit(main())
