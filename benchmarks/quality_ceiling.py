"""How far a suite is from the issue-11 bar, and how far any re-ranker could take it.

    nice -n 5 .venv/bin/python benchmarks/quality_ceiling.py ../shared/bench/dev/xlref-* [--out DIR]

For each suite: plain BM25 (as benchmarks/quality.py) and the engine's fused run (exactly
`shuanglian eval`), the rank of each query's first relevant document in both (1, 2-3, 4-10,
beyond 10 or not found), the 1.15 x plain-BM25 target, and the nDCG@10 an oracle would reach by
re-ordering only the engine's top 10 / 20 / 100 (relevant documents first, by grade). When the
top-10 oracle is below the target, no re-ranking of what the engine already shows can meet it:
relevant documents must come up from further down. Writes quality_ceiling.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality import _zh_words  # noqa: E402

from shuanglian.engine.evaluate import read_qrels, run_suite, score_run, suite_info, suite_rows  # noqa: E402

BAR = 1.15


def plain_run(path: Path, *, chinese: bool) -> dict[str, dict[str, float]]:
    """The plain-BM25 reference run of benchmarks/quality.py, top 100 per query."""
    import bm25s
    import numpy as np
    import Stemmer

    corpus = list(suite_rows(path / "corpus.jsonl"))
    qrels = read_qrels(path / "qrels" / "test.tsv")
    queries = [q for q in suite_rows(path / "queries.jsonl") if q["_id"] in qrels]
    texts = [f"{d.get('title') or ''} {d.get('text') or ''}" for d in corpus]
    q_texts = [f"{q.get('title') or ''} {q.get('text') or ''}" for q in queries]
    model = bm25s.BM25()
    k = min(100, len(corpus))
    if chinese:
        model.index([_zh_words(t) for t in texts], show_progress=False)
        run = {}
        for q, text in zip(queries, q_texts, strict=True):
            s = model.get_scores(_zh_words(text))
            top = np.argsort(-s, kind="stable")[:k]
            run[q["_id"]] = {corpus[i]["_id"]: float(s[i]) for i in top if s[i] > 0}
        return run
    stem = Stemmer.Stemmer("english")
    model.index(
        bm25s.tokenize(texts, stopwords="en", stemmer=stem, show_progress=False),
        show_progress=False,
    )
    q_tok = bm25s.tokenize(q_texts, stopwords="en", stemmer=stem, show_progress=False)
    docs, scores = model.retrieve(q_tok, k=k, show_progress=False)
    return {
        q["_id"]: {corpus[int(d)]["_id"]: float(x) for d, x in zip(ds, ss, strict=True)}
        for q, ds, ss in zip(queries, docs, scores, strict=True)
    }


def first_ranks(run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]]) -> dict:
    hist = {"1": 0, "2-3": 0, "4-10": 0, ">10": 0}
    for qid, rel in qrels.items():
        ranked = sorted((run.get(qid) or {}).items(), key=lambda kv: -kv[1])
        pos = [r for r, (d, _) in enumerate(ranked, start=1) if rel.get(d, 0) > 0]
        first = pos[0] if pos else 999
        hist["1" if first == 1 else "2-3" if first <= 3 else "4-10" if first <= 10 else ">10"] += 1
    return hist


def oracle(run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]], depth: int) -> float:
    """nDCG@10 when the top `depth` of each query is re-ordered relevant-first."""
    out = {}
    for qid, docs in run.items():
        ranked = sorted(docs.items(), key=lambda kv: -kv[1])
        rel = qrels.get(qid, {})
        out[qid] = {
            d: s + (1000.0 * rel.get(d, 0) if r < depth else 0.0) for r, (d, s) in enumerate(ranked)
        }
    return score_run(out, qrels)["nDCG@10"]


def measure(path: Path) -> dict[str, Any]:
    info = suite_info(path)
    zh = info["query_language"].startswith("zh") or info["corpus_language"].startswith("zh")
    qrels = read_qrels(path / "qrels" / "test.tsv")
    plain = plain_run(path, chinese=zh)
    fused, _ = run_suite(path)
    base = score_run(plain, qrels)["nDCG@10"]
    return {
        **info,
        "queries": len(qrels),
        "relevant per query": round(sum(len(v) for v in qrels.values()) / len(qrels), 2),
        "plain BM25 nDCG@10": base,
        "fused nDCG@10": score_run(fused, qrels)["nDCG@10"],
        "target nDCG@10": round(BAR * base, 3),
        "first relevant rank, plain BM25": first_ranks(plain, qrels),
        "first relevant rank, fused": first_ranks(fused, qrels),
        "oracle re-order of fused top 10 / 20 / 100": [
            oracle(fused, qrels, k) for k in (10, 20, 100)
        ],
    }


def run_suites(
    measure_suite: Callable[[Path], dict[str, Any]], out_name: str, doc: str | None
) -> None:
    """The command line of the scripts that measure suites one by one (this one,
    owner_style.py): suite folders in, a JSON line per suite printed, all of them in
    `--out`/`out_name` with the command that made them."""
    ap = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    ap.add_argument("suites", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = ap.parse_args()
    out = []
    for path in args.suites:
        res = measure_suite(path)
        out.append(res)
        print(json.dumps(res, ensure_ascii=False), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / out_name).write_text(
        json.dumps({"command": " ".join(sys.argv), "suites": out}, ensure_ascii=False, indent=1)
        + "\n",
        encoding="utf-8",
    )


def main() -> None:
    run_suites(measure, "quality_ceiling.json", __doc__)


if __name__ == "__main__":
    main()
