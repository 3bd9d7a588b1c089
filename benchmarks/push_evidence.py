"""What the push rule "no evidence, no push" does to a push list, on the judged business-scope
suites (benchmarks/scope_suite.py).

    .venv/bin/python benchmarks/push_evidence.py /tmp/scope/*

For each query, the engine's top 30 (a push round's overfetch for 10 slots) are explained as a
push is (`engine.reasons.describe`, both texts); the list a round would push is the first 10
with evidence (a specific shared word, a shared patent class or an industry link), against the
plain top 10 pushed before. Prints, per suite: the top-10 hits without evidence and how many of
them were judged relevant (grade ≥ 1) or right on (grade 2); the pairs each list pushes and the
share of them judged relevant; precision@10 (grade ≥ 1) and nDCG@10 of both lists, counting an
unjudged pair as not relevant (a floor); and how many of the refilled pairs are unjudged
(`--unjudged FILE` writes them, to be graded by reading and added to benchmarks/judged/). Writes
benchmarks/results/push_evidence.json.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from shuanglian.engine.evaluate import read_qrels, record_from_beir, suite_info, suite_rows
from shuanglian.engine.matcher import Matcher
from shuanglian.engine.reasons import describe

OUT = Path(__file__).parent / "results" / "push_evidence.json"
SLOTS = 10
OVERFETCH = 3  # as inventory.push asks per slot


def _ndcg(grades: list[int], ideal: list[int]) -> float:
    dcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades[:SLOTS]))
    best = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(sorted(ideal)[::-1][:SLOTS]))
    return dcg / best if best else 0.0


def suite(path: Path, unjudged: list[dict[str, str]]) -> dict[str, Any]:
    qrels = read_qrels(path / "qrels" / "test.tsv")
    corpus = [record_from_beir(r) for r in suite_rows(path / "corpus.jsonl")]
    texts = {d.id: "\n".join(p for p in (d.title, d.text) if p) for d in corpus}
    matcher = Matcher.build(corpus)
    queries = [record_from_beir(r) for r in suite_rows(path / "queries.jsonl")]
    queries = [q for q in queries if q.id in qrels]
    ranked = matcher.search_many(queries, top=SLOTS * OVERFETCH, explain=True)
    top_no_evidence = top_no_evidence_relevant = top_no_evidence_right = 0
    refilled = refilled_unjudged = 0
    before_p = after_p = before_n = after_n = 0.0
    pushed_before = pushed_after = relevant_before = relevant_after = 0
    for q, hits in zip(queries, ranked, strict=True):
        judged = qrels[q.id]
        query_text = "\n".join(p for p in (q.title, q.text) if p)
        evidence = [
            describe(h.explanation, query_text=query_text, doc_text=texts[h.doc_id]).evidence
            for h in hits
        ]
        top = [h.doc_id for h in hits[:SLOTS]]
        pushed = [h.doc_id for h, ok in zip(hits, evidence, strict=True) if ok][:SLOTS]
        for did, ok in zip(top, evidence, strict=False):
            if not ok:
                top_no_evidence += 1
                top_no_evidence_relevant += judged.get(did, 0) >= 1
                top_no_evidence_right += judged.get(did, 0) >= 2
        new = [d for d in pushed if d not in top]
        refilled += len(new)
        refilled_unjudged += sum(d not in judged for d in new)
        unjudged += [
            {
                "suite": suite_info(path)["name"],
                "query_id": q.id,
                "doc_id": d,
                "query": query_text[:400],
                "doc": texts[d][:400],
            }
            for d in new
            if d not in judged
        ]
        before = [judged.get(d, 0) for d in top]
        after = [judged.get(d, 0) for d in pushed]
        pushed_before += len(before)
        pushed_after += len(after)
        relevant_before += sum(g >= 1 for g in before)
        relevant_after += sum(g >= 1 for g in after)
        before_p += sum(g >= 1 for g in before) / SLOTS
        after_p += sum(g >= 1 for g in after) / SLOTS
        ideal = list(judged.values())
        before_n += _ndcg(before, ideal)
        after_n += _ndcg(after, ideal)
    n = len(queries)
    return {
        "name": suite_info(path)["name"],
        "queries": n,
        "top10_hits": sum(min(SLOTS, len(h)) for h in ranked),
        "top10_without_evidence": top_no_evidence,
        "of_them_relevant": top_no_evidence_relevant,
        "of_them_grade_2": top_no_evidence_right,
        "refilled": refilled,
        "refilled_unjudged": refilled_unjudged,
        "pushed top 10": pushed_before,
        "pushed with evidence": pushed_after,
        "relevant share of pushed, top 10": round(relevant_before / max(pushed_before, 1), 4),
        "relevant share of pushed, with evidence": round(relevant_after / max(pushed_after, 1), 4),
        "P@10 top 10": round(before_p / n, 4),
        "P@10 with evidence": round(after_p / n, 4),
        "nDCG@10 top 10": round(before_n / n, 4),
        "nDCG@10 with evidence": round(after_n / n, 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("suites", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--unjudged", type=Path)
    args = parser.parse_args(argv)
    unjudged: list[dict[str, str]] = []
    results = [suite(p, unjudged) for p in args.suites]
    if args.unjudged:
        with args.unjudged.open("w", encoding="utf-8") as fh:
            for pair in unjudged:
                fh.write(json.dumps(pair, ensure_ascii=False) + "\n")
        print(f"{args.unjudged}: {len(unjudged)} pairs to judge")
    for r in results:
        print(json.dumps(r, ensure_ascii=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"suites": results}, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
