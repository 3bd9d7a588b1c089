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
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shuanglian.engine.calibrate import (
    fit_calibration,
    level,
    match_probability,
    rescale_calibration,
)
from shuanglian.engine.evaluate import read_qrels, record_from_beir, suite_info, suite_rows
from shuanglian.engine.fusion import PARAMS_FILE, load_params
from shuanglian.engine.matcher import Matcher


def pairs(path: Path) -> tuple[list[dict[str, float]], list[int]]:
    """(evidence, relevant) of every top-10 hit of every judged query of one suite."""
    qrels = read_qrels(path / "qrels" / "test.tsv")
    matcher = Matcher.build(record_from_beir(r) for r in suite_rows(path / "corpus.jsonl"))
    queries = [record_from_beir(r) for r in suite_rows(path / "queries.jsonl")]
    queries = [q for q in queries if q.id in qrels]
    rows: list[dict[str, float]] = []
    labels: list[int] = []
    for q, hits in zip(queries, matcher.search_many(queries, top=10, explain=True), strict=True):
        for h in hits:
            assert h.explanation is not None
            rows.append(h.explanation.evidence)
            labels.append(int(qrels[q.id].get(h.doc_id, 0) > 0))
    return rows, labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("suites", nargs="+", type=Path)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--judged", nargs="*", type=Path, default=[])
    args = parser.parse_args(argv)
    data = {suite_info(p)["name"]: pairs(p) for p in args.suites}
    judged = {suite_info(p)["name"] + " (judged)": pairs(p) for p in args.judged}
    rows: list[dict[str, float]] = []
    labels: list[int] = []
    for r, y in data.values():
        # Equal weight per suite: repeat small suites' pairs up to the largest suite's count.
        reps = max(1, round(max(len(v[0]) for v in data.values()) / max(len(r), 1)))
        rows += r * reps
        labels += y * reps
    calib = fit_calibration(rows, labels)
    print("fitted:", json.dumps(calib))
    if judged:
        j_rows = [ev for r, _ in judged.values() for ev in r]
        j_labels = [lab for _, y in judged.values() for lab in y]
        j_weights = [1.0 / len(r) for r, _ in judged.values() for _ in r]
        calib = rescale_calibration(calib, j_rows, j_labels, j_weights)
        print("rescaled on the judged suites:", json.dumps(calib))
    for name, (r, y) in (data | judged).items():
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
