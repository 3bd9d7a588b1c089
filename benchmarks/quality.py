"""Matching quality on BEIR-format suites: the baseline, each signal alone, and the fusion.

    .venv/bin/python benchmarks/quality.py ../shared/bench/dev/* [--out benchmarks/results]

The baseline is the issue's reference point: plain BM25 with bm25s's own tokenizer (English
stopwords, Snowball stemmer), title + text, no IPC. Every other row goes through
`shuanglian.engine.evaluate.evaluate_suites`, i.e. exactly what `shuanglian eval` runs, with
`--signals` restricted. Writes quality.md (the README table) and quality.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from shuanglian.engine.evaluate import (
    METRICS,
    _jsonl,
    evaluate_suites,
    read_qrels,
    score_run,
    suite_info,
)

ROWS: tuple[tuple[str, list[str] | None], ...] = (
    ("bm25 (engine tokenizer, phrases)", ["bm25"]),
    ("ipc alone", ["ipc"]),
    ("prior alone (silent: no industry codes in these suites)", ["prior"]),
    ("fused (bm25 + ipc + prior)", None),
)


def baseline(path: Path) -> dict[str, float]:
    """Plain bm25s: English stopwords, Snowball stemmer, title + text, no IPC."""
    import bm25s
    import Stemmer

    corpus = list(_jsonl(path / "corpus.jsonl"))
    queries = list(_jsonl(path / "queries.jsonl"))
    qrels = read_qrels(path / "qrels" / "test.tsv")
    queries = [q for q in queries if q["_id"] in qrels]
    stemmer = Stemmer.Stemmer("english")
    texts = [f"{d.get('title') or ''} {d.get('text') or ''}" for d in corpus]
    model = bm25s.BM25()
    model.index(
        bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
        show_progress=False,
    )
    q_tok = bm25s.tokenize(
        [q.get("text") or "" for q in queries], stopwords="en", stemmer=stemmer, show_progress=False
    )
    docs, scores = model.retrieve(q_tok, k=min(100, len(corpus)), show_progress=False)
    run = {
        q["_id"]: {corpus[int(d)]["_id"]: float(s) for d, s in zip(ds, ss, strict=True)}
        for q, ds, ss in zip(queries, docs, scores, strict=True)
    }
    return score_run(run, qrels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    table: list[dict[str, object]] = []
    for path in args.suites:
        name = suite_info(path)["name"]
        start = time.perf_counter()
        table.append(
            {
                "suite": name,
                "row": "baseline: plain bm25s",
                "metrics": baseline(path),
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
        for label, signals in ROWS:
            start = time.perf_counter()
            result = evaluate_suites([path], signals=signals)["suites"][0]
            table.append(
                {
                    "suite": name,
                    "row": label,
                    "metrics": result["metrics"],
                    "seconds": round(time.perf_counter() - start, 1),
                }
            )
    lines = [
        "| suite | run | " + " | ".join(METRICS) + " | s |",
        "|---|---|" + "---|" * (len(METRICS) + 1),
    ]
    for row in table:
        metrics = row["metrics"]
        assert isinstance(metrics, dict)
        lines.append(
            f"| {row['suite']} | {row['row']} | "
            + " | ".join(f"{metrics[m]:.3f}" for m in METRICS)
            + f" | {row['seconds']} |"
        )
    text = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.md").write_text(text, encoding="utf-8")
    (args.out / "quality.json").write_text(json.dumps(table, indent=1), encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
