"""Benchmark: the national-scale bulk push, its Ray twin, and quality at scale (issue 16).

What is timed, per size and backend (each backend in its own child process, so peak memory is
its own):
    load_s    writing the patents, the pool and the enterprises (COPY on PostgreSQL, batched
              executemany on SQLite) — data preparation, not part of the push
    index_s   `build_index` (both memory-mapped indexes, from the database; the two built at
              once in two processes when `--workers` is 2 or more)
    job_s     `run_bulk_job`: every pooled patent → top-k enterprises (cap and never-twice
              rules, written as pushes) and every enterprise → top-k pooled patents, with
              `--workers` processes sharing the index; shards committed one by one
    wall_s    index_s + job_s: the push, end to end, from a loaded database
    cpu_s     CPU seconds (user + system) of the index build and the job, this process and
              its worker processes (the database server's own CPU is not in it): on a shared
              machine the wall time measures the neighbours too; cpu_s / cores is what the
              push would take on an idle machine with its cores busy, and is reported as that
              (a projection), next to the load average before and after the run
    memory    the job's peak over the child and all its workers: summed RSS and summed PSS
              (shared index pages counted once — what the machine really needs), against the
              stated budget; plus the child's own peak RSS (ru_maxrss)

Data: `benchmarks/scale_mix.py` (real Chinese and English records recombined, seed 16): every
patent is pooled (the issue's "940k pooled patents"), with a drawn score the push walks by.

`--ray` (small sizes): the same job on a local Ray cluster of two workers against one process
and against two worker processes, from copies of one loaded database and index — same top-k
ids and scores required, overhead stated. `--quality-background N`: the dev suites' nDCG@10
with their corpora embedded in N generated background documents of the corpus's kind (one
index per kind holding the background and every suite's corpus), next to the plain per-suite
numbers. The background is
Chinese only (CNKI/CNIPA patents and listings; registered enterprises and demands): the English
generators recombine the drones dev corpus itself, and near-copies of relevant documents under
other ids would measure duplicates, not scale. So for the English suites the background is a
weaker distractor than an English one of the same size would be.

    nice .venv/bin/python benchmarks/push_bulk.py --patents 940000 --enterprises 450000 \
        --backend both [--workers 2] [--top 20] [--cap 100] [--memory-budget-gb 16]
    nice .venv/bin/python benchmarks/push_bulk.py --ray --patents 5000 --enterprises 5000
    nice .venv/bin/python benchmarks/push_bulk.py --quality-background 100000

Results are merged into benchmarks/results/push_bulk.json (an entry per size and backend, the
Ray comparison and the quality table, each replaced when measured again).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "benchmarks"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from bench_db import drop_scratch_database, scratch_settings  # noqa: E402

RESULTS = ROOT / "benchmarks/results/push_bulk.json"
SEED = 16
BATCH = 20_000
BASE_TIME = datetime(2026, 11, 1, tzinfo=UTC)


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- data
def load_data(engine: Any, *, patents: int, enterprises: int, seed: int = SEED) -> dict[str, Any]:
    """Create the tables and write the generated rows in bulk; returns counts and seconds."""
    import numpy as np

    import shuanglian.models  # noqa: F401  (registers every table)
    from benchmarks.scale_data import search_form
    from benchmarks.scale_mix import generate_enterprises, generate_patents
    from shuanglian.db import Base
    from shuanglian.matching.bulk_store import bulk_write_rows

    started = time.perf_counter()
    Base.metadata.create_all(engine)
    sqlite = engine.dialect.name == "sqlite"

    def stamp(value: datetime) -> Any:
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else value

    def flag(value: bool) -> Any:
        return int(value) if sqlite else value

    now = stamp(BASE_TIME)
    n_inst = max(1, patents // 500)
    rng = np.random.default_rng(seed)
    scores = np.round(rng.uniform(30, 100, size=patents), 2)
    with engine.begin() as conn:
        bulk_write_rows(
            conn, "institutions", ("id", "name", "kind", "created_at", "updated_at"),
            [(i, f"基准单位{i:05d}", "university", now, now) for i in range(1, n_inst + 1)],
        )  # fmt: skip
    pat_cols = ("id", "application_key", "application_number", "title", "abstract",
                "search_text", "applicants", "inventors", "main_ipc", "ipc_codes", "cpc_codes",
                "language", "institution_id", "created_at", "updated_at")  # fmt: skip
    pool_cols = ("id", "patent_id", "institution_id", "active", "entered_at", "score",
                 "created_at", "updated_at")  # fmt: skip
    rows: list[tuple[Any, ...]] = []
    pool: list[tuple[Any, ...]] = []

    def flush() -> None:
        with engine.begin() as conn:
            bulk_write_rows(conn, "patents", pat_cols, rows)
            bulk_write_rows(conn, "inventory_pool", pool_cols, pool)
        rows.clear()
        pool.clear()

    for i, p in enumerate(generate_patents(patents, seed=seed), start=1):
        inst = 1 + (i - 1) % n_inst
        rows.append((
            i, f"BULK{i:09d}", f"BULK{i:09d}", p["title"], p["abstract"],
            search_form(p["title"]), "[]", "[]", p["ipc"][0] if p["ipc"] else None,
            json.dumps(p["ipc"]), "[]", p["lang"], inst, now, now,
        ))  # fmt: skip
        pool.append((i, i, inst, flag(True), now, float(scores[i - 1]), now, now))
        if len(rows) >= BATCH:
            flush()
            if i % 100_000 < BATCH:
                _say(f"  patents {i:,}/{patents:,}")
    flush()
    ent_cols = ("id", "name", "business_scope", "industry_code", "search_text", "created_at",
                "updated_at")  # fmt: skip
    with_industry = 0
    for i, e in enumerate(generate_enterprises(enterprises, seed=seed), start=1):
        with_industry += e["industry"] is not None
        rows.append((i, e["name"][:200], e["scope"], e["industry"], search_form(e["name"]),
                     now, now))  # fmt: skip
        if len(rows) >= BATCH:
            with engine.begin() as conn:
                bulk_write_rows(conn, "enterprises", ent_cols, rows)
            rows.clear()
    with engine.begin() as conn:
        bulk_write_rows(conn, "enterprises", ent_cols, rows)
        if not sqlite:
            for table in ("institutions", "patents", "inventory_pool", "enterprises"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    rows.clear()
    from shuanglian.db import refresh_statistics

    refresh_statistics(engine)
    return {
        "patents": patents,
        "enterprises": enterprises,
        "enterprises_with_industry": with_industry,
        "load_s": round(time.perf_counter() - started, 1),
    }


# --------------------------------------------------------------------------- one backend
def _cpu_s() -> float:
    """User + system CPU seconds of this process and its reaped children (the job's worker
    processes), not the database server's: on a shared machine this, not the wall time, says
    what the push itself costs."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _own_cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """Fresh database of `backend`: load, build the indexes, run the bulk job; the numbers."""
    from sqlalchemy import func, select

    from shuanglian.db import make_engine, make_session_factory, session_scope
    from shuanglian.inventory.models import Push
    from shuanglian.matching.bulk import BulkOptions, run_bulk_job
    from shuanglian.matching.models import BulkMatch
    from shuanglian.matching.service import build_index

    home = Path(tempfile.mkdtemp(prefix="bench-bulk-", dir=args.work))
    settings, pg_name = scratch_settings(backend, home)
    engine = make_engine(settings)
    try:
        _say(f"{backend}: loading {args.patents:,} patents, {args.enterprises:,} enterprises")
        data = load_data(engine, patents=args.patents, enterprises=args.enterprises)
        _say(f"{backend}: loaded in {data['load_s']} s; building the indexes")
        load_before = os.getloadavg()[0]
        cpu_start = _cpu_s()
        started = time.perf_counter()
        with session_scope(make_session_factory(engine)) as session:
            build_index(session, settings=settings, workers=min(2, args.workers))
        index_s = time.perf_counter() - started
        cpu_index = _cpu_s()
        _say(f"{backend}: indexes in {index_s:.1f} s; running the bulk job")
        last = [0.0]

        def progress(direction: str, done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] > 30 or done == total:
                last[0] = now
                _say(f"{backend}: {direction} {done:,}/{total:,}")

        options = BulkOptions(
            top=args.top,
            per_enterprise_cap=args.cap,
            shard_size=args.shard_size,
            workers=args.workers,
            memory_budget_gb=args.memory_budget_gb,
            weak_limit=args.weak_limit,
        )
        started = time.perf_counter()
        own_before = _own_cpu_s()
        report = run_bulk_job(engine, settings=settings, options=options, progress=progress)
        job_parent_cpu = _own_cpu_s() - own_before
        job_s = time.perf_counter() - started
        cpu_job = _cpu_s()  # the worker processes are reaped by now: counted as children
        with engine.connect() as conn:
            pushes = conn.execute(select(func.count()).select_from(Push)).scalar()
            recs = conn.execute(select(func.count()).select_from(BulkMatch)).scalar()
    finally:
        engine.dispose()
        drop_scratch_database(pg_name)
        shutil.rmtree(home, ignore_errors=True)
    queries = args.patents + args.enterprises
    return {
        "backend": backend,
        "patents": args.patents,
        "enterprises": args.enterprises,
        "wall_s": round(index_s + job_s, 1),
        "index_s": round(index_s, 1),
        "job_s": round(job_s, 1),
        "load_s": data["load_s"],
        "queries_per_s": round(queries / job_s, 1),
        "workers": report.workers,
        "executor": report.executor,
        "top": args.top,
        "weak_limit": args.weak_limit,
        "cap": args.cap,
        "pushes": pushes,
        "recommendations": recs,
        "skipped": report.skipped,
        "skipped_cap": report.skipped_cap,
        "skipped_no_evidence": report.skipped_no_evidence,
        "skipped_weak": report.skipped_weak,
        "status": report.status,
        "memory": report.memory,
        "child_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpu_s": round(cpu_job - cpu_start, 1),
        "index_cpu_s": round(cpu_index - cpu_start, 1),
        "job_cpu_s": round(cpu_job - cpu_index, 1),
        # The job's own process (reading queries, the push rules, writing) vs its workers.
        "job_parent_cpu_s": round(job_parent_cpu, 1),
        "load_average_1m_before": round(load_before, 2),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "enterprises_with_industry": data["enterprises_with_industry"],
    }


# --------------------------------------------------------------------------- Ray vs processes
def run_ray_comparison(args: argparse.Namespace) -> dict[str, Any]:
    """One loaded SQLite database and index, copied: two worker processes vs Ray (2 workers)."""
    from shuanglian.config import Settings
    from shuanglian.db import make_engine, make_session_factory, session_scope
    from shuanglian.matching.bulk import BulkOptions, run_bulk_job
    from shuanglian.matching.service import build_index

    work = Path(tempfile.mkdtemp(prefix="bench-ray-", dir=args.work))
    try:
        base = Settings(home=work / "process", database_url=None)
        engine = make_engine(base)
        load_data(engine, patents=args.patents, enterprises=args.enterprises)
        with session_scope(make_session_factory(engine)) as session:
            build_index(session, settings=base)
        engine.dispose()
        ray_home = Settings(home=work / "ray", database_url=None)
        shutil.copytree(base.home, ray_home.home)
        one_home = Settings(home=work / "one", database_url=None)
        shutil.copytree(base.home, one_home.home)
        out: dict[str, Any] = {"patents": args.patents, "enterprises": args.enterprises}
        stored = {}
        for label, settings, ray_address, workers in (
            ("one_process", one_home, None, 1),
            ("process", base, None, 2),
            ("ray", ray_home, "local", 2),
        ):
            engine = make_engine(settings)
            options = BulkOptions(
                top=args.top,
                per_enterprise_cap=args.cap,
                shard_size=args.shard_size,
                workers=workers,
                ray_address=ray_address,
            )
            cpu = _cpu_s()
            started = time.perf_counter()
            report = run_bulk_job(engine, settings=settings, options=options)
            wall = time.perf_counter() - started
            stored[label] = _results(engine)
            engine.dispose()
            out[label] = {"wall_s": round(wall, 1), "workers": report.workers,
                          "executor": report.executor,
                          # this process and reaped workers (Ray's own processes are not)
                          "cpu_s": round(_cpu_s() - cpu, 1),
                          "memory": report.memory, "status": report.status}  # fmt: skip
            _say(f"ray comparison: {label} {wall:.1f} s")
        out["identical"] = stored["process"] == stored["ray"] == stored["one_process"]
        out["rows_compared"] = sum(len(x) for x in stored["process"])
        out["ray_overhead"] = round(out["ray"]["wall_s"] / out["process"]["wall_s"] - 1, 3)
        out["ray_vs_one_process"] = round(
            out["ray"]["wall_s"] / out["one_process"]["wall_s"] - 1, 3
        )
        out["load_average_1m"] = round(os.getloadavg()[0], 2)
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _results(engine: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    from sqlalchemy import select

    from shuanglian.inventory.models import Push
    from shuanglian.matching.models import BulkMatch

    with engine.connect() as conn:
        pushes = [tuple(r) for r in conn.execute(
            select(Push.patent_id, Push.enterprise_id, Push.rank, Push.score)
            .order_by(Push.patent_id, Push.rank))]  # fmt: skip
        recs = [tuple(r) for r in conn.execute(
            select(BulkMatch.query_id, BulkMatch.rank, BulkMatch.doc_id, BulkMatch.score)
            .order_by(BulkMatch.query_id, BulkMatch.rank))]  # fmt: skip
    return pushes, recs


# --------------------------------------------------------------------------- quality at scale
def run_quality(background: int, *, suites_dir: Path) -> dict[str, Any]:
    """nDCG@10 per dev suite: alone, and inside `background` generated documents of its
    corpus's kind plus the other suites' corpora of that kind (one index per kind)."""
    from benchmarks.scale_mix import generate_enterprises, generate_patents
    from shuanglian.engine.evaluate import (
        read_qrels,
        record_from_beir,
        run_suite,
        score_run,
        suite_info,
        suite_rows,
    )
    from shuanglian.engine.matcher import Matcher
    from shuanglian.engine.records import Record

    suites = sorted(p for p in suites_dir.iterdir() if (p / "suite.json").exists())
    by_kind: dict[str, list[Path]] = {"patent": [], "enterprise": []}
    for path in suites:
        direction = suite_info(path)["direction"]
        by_kind["patent" if direction == "enterprise-to-patent" else "enterprise"].append(path)
    rows: list[dict[str, Any]] = []
    for kind, paths in by_kind.items():
        if not paths:
            continue

        def records(kind: str = kind, paths: list[Path] = paths) -> Any:
            if kind == "patent":
                # Chinese only: the English generators draw on the dev suites' own records (the
                # drones corpus), which would put near-copies of relevant documents in the
                # background under other ids.
                for i, p in enumerate(generate_patents(background, seed=SEED, zh_share=1.0)):
                    yield Record(id=f"bg:{i}", title=p["title"], text=p["abstract"],
                                 ipc=tuple(p["ipc"]))  # fmt: skip
            else:
                for i, e in enumerate(generate_enterprises(background, seed=SEED, en_share=0.0)):
                    yield Record(id=f"bg:{i}", title=e["name"], text=e["scope"],
                                 ipc=tuple(e["ipc"]), industry=e["industry"])  # fmt: skip
            for path in paths:
                for row in suite_rows(path / "corpus.jsonl"):
                    rec = record_from_beir(row)
                    yield Record(id=f"{path.name}/{rec.id}", title=rec.title, text=rec.text,
                                 ipc=rec.ipc, industry=rec.industry)  # fmt: skip

        started = time.perf_counter()
        matcher = Matcher.build(records())
        _say(f"quality: {kind} index of {len(matcher):,} documents in "
             f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        for path in paths:
            info = suite_info(path)
            qrels = read_qrels(path / "qrels" / "test.tsv")
            queries = [record_from_beir(r) for r in suite_rows(path / "queries.jsonl")]
            queries = [q for q in queries if q.id in qrels]
            hits = matcher.search_many(queries, top=100)
            prefix = f"{path.name}/"
            run = {
                q.id: {(h.doc_id[len(prefix):] if h.doc_id.startswith(prefix) else h.doc_id):
                       h.score for h in hs}
                for q, hs in zip(queries, hits, strict=True)
            }  # fmt: skip
            plain_run, plain_qrels = run_suite(path)
            plain = score_run(plain_run, plain_qrels)["nDCG@10"]
            embedded = score_run(run, qrels)["nDCG@10"]
            rows.append({"suite": info["name"], "direction": info["direction"],
                         "index_documents": len(matcher), "nDCG@10_plain": plain,
                         "nDCG@10_in_background": embedded,
                         "ratio": round(embedded / plain, 3) if plain else None})  # fmt: skip
            _say(f"quality: {info['name']} {plain:.4f} → {embedded:.4f}")
    return {"background": background, "suites": rows}


# --------------------------------------------------------------------------- main
def _merge(out: dict[str, Any], key: str, entries: list[dict[str, Any]], match: tuple) -> None:
    kept = [e for e in out.get(key, []) if not any(
        all(e.get(k) == n.get(k) for k in match) for n in entries)]  # fmt: skip
    out[key] = kept + entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--patents", type=int, default=10_000)
    parser.add_argument("--enterprises", type=int, default=10_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--cap", type=int, default=100)
    parser.add_argument(
        "--weak-limit",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="BulkOptions.weak_limit (default on; --no-weak-limit pushes weak pairs too)",
    )
    parser.add_argument("--shard-size", type=int, default=2000)
    parser.add_argument("--memory-budget-gb", type=float, default=16.0)
    parser.add_argument("--ray", action="store_true", help="Ray (2 workers) vs 1 and 2 processes")
    parser.add_argument("--quality-background", type=int, default=0, metavar="N")
    parser.add_argument("--suites", type=Path, default=ROOT.parent / "shared/bench/dev")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default /tmp)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.child:
        json.dump(run_backend(args.backend, args), sys.stdout)
        return 0
    out: dict[str, Any] = {}
    if args.output.exists():
        out = json.loads(args.output.read_text(encoding="utf-8"))
    out.update(
        benchmark="push_bulk",
        machine={
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },  # fmt: skip
    )
    command = "python benchmarks/push_bulk.py " + " ".join(argv or sys.argv[1:])
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    if args.ray:
        res = run_ray_comparison(args)
        res.update(command=command, measured_at=stamp)
        _merge(out, "ray_vs_processes", [res], ("patents", "enterprises"))
    elif args.quality_background:
        res = run_quality(args.quality_background, suites_dir=args.suites)
        res.update(command=command, measured_at=stamp)
        _merge(out, "quality_at_scale", [res], ("background",))
    else:
        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        entries = []
        for backend in backends:
            cmd = [sys.executable, __file__, "--child", "--backend", backend,
                   "--patents", str(args.patents), "--enterprises", str(args.enterprises),
                   "--workers", str(args.workers), "--top", str(args.top), "--cap", str(args.cap),
                   "--shard-size", str(args.shard_size),
                   "--memory-budget-gb", str(args.memory_budget_gb)]  # fmt: skip
            if args.work:
                cmd += ["--work", str(args.work)]
            cmd.append("--weak-limit" if args.weak_limit else "--no-weak-limit")
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
            if proc.returncode != 0:
                return 1
            res = json.loads(proc.stdout)
            res.update(command=command, measured_at=stamp,
                       load_average_1m=round(os.getloadavg()[0], 2))  # fmt: skip
            entries.append(res)
            print(f"{backend:10s} {res['patents']:>8,} × {res['enterprises']:>8,}  wall "
                  f"{res['wall_s']:8.1f} s (index {res['index_s']} s, job {res['job_s']} s, "
                  f"{res['queries_per_s']} queries/s)  PSS peak "
                  f"{res['memory']['peak_pss_mib']:.0f} MiB")  # fmt: skip
        _merge(out, "sizes", entries, ("patents", "enterprises", "backend"))
        out["sizes"].sort(key=lambda e: (e["patents"], e["enterprises"], e["backend"]))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
