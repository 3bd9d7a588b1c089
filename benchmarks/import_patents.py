"""Benchmark: import a 100k-row CNIPA-style export on SQLite and PostgreSQL.

The file is built from real texts only, recombined (fixed seed, same bytes on every machine):

* titles: the 10,803 + 490 real titles of `shared/bench/dev/*/corpus.jsonl` (Lens.org drone
  patents and firm names are skipped — only `metadata.kind == "patent"` rows) plus the 10 real
  CNIPA titles of `shared/data/samples/cn_patents_research_institute_sample10.csv`; row i takes
  title i mod n, so every title recurs ~9 times, and a row number suffix keeps them distinct;
* abstracts: for a Chinese row, 1–3 sentences (split on 。) of the real CNIPA abstracts; for an
  English row, 2–5 other real titles joined as sentences (the dev corpus has no abstracts),
  which gives abstracts of realistic length (200–600 characters);
* IPC codes: the real codes of the title's record;
* numbers: valid new-style CN application numbers (year 2004–2023, type digit 1/2/3, serial
  = row index, correct mod-11 check digit) and matching publication numbers; one row in ten is
  Chinese (the CNIPA sample is small), which also exercises OpenCC in `search_text`.

Each backend runs in its own child process so its peak RSS is its own. A run is a first
import into an empty database, then a re-import of the same file (all unchanged) — what an
operator does. Targets: first import ≤ 60 s on SQLite, ≤ 90 s on PostgreSQL (2 shared cores).

    .venv/bin/python benchmarks/import_patents.py [--rows 100000] [--backend sqlite|postgresql]

Writes benchmarks/results/import_patents.json and prints one line per run. PostgreSQL is
reached through SHUANGLIAN_TEST_PG_ADMIN_URL (default postgres@127.0.0.1:5432, trust); a
throw-away database is created and dropped.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench_db import (  # benchmarks/ is on sys.path
    drop_scratch_database,
    run_per_backend,
    scratch_settings,
    write_results,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CN_SAMPLE = SHARED / "data/samples/cn_patents_research_institute_sample10.csv"
WORK = ROOT / "benchmarks/work"
RESULTS = ROOT / "benchmarks/results/import_patents.json"
TARGET_S = {"sqlite": 60.0, "postgresql": 90.0}
HEADER = ["申请号", "公开号", "申请日", "专利类型", "专利名称", "申请摘要", "申请人", "主分类号"]
HEADER += ["分类号", "法律状态", "专利转移次数", "许可次数"]
TYPES = (("1", "发明", "A"), ("2", "实用新型", "U"), ("3", "外观设计", "S"))
STATUSES = ("有权-审定授权", "无权-未缴年费", "审中-实质审查", "有权-审定授权")
APPLICANTS = ("中科大数据研究院", "某某大学", "某某理工大学;某某科技有限公司", "某某研究所")


def build_file(rows: int, path: Path) -> Path:
    """Write the recombined CNIPA-style CSV (see module docstring); reused if present."""
    from shuanglian.patents.numbers import cn_check_digit

    if path.exists():
        return path
    english: list[tuple[str, list[str]]] = []
    for corpus in sorted((SHARED / "bench/dev").glob("*/corpus.jsonl")):
        with corpus.open(encoding="utf-8") as fh:
            for line in fh:
                doc = json.loads(line)
                if doc.get("metadata", {}).get("kind") == "patent" and doc.get("title"):
                    english.append((doc["title"], doc["metadata"].get("ipc") or []))
    with CN_SAMPLE.open(encoding="utf-8", newline="") as fh:
        chinese = list(csv.DictReader(fh))
    sentences = [s + "。" for r in chinese for s in r["申请摘要"].split("。") if s.strip()]
    rng = random.Random(20240601)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(rows):
            year = 2004 + i % 20
            digit, type_zh, kind = TYPES[i % 3]
            serial = f"{year}{digit}{i:07d}"
            filed = date(year, 1, 1) + timedelta(days=rng.randrange(365))
            if i % 10 == 0:
                source = chinese[i // 10 % len(chinese)]
                title = f"{source['专利名称']}（{i}）"
                abstract = "".join(rng.sample(sentences, rng.randint(1, 3)))
                ipc = source["分类号"].split(";")
            else:
                title, codes = english[i % len(english)]
                title = f"{title} ({i})"
                abstract = ". ".join(t for t, _ in rng.sample(english, rng.randint(2, 5))) + "."
                ipc = codes
            writer.writerow(
                [
                    f"CN{serial}.{cn_check_digit(serial)}",
                    f"CN{100000000 + i}{kind}",
                    filed.strftime("%Y%m%d"),
                    type_zh,
                    title,
                    abstract,
                    APPLICANTS[i % len(APPLICANTS)],
                    ipc[0] if ipc else "",
                    ";".join(ipc),
                    STATUSES[i % len(STATUSES)],
                    str(i % 3),
                    str(i % 2),
                ]
            )
    tmp.replace(path)
    return path


def run_backend(backend: str, path: Path) -> dict[str, Any]:
    """Import `path` twice into a fresh database of `backend`; timings and counts."""
    from sqlalchemy import func, select

    import shuanglian.models  # noqa: F401  (registers every table)
    from shuanglian.db import Base, make_engine, make_session_factory, session_scope
    from shuanglian.patents.importers import import_patents
    from shuanglian.patents.models import Patent

    home = Path(tempfile.mkdtemp(prefix="bench-patents-"))
    settings, pg_name = scratch_settings(backend, home)
    engine = make_engine(settings)
    try:
        Base.metadata.create_all(engine)
        factory = make_session_factory(engine)
        runs = []
        for label in ("first_import", "reimport"):
            started, cpu_started = time.perf_counter(), time.process_time()
            with session_scope(factory) as session:
                report = import_patents(session, path=path, institution="中科大数据研究院")
            wall = time.perf_counter() - started
            # CPU seconds of this process (the database server's own work is not included);
            # on a shared machine wall >> cpu means the import was waiting for a core.
            cpu = time.process_time() - cpu_started
            rows = report.inserted + report.updated + report.unchanged + report.rejected
            runs.append(
                {
                    "run": label,
                    "wall_s": round(wall, 2),
                    "cpu_s": round(cpu, 2),
                    "rows": rows,
                    "rows_per_s": round(rows / wall),
                    "inserted": report.inserted,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "rejected": report.rejected,
                }
            )
        with session_scope(factory) as session:
            stored = session.scalar(select(func.count(Patent.id)))
    finally:
        engine.dispose()
        drop_scratch_database(pg_name)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "backend": backend,
        "runs": runs,
        "stored": stored,
        "peak_rss_mib": round(peak_mib, 1),
        "target_s": TARGET_S[backend],
        "meets_target": runs[0]["wall_s"] <= TARGET_S[backend],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = WORK / f"patents_cnipa_{args.rows}.csv"
    if args.child:
        print(json.dumps(run_backend(args.backend, path)))
        return 0
    build_file(args.rows, path)
    backends = [args.backend] if args.backend else ["sqlite", "postgresql"]
    results = run_per_backend(__file__, args.rows, backends)
    for backend, result in zip(backends, results, strict=True):
        for run in result["runs"]:
            print(
                f"{backend:10s} {run['run']:12s} {run['rows']:>7d} rows  {run['wall_s']:7.2f} s  "
                f"(cpu {run['cpu_s']:.1f} s)  "
                f"{run['rows_per_s']:>6d} rows/s  peak RSS {result['peak_rss_mib']} MiB",
                flush=True,
            )
    write_results(
        RESULTS,
        benchmark="import_patents",
        root=ROOT,
        file=path,
        rows=args.rows,
        default_rows=100_000,
        results=results,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
