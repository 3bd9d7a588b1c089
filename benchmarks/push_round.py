"""Benchmark: a push round over 100k pooled patents and 50k enterprises, SQLite and PostgreSQL.

What is timed is what an operator runs: `run_push_round` (shuanglian.inventory.push) with the
industry-link matcher over the shipped approximate IPC → GB/T 4754 link (`--matcher engine`:
the matching engine, its index build timed separately) — building the matcher,
walking the pool best-graded first, dropping already-pushed pairs and capped enterprises, and
writing every push with its explanation. A second round follows (`--rounds`, default 2), so
the "never push a pair twice" lookup runs against the first round's rows.

With the engine, a round ranks each chunk of 1,000 patents in one batched engine call (sparse
products and one argpartition per 64 queries, no per-patent database round trip) and explains
only the pairs it keeps after dedup and caps; the rankings are bit-identical to
`search_many(explain=True)` (tests/engine/test_matcher.py).

Data (real records, recombined; see benchmarks/corpus.py for sources and licences):
    patents      titles and IPC codes of the real Lens/USPTO/CNIPA records `corpus.load_sources`
                 reads, drawn with a fixed seed until there are N (so records repeat under
                 distinct application keys; the IPC mix is the real one)
    enterprises  the first M real 2002 registrations (name + 经营范围); the records carry no
                 industry, so a GB/T 4754 大类 is assigned from keywords in the business scope
                 (`SCOPE_KEYWORDS`, first match; unmatched enterprises get none and are never
                 pushed to) — an approximation for the benchmark only
    pool         every patent pooled; `assess_pool` (value indicators and grades, also timed)
                 sets the scores the round walks by, best first

Each backend runs in its own child process, so its peak RSS is its own.

    .venv/bin/python benchmarks/push_round.py [--patents 100000] [--enterprises 50000]
        [--per-patent 5] [--cap 20] [--matcher industry|engine] [--backend sqlite|postgresql]
        [--rounds 2] [--output benchmarks/results/push_round.json]

Writes benchmarks/results/push_round.json and prints a summary.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_db import drop_scratch_database, scratch_settings  # benchmarks/ is on sys.path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHUANGLIAN_SHARED", ROOT.parent / "shared"))
ENTERPRISES = SHARED / "data/samples/cn_enterprises_2002_business_scope.csv"
RESULTS = ROOT / "benchmarks/results/push_round.json"
SEED = 20240601
# Business-scope keyword → GB/T 4754-2017 大类 (first match wins; order puts specific first).
SCOPE_KEYWORDS = (
    ("软件", "I65"),
    ("信息技术", "I65"),
    ("网络", "I64"),
    ("通信", "C39"),
    ("计算机", "C39"),
    ("电子", "C39"),
    ("仪器", "C40"),
    ("仪表", "C40"),
    ("医疗器械", "C35"),
    ("医药", "C27"),
    ("药品", "C27"),
    ("电气", "C38"),
    ("电器", "C38"),
    ("电机", "C38"),
    ("汽车", "C36"),
    ("航空", "C37"),
    ("船舶", "C37"),
    ("化工", "C26"),
    ("塑料", "C29"),
    ("橡胶", "C29"),
    ("金属", "C33"),
    ("机械", "C34"),
    ("纺织", "C17"),
    ("服装", "C18"),
    ("食品", "C14"),
    ("建材", "C30"),
    ("环保", "N77"),
    ("农业", "A01"),
    ("建筑", "E48"),
)
BATCH = 5000


def _industry(scope: str) -> str | None:
    for word, code in SCOPE_KEYWORDS:
        if word in scope:
            return code
    return None


def _load(engine: Any, n_patents: int, n_enterprises: int) -> dict[str, Any]:
    """Fill an empty database; returns counts and the seconds it took (not part of the round)."""
    import numpy as np
    from sqlalchemy import insert

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from corpus import load_sources

    from shuanglian.enterprises.models import Enterprise
    from shuanglian.inventory.models import PoolEntry
    from shuanglian.patents.models import Institution, Patent

    started = time.perf_counter()
    src = load_sources(SHARED)
    records = [(t, list(ipc)) for t, ipc in src.en_titles if ipc]
    records += [(t, list(ipc)) for t, _, ipc in src.zh_patents if ipc]
    rng = np.random.default_rng(SEED)
    picks = rng.integers(0, len(records), size=n_patents)
    with engine.begin() as conn:
        conn.execute(insert(Institution), [{"name": f"基准单位{i:02d}"} for i in range(1, 51)])
        ents, labelled = [], 0
        with ENTERPRISES.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if len(ents) == n_enterprises:
                    break
                code = _industry(row["经营范围"])
                labelled += code is not None
                ents.append(
                    {
                        "name": row["企业名称"],
                        "business_scope": row["经营范围"],
                        "industry_code": code,
                        "province": row["所在省份"],
                    }
                )
        for i in range(0, len(ents), BATCH):
            conn.execute(insert(Enterprise), ents[i : i + BATCH])
        for start in range(0, n_patents, BATCH):
            rows = []
            for i in range(start, min(start + BATCH, n_patents)):
                title, ipc = records[int(picks[i])]
                rows.append(
                    {
                        "id": i + 1,
                        "application_key": f"BENCH{i:08d}",
                        "application_number": f"BENCH{i:08d}",
                        "title": title,
                        "search_text": title,
                        "main_ipc": ipc[0],
                        "ipc_codes": ipc,
                        "legal_status": "有权",
                        "institution_id": 1 + i % 50,
                        "applicants": [],
                        "inventors": [],
                        "cpc_codes": [],
                    }
                )
            conn.execute(insert(Patent), rows)
            conn.execute(
                insert(PoolEntry),
                [
                    {"patent_id": r["id"], "institution_id": r["institution_id"], "active": True}
                    for r in rows
                ],
            )
    return {
        "patents": n_patents,
        "enterprises": len(ents),
        "enterprises_with_industry": labelled,
        "load_s": round(time.perf_counter() - started, 1),
    }


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """Load a fresh database of `backend`, then time two push rounds."""
    from sqlalchemy import func, select

    import shuanglian.models  # noqa: F401  (registers every table)
    from shuanglian.db import Base, make_engine, make_session_factory, session_scope
    from shuanglian.inventory.indicators import assess_pool
    from shuanglian.inventory.models import Push
    from shuanglian.inventory.push import engine_matcher, industry_matcher, run_push_round
    from shuanglian.reference.industry_link import industries_for_ipc

    home = Path(tempfile.mkdtemp(prefix="bench-push-"))
    settings, pg_name = scratch_settings(backend, home)
    engine = make_engine(settings)
    try:
        Base.metadata.create_all(engine)
        data = _load(engine, args.patents, args.enterprises)
        rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        factory = make_session_factory(engine)
        started = time.perf_counter()
        with session_scope(factory) as session:
            grades = assess_pool(session, industry_link=industries_for_ipc)
        assess = {"wall_s": round(time.perf_counter() - started, 1), "grades": grades}
        print(json.dumps({"data": data, "assess_pool": assess}), file=sys.stderr, flush=True)
        index = None
        if args.matcher == "engine":
            from shuanglian.matching.service import build_index

            started = time.perf_counter()
            with session_scope(factory) as session:
                built = build_index(session, settings=settings)
            index = {"wall_s": round(time.perf_counter() - started, 1), "built": built}
            print(json.dumps({"build_index": index}), file=sys.stderr, flush=True)
        rounds = []
        for label in ("first_round", "second_round", "third_round")[: args.rounds]:
            started = time.perf_counter()
            with session_scope(factory) as session:
                if args.matcher == "engine":
                    matcher = engine_matcher(session, settings=settings)
                else:
                    matcher = industry_matcher(session, industry_link=industries_for_ipc)
                rnd = run_push_round(
                    session,
                    actor=None,
                    matcher=matcher,
                    per_patent=args.per_patent,
                    per_enterprise_cap=args.cap,
                    matcher_name=args.matcher,
                )
                row = {
                    "run": label,
                    "patents_considered": rnd.patents_considered,
                    "pushes_made": rnd.pushes_made,
                    "skipped_already_pushed": rnd.skipped_already_pushed,
                    "skipped_cap": rnd.skipped_cap,
                    "skipped_no_evidence": rnd.skipped_no_evidence,
                    "skipped_weak": rnd.skipped_weak,
                }
            wall = time.perf_counter() - started
            rounds.append(
                {
                    **row,
                    "wall_s": round(wall, 1),
                    "patents_per_s": round(row["patents_considered"] / wall),
                }
            )
            print(json.dumps(rounds[-1]), file=sys.stderr, flush=True)  # progress
        with session_scope(factory) as session:
            # No pair can be stored twice: (patent_id, enterprise_id) is a unique constraint.
            stored = session.scalar(select(func.count()).select_from(Push))
    finally:
        engine.dispose()
        drop_scratch_database(pg_name)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "backend": backend,
        "matcher": args.matcher,
        "build_index": index,
        "data": data,
        "per_patent": args.per_patent,
        "cap": args.cap,
        "assess_pool": assess,
        "rounds": rounds,
        "pushes_stored": stored,
        "peak_rss_mib_after_load": round(rss_after_load, 1),
        "peak_rss_mib": round(peak, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--patents", type=int, default=100_000)
    parser.add_argument("--enterprises", type=int, default=50_000)
    parser.add_argument("--per-patent", type=int, default=5)
    parser.add_argument("--cap", type=int, default=20)
    parser.add_argument("--matcher", choices=("industry", "engine"), default="industry")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--rounds", type=int, choices=(1, 2, 3), default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.child:
        json.dump(run_backend(args.backend[0], args), sys.stdout)
        return 0
    results = []
    for backend in args.backend or ["sqlite", "postgresql"]:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--backend",
            backend,
            "--patents",
            str(args.patents),
            "--enterprises",
            str(args.enterprises),
            "--per-patent",
            str(args.per_patent),
            "--cap",
            str(args.cap),
            "--matcher",
            args.matcher,
            "--rounds",
            str(args.rounds),
        ]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        if proc.returncode != 0:
            return 1
        res = json.loads(proc.stdout)
        results.append(res)
        print(
            f"{backend:10s} assess_pool  {res['assess_pool']['wall_s']:7.1f} s  "
            f"grades {res['assess_pool']['grades']}"
        )
        for r in res["rounds"]:
            print(
                f"{backend:10s} {r['run']:12s} {r['wall_s']:7.1f} s  "
                f"{r['patents_per_s']:6d} patents/s  pushes {r['pushes_made']:7d}  "
                f"peak RSS {res['peak_rss_mib']:.0f} MiB"
            )
    out = {
        "benchmark": "push_round",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "command": "python benchmarks/push_round.py " + " ".join(argv or sys.argv[1:]),
        "matcher": args.matcher,
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
