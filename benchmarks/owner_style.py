"""How much of Chinese owner retrieval a signal that sees no subject at all can do.

    nice -n 5 .venv/bin/python benchmarks/owner_style.py ../shared/bench/dev/zh-owner-* \
        ../shared/bench/dev/xlref-* [--out DIR]

The owner suites (a held-out patent against the profiles of its owner and the other firms) are
the ones where the issue-11 bar of 1.15 × plain BM25 is not met. This script asks what they
reward besides the subject. Every run of Han characters that are not function characters is
masked to one `X`, digits and Latin letters to `0`. What is left is the drafting style:
所述…的, 一种…, 其特征在于, punctuation and how clauses are joined. Each text becomes a tf-idf
vector (1 + ln tf) over the character 3-, 4- and 5-grams of that skeleton, and queries are
ranked by cosine.

It prints nDCG@10 and R@10 for plain BM25, the engine, style alone, and the engine's
max-normalised score plus w × style (the style cosine scaled by its maximum). It writes
benchmarks/results/owner_style.json. The signal is a measurement and is not in the engine:
matching a patent to a firm because their texts are drafted alike is what a platform user
does not want.
"""

from __future__ import annotations

import math
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality_ceiling import BAR, plain_run, run_suites  # noqa: E402

from shuanglian.engine.evaluate import read_qrels, run_suite, score_run, suite_info, suite_rows  # noqa: E402

# Characters that carry how a patent is written rather than what it is about.
FUNCTION_CHARS = frozenset(
    "的了和与及或在对将所其该为于以由被把从并且而使得用通过进行包括设置连接一个多个第上下内外中间之是有可"
)
NGRAMS = (3, 4, 5)
WEIGHTS = (0.25, 0.5, 1.0)


def skeleton(text: str) -> str:
    """The text with its subject masked: content Han runs → X, Latin and digits → 0."""
    out: list[str] = []
    for ch in text:
        if ch in FUNCTION_CHARS:
            out.append(ch)
        elif "\u4e00" <= ch <= "\u9fff":
            out.append("X")
        elif ch.isalnum():
            out.append("0")
        elif not ch.isspace():
            out.append(ch)
    return re.sub("X+", "X", re.sub("0+", "0", "".join(out)))


def style_counts(text: str) -> Counter[str]:
    s = skeleton(text)
    return Counter(s[i : i + n] for n in NGRAMS for i in range(len(s) - n + 1))


def cosine_matrix(queries: list[Counter[str]], docs: list[Counter[str]]) -> np.ndarray:
    """(queries × docs) cosine of 1 + ln tf vectors weighted by the documents' smoothed idf."""
    vocab: dict[str, int] = {}
    for c in docs:
        for gram in c:
            vocab.setdefault(gram, len(vocab))

    def matrix(counts: list[Counter[str]]) -> sparse.csr_matrix:
        rows, cols, vals = [], [], []
        for i, c in enumerate(counts):
            for gram, tf in c.items():
                j = vocab.get(gram)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
                    vals.append(1.0 + math.log(tf))
        return sparse.csr_matrix((vals, (rows, cols)), shape=(len(counts), len(vocab)))

    d, q = matrix(docs), matrix(queries)
    df = np.asarray((d > 0).sum(axis=0)).ravel()
    idf = sparse.diags(np.log((1 + len(docs)) / (1 + df)) + 1.0)

    def unit(m: sparse.csr_matrix) -> sparse.csr_matrix:
        m = (m @ idf).tocsr()
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        return sparse.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ m

    return np.asarray((unit(q) @ unit(d).T).todense())


def measure(path: Path) -> dict[str, Any]:
    info = suite_info(path)
    qrels = read_qrels(path / "qrels" / "test.tsv")
    corpus = list(suite_rows(path / "corpus.jsonl"))
    queries = [q for q in suite_rows(path / "queries.jsonl") if q["_id"] in qrels]
    doc_ids = [d["_id"] for d in corpus]
    column = {d: j for j, d in enumerate(doc_ids)}

    def text(r: dict[str, Any]) -> str:
        return f"{r.get('title') or ''} {r.get('text') or ''}"

    style = cosine_matrix(
        [style_counts(text(q)) for q in queries], [style_counts(text(d)) for d in corpus]
    )
    engine, _ = run_suite(path)
    alone = {
        q["_id"]: {doc_ids[j]: float(style[i, j]) for j in np.argsort(-style[i])[:100]}
        for i, q in enumerate(queries)
    }

    def scored(run: dict[str, dict[str, float]]) -> dict[str, float]:
        s = score_run(run, qrels)
        return {"nDCG@10": s["nDCG@10"], "R@10": s["R@10"]}

    plain = scored(plain_run(path, chinese=True))
    result: dict[str, Any] = {
        **info,
        "queries": len(queries),
        "plain BM25": plain,
        "target nDCG@10": round(BAR * plain["nDCG@10"], 3),
        "engine": scored(engine),
        "style alone": scored(alone),
    }
    for w in WEIGHTS:
        fused: dict[str, dict[str, float]] = {}
        for i, q in enumerate(queries):
            hits = engine.get(q["_id"]) or {}
            top = max(hits.values(), default=1.0) or 1.0
            top_style = float(style[i].max()) or 1.0
            fused[q["_id"]] = {
                d: s / top + w * float(style[i, column[d]]) / top_style for d, s in hits.items()
            }
        result[f"engine + {w} × style"] = scored(fused)
    return result


def main() -> None:
    run_suites(measure, "owner_style.json", __doc__)


if __name__ == "__main__":
    main()
