"""Benchmark: import the full 2002 registration sample (101,818 rows) on SQLite and PostgreSQL.

Each backend runs in its own child process so the peak RSS it reports is its own. A run is a
first import into an empty database followed by a re-import of the same file (every row
unchanged), the two things an operator does. Targets: first import ≤ 60 s on SQLite, ≤ 90 s on
PostgreSQL (2 shared CPU cores).

    .venv/bin/python benchmarks/import_enterprises.py [--file PATH] [--backend sqlite|postgresql]

Writes benchmarks/results/import_enterprises.json and prints a summary table. PostgreSQL is
reached through SHUANGLIAN_TEST_PG_ADMIN_URL (default postgres@127.0.0.1:5432, trust); a
throw-away database is created and dropped.
"""

from __future__ import annotations

import argparse
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
DEFAULT_FILE = ROOT.parent / "shared/data/samples/cn_enterprises_2002_business_scope.csv"
RESULTS = ROOT / "benchmarks/results/import_enterprises.json"
TARGET_S = {"sqlite": 60.0, "postgresql": 90.0}


def run_backend(backend: str, path: Path) -> dict[str, Any]:
    """Import `path` twice into a fresh database of `backend`; timings and counts."""
    from sqlalchemy import func, select

    import shuanglian.models  # noqa: F401  (registers every table)
    from shuanglian.db import Base, make_engine, make_session_factory, session_scope
    from shuanglian.enterprises.importers import import_enterprises
    from shuanglian.enterprises.models import Enterprise

    home = Path(tempfile.mkdtemp(prefix="bench-enterprises-"))
    settings, pg_name = scratch_settings(backend, home)
    engine = make_engine(settings)
    try:
        Base.metadata.create_all(engine)
        factory = make_session_factory(engine)
        runs: list[dict[str, Any]] = []
        for label in ("first_import", "reimport"):
            started = time.perf_counter()
            with session_scope(factory) as session:
                report = import_enterprises(session, path=path)
            wall = time.perf_counter() - started
            rows = report.inserted + report.updated + report.unchanged + report.rejected
            runs.append(
                {
                    "run": label,
                    "wall_s": round(wall, 2),
                    "rows": rows,
                    "rows_per_s": round(rows / wall),
                    "inserted": report.inserted,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "rejected": report.rejected,
                }
            )
        with session_scope(factory) as session:
            stored = session.scalar(select(func.count()).select_from(Enterprise))
    finally:
        engine.dispose()
        drop_scratch_database(pg_name)
    # ru_maxrss is KiB on Linux.
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    first = runs[0]
    return {
        "backend": backend,
        "batch_size": settings.import_batch_size,
        "runs": runs,
        "stored_rows": stored,
        "peak_rss_mib": round(peak_mib, 1),
        "target_s": TARGET_S[backend],
        "meets_target": first["wall_s"] <= TARGET_S[backend],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--backend", choices=sorted(TARGET_S), action="append")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    if args.child:
        json.dump(run_backend(args.backend[0], args.file), sys.stdout)
        return 0

    # The cores are shared: the load before the run says how much of the wall time is waiting.
    load_before = [round(x, 2) for x in os.getloadavg()]
    results = []
    for backend in args.backend or ["sqlite", "postgresql"]:
        child = subprocess.run(
            [sys.executable, __file__, "--child", "--backend", backend, "--file", str(args.file)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        result = json.loads(child.stdout)
        results.append(result)
        for run in result["runs"]:
            print(
                f"{backend:<10} {run['run']:<13} {run['wall_s']:>7.1f} s "
                f"{run['rows_per_s']:>7} rows/s  inserted {run['inserted']:>6} "
                f"unchanged {run['unchanged']:>6} rejected {run['rejected']:>4}  "
                f"peak RSS {result['peak_rss_mib']:.0f} MiB"
            )
    payload = {
        "benchmark": "import_enterprises",
        "file": args.file.name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_before": load_before,
        },
        "command": "python benchmarks/import_enterprises.py",
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"wrote {args.output}")
    return 0 if all(r["meets_target"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
