"""Matching quality on BEIR-format suites: plain BM25, each signal alone, the fusion, and the
cross-lingual and Traditional-Chinese checks of issue 11.

    .venv/bin/python benchmarks/quality.py ../shared/bench/dev/* [--out benchmarks/results]

The baseline is the issue's reference point, plain BM25 (bm25s), chosen by the suite's
languages (suite.json `query_language` / `corpus_language`, else `language`):

* English: bm25s's own tokenizer (English stopwords, Snowball stemmer), title + text, no IPC;
* Chinese (either side): bm25s over jieba words, one-character words and a short stopword list
  dropped (the data README's reference for the zh suites).

Every other row goes through `shuanglian.engine.evaluate.evaluate_suites`, i.e. exactly what
`shuanglian eval` runs. Extra rows:

* `fused, query IPC dropped` for suites whose query side is Chinese (a Chinese demand has no
  IPC code); `fused, corpus IPC dropped` for suites whose corpus side is Chinese;
* `fused, queries in Traditional (s2twp)`: the Chinese queries rewritten in Taiwan usage with
  OpenCC s2twp at test time; its ratio to the Simplified run is the Traditional check;
* for a cross-lingual suite (`cross_lingual_of`), its nDCG@10 as a share of plain BM25 on the
  all-Chinese twin (the twin must be among the suites given).

Writes quality.md (the README table) and quality.json (every suite's numbers, the plain-BM25
reference and the ratios).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from shuanglian.engine.evaluate import (
    METRICS,
    evaluate_suites,
    read_qrels,
    score_run,
    suite_info,
    suite_rows,
)
from shuanglian.engine.records import Record

# The short list the zh reference drops besides one-character words (function words and the
# commonest patent boilerplate); deliberately not the engine's own list.
ZH_BASELINE_STOP = frozenset(
    [
        "一种",
        "所述",
        "其中",
        "以及",
        "及其",
        "方法",
        "装置",
        "系统",
        "用于",
        "包括",
        "通过",
        "进行",
        "具有",
        "设置",
        "本发明",
        "提供",
        "实现",
        "根据",
        "一个",
        "多个",
        "其特征在于",
    ]
)
_PUNCT = re.compile(r"\W+")


def _zh_words(text: str) -> list[str]:
    import jieba

    return [
        w
        for w in jieba.lcut(text.lower())
        if len(w.strip()) > 1 and w not in ZH_BASELINE_STOP and not _PUNCT.fullmatch(w)
    ]


def zh_bm25_top(queries: list[str], docs: list[str], k: int) -> list[list[tuple[int, float]]]:
    """Plain bm25s over jieba words: for each query, its top `k` (document index, score) with
    a positive score, best first (the data README's Chinese reference)."""
    import bm25s
    import jieba

    jieba.setLogLevel(60)
    model = bm25s.BM25()
    model.index([_zh_words(t) for t in docs], show_progress=False)
    out = []
    for text in queries:
        scores = model.get_scores(_zh_words(text))
        top = np.argsort(-scores, kind="stable")[:k]
        out.append([(int(i), float(scores[i])) for i in top if scores[i] > 0])
    return out


def baseline(path: Path, *, chinese: bool) -> dict[str, float]:
    """Plain bm25s over title + text, no IPC: English tokenizer, or jieba words (`chinese`)."""
    import bm25s
    import Stemmer

    corpus = list(suite_rows(path / "corpus.jsonl"))
    queries = list(suite_rows(path / "queries.jsonl"))
    qrels = read_qrels(path / "qrels" / "test.tsv")
    queries = [q for q in queries if q["_id"] in qrels]
    texts = [f"{d.get('title') or ''} {d.get('text') or ''}" for d in corpus]
    q_texts = [f"{q.get('title') or ''} {q.get('text') or ''}" for q in queries]
    k = min(100, len(corpus))
    if chinese:
        run = {
            q["_id"]: {corpus[i]["_id"]: score for i, score in ranked}
            for q, ranked in zip(queries, zh_bm25_top(q_texts, texts, k), strict=True)
        }
        return score_run(run, qrels)
    stemmer = Stemmer.Stemmer("english")
    model = bm25s.BM25()
    model.index(
        bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
        show_progress=False,
    )
    q_tok = bm25s.tokenize(q_texts, stopwords="en", stemmer=stemmer, show_progress=False)
    docs, scores = model.retrieve(q_tok, k=k, show_progress=False)
    run = {
        q["_id"]: {corpus[int(d)]["_id"]: float(s) for d, s in zip(ds, ss, strict=True)}
        for q, ds, ss in zip(queries, docs, scores, strict=True)
    }
    return score_run(run, qrels)


def _traditional(query: Record) -> Record:
    import opencc

    conv = _converter(opencc)
    return replace(query, title=conv.convert(query.title), text=conv.convert(query.text))


_CONV: dict[str, Any] = {}


def _converter(opencc: Any) -> Any:
    if "s2twp" not in _CONV:
        _CONV["s2twp"] = opencc.OpenCC("s2twp")
    return _CONV["s2twp"]


def _engine(path: Path, **kwargs: Any) -> tuple[dict[str, float], float]:
    start = time.perf_counter()
    metrics = evaluate_suites([path], **kwargs)["suites"][0]["metrics"]
    return metrics, round(time.perf_counter() - start, 1)


def measure(path: Path) -> dict[str, Any]:
    """Every row for one suite, with the ratios the issue judges."""
    info = suite_info(path)
    q_zh = info["query_language"].startswith("zh")
    c_zh = info["corpus_language"].startswith("zh")
    rows: dict[str, dict[str, Any]] = {}
    start = time.perf_counter()
    base = baseline(path, chinese=q_zh or c_zh)
    rows["baseline: plain BM25"] = {
        "metrics": base,
        "seconds": round(time.perf_counter() - start, 1),
    }
    plan: list[tuple[str, dict[str, Any]]] = [
        ("bm25 (engine tokenizer, phrases, translations)", {"signals": ["bm25"]}),
        ("ipc alone", {"signals": ["ipc"]}),
        ("fused (bm25 + ipc + prior)", {}),
    ]
    if q_zh:
        plan.append(("fused, query IPC dropped", {"drop_ipc": "query"}))
        plan.append(("fused, queries in Traditional (s2twp)", {"query_transform": _traditional}))
    if c_zh:
        plan.append(("fused, corpus IPC dropped", {"drop_ipc": "corpus"}))
    for label, kwargs in plan:
        metrics, seconds = _engine(path, **kwargs)
        rows[label] = {"metrics": metrics, "seconds": seconds}
    fused = rows["fused (bm25 + ipc + prior)"]["metrics"]
    ratios: dict[str, float] = {}
    if base["nDCG@10"] > 0:
        ratios["nDCG@10 fused / plain BM25"] = round(fused["nDCG@10"] / base["nDCG@10"], 3)
    ratios["R@10 fused - plain BM25"] = round(fused["R@10"] - base["R@10"], 4)
    trad = rows.get("fused, queries in Traditional (s2twp)")
    if trad and fused["nDCG@10"] > 0:
        ratios["nDCG@10 Traditional / Simplified"] = round(
            trad["metrics"]["nDCG@10"] / fused["nDCG@10"], 3
        )
    return {**info, "rows": rows, "ratios": ratios}


def cross_lingual_shares(suites: list[dict[str, Any]]) -> None:
    """Add to each cross-lingual suite its nDCG@10 as a share of plain BM25 on its twin."""
    by_name = {s["name"]: s for s in suites}
    for suite in suites:
        twin = by_name.get(suite.get("cross_lingual_of", ""))
        if twin is None:
            continue
        ref = twin["rows"]["baseline: plain BM25"]["metrics"]["nDCG@10"]
        if ref <= 0:
            continue
        suite["twin_plain_bm25_nDCG@10"] = ref
        for label, key in (
            ("fused (bm25 + ipc + prior)", "share of twin plain BM25"),
            ("fused, query IPC dropped", "share of twin plain BM25, query IPC dropped"),
        ):
            if label in suite["rows"]:
                value = suite["rows"][label]["metrics"]["nDCG@10"]
                suite["ratios"][key] = round(value / ref, 3)


def markdown(suites: list[dict[str, Any]]) -> str:
    """The README tables: every row of every suite, then the judged ratios."""
    lines = [
        "| suite | run | " + " | ".join(METRICS) + " | s |",
        "|---|---|" + "---|" * (len(METRICS) + 1),
    ]
    for suite in suites:
        for label, row in suite["rows"].items():
            metrics = row["metrics"]
            lines.append(
                f"| {suite['name']} | {label} | "
                + " | ".join(f"{metrics[m]:.3f}" for m in METRICS)
                + f" | {row['seconds']} |"
            )
    lines += ["", "| suite | ratio | value |", "|---|---|---|"]
    for suite in suites:
        for key, value in suite["ratios"].items():
            lines.append(f"| {suite['name']} | {key} | {value} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("suites", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    suites = [measure(path) for path in args.suites]
    cross_lingual_shares(suites)
    text = markdown(suites)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.md").write_text(text, encoding="utf-8")
    (args.out / "quality.json").write_text(
        json.dumps({"suites": suites}, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
