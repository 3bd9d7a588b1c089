"""Benchmark: signed-in users browse and log in while a 100k-row patent import runs (issue 10).

What the issue found: on SQLite every login and page view answered 500 "database is locked"
while an import ran. This runs that situation and counts the errors, on SQLite and PostgreSQL.

For each backend, on a fresh home (and a throw-away PostgreSQL database):

1. `shuanglian init` (migrations), one institution and `--accounts` staff accounts of it;
2. the server (`uvicorn`, one worker, as `shuanglian serve` runs it) on a free loopback port;
3. the import: `shuanglian import patents <file> --institution ...` in its own process (what an
   operator runs), of the recombined 100k-row CNIPA export of `benchmarks/import_patents.py`;
4. locust headless with `--users` `Member`s (benchmarks/locustfile.py: log in, browse the
   workspace, patent list and search, a patent, the API, the catalogue, log out and in every
   8 pages; think time `--wait`), started with the import and stopped when it ends, so every
   recorded request was answered while the import was writing.

An error is any failed request (5xx, a 4xx other than a missing patent's 404, a login that did
not sign in, a connection error) and any traceback in the server log. Target: 0 errors.

    .venv/bin/python benchmarks/web_load_during_import.py [--rows 100000] [--users 20]
        [--wait 1,2] [--accounts 10] [--backend sqlite|postgresql|both]

Writes benchmarks/results/web_load_during_import.json (requests, failures, p50/p95 per request
and backend, the import's time and report, load average) and prints one line per backend.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT, ROOT / "benchmarks"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from bench_db import drop_scratch_database, scratch_settings  # noqa: E402
from import_patents import WORK, build_file  # noqa: E402
from web_load import (  # noqa: E402
    LOCUSTFILE,
    machine_info,
    parse_stats_csv,
    server_cpu_seconds,
    start_server,
    stop_server,
)

RESULTS = ROOT / "benchmarks" / "results" / "web_load_during_import.json"
INSTITUTION = "负载测试大学"
PASSWORD = "load-test-Passw0rd"
WORD = re.compile(r"[A-Za-z]{5,}")


def search_terms(path: Path, sample: int = 20_000) -> dict[str, list[str]]:
    """Search words for the locust users: frequent and rare English title words of the file,
    and the first characters of its Chinese titles (terms.json's shape)."""
    words: Counter[str] = Counter()
    chinese: list[str] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh)):
            if n >= sample:
                break
            title = row["专利名称"]
            if n % 10 == 0:
                chinese.append(title[:4])
            else:
                words.update(w.lower() for w in WORD.findall(title))
    ranked = [w for w, _ in words.most_common()]
    return {
        "en_common": ranked[:40],
        "en_rare": ranked[-40:],
        "zh_title": sorted(set(chinese))[:40],
    }


def prepare_home(home: Path, url: str | None, accounts: int) -> list[tuple[str, str]]:
    """Migrate the fresh database and create the staff accounts; returns (name, password)."""
    from shuanglian.accounts.service import create_user
    from shuanglian.config import Settings
    from shuanglian.db import make_engine, make_session_factory, session_scope
    from shuanglian.migrate import upgrade_database

    settings = Settings(home=home, database_url=url)
    engine = make_engine(settings)
    try:
        upgrade_database(engine)
        names = [f"load{i:02d}" for i in range(accounts)]
        with session_scope(make_session_factory(engine, settings)) as session:
            for i, name in enumerate(names):
                create_user(
                    session,
                    username=name,
                    password=PASSWORD,
                    role="institution_staff",
                    institution_name=INSTITUTION,
                    create_institution=i == 0,
                )
                session.flush()
    finally:
        engine.dispose()
    return [(name, PASSWORD) for name in names]


def run_backend(backend: str, args: argparse.Namespace, file: Path) -> dict[str, Any]:
    """One backend: fresh database, server, import and locust together; the measured run."""
    with tempfile.TemporaryDirectory(prefix="load-import-") as tmp:
        work = Path(tmp)
        home = work / "home"
        settings, pg_name = scratch_settings(backend, home)
        url = settings.database_url if pg_name else None
        try:
            accounts = prepare_home(home, url, args.accounts)
            terms_path = work / "terms.json"
            terms_path.write_text(json.dumps(search_terms(file), ensure_ascii=False))
            server, base = start_server(home, url, workers=1, log=work / "server.log")
            try:
                result = _measure(args, file, work, home, url, base, accounts, terms_path, server)
            finally:
                stop_server(server)
            log_text = (work / "server.log").read_text(encoding="utf-8", errors="replace")
        finally:
            drop_scratch_database(pg_name)
    result["server_tracebacks"] = log_text.count("Traceback")
    result["server_log_errors"] = [
        line for line in log_text.splitlines() if "ERROR" in line or "Error:" in line
    ][:40]
    if result["server_tracebacks"] and args.keep_log:
        args.keep_log.mkdir(parents=True, exist_ok=True)
        (args.keep_log / f"server-{backend}.log").write_text(log_text, encoding="utf-8")
    stats = result["stats"].get("all", {})
    result["errors"] = (stats.get("failures") or 0) + result["server_tracebacks"]
    return {"backend": backend, **result}


def _measure(
    args: argparse.Namespace,
    file: Path,
    work: Path,
    home: Path,
    url: str | None,
    base: str,
    accounts: list[tuple[str, str]],
    terms_path: Path,
    server: subprocess.Popen[bytes],
) -> dict[str, Any]:
    env = dict(os.environ, SHUANGLIAN_HOME=str(home), PYTHONPATH=str(ROOT))
    env.pop("SHUANGLIAN_DATABASE_URL", None)
    if url:
        env["SHUANGLIAN_DATABASE_URL"] = url
    import_cmd = [
        sys.executable, "-c", "from shuanglian.cli.main import app; app()",
        "import", "patents", str(file),
        "--institution", INSTITUTION, "--json",
    ]  # fmt: skip
    locust_env = dict(
        env,
        SL_BENCH_TERMS=str(terms_path),
        SL_BENCH_LISTINGS=str(args.rows),  # Member draws patent ids up to this
        SL_BENCH_WAIT=args.wait,
        SL_BENCH_ACCOUNTS=",".join(f"{n}:{p}" for n, p in accounts),
    )
    prefix = work / "locust"
    locust_cmd = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "-u", str(args.users), "-r", str(args.users), "-t", "3600s", "--host", base,
        "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10",
        "Member",
    ]  # fmt: skip
    load_before = [round(x, 2) for x in os.getloadavg()]
    cpu_before = server_cpu_seconds(server.pid)
    with (work / "locust.log").open("wb") as locust_log:
        locust = subprocess.Popen(
            locust_cmd, cwd=ROOT, env=locust_env, stdout=locust_log, stderr=subprocess.STDOUT
        )
        started = time.monotonic()
        done = subprocess.run(import_cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        import_s = time.monotonic() - started
        # Locust writes its CSV files when it stops; SIGTERM stops it cleanly.
        locust.send_signal(signal.SIGTERM)
        try:
            locust.wait(timeout=60)
        except subprocess.TimeoutExpired:
            locust.kill()
            locust.wait(timeout=10)
    load_after = [round(x, 2) for x in os.getloadavg()]
    cpu_used = round(server_cpu_seconds(server.pid) - cpu_before, 1)
    if done.returncode != 0:
        raise RuntimeError(f"导入失败 (import failed): {done.stdout[-2000:]} {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    stats_file = prefix.with_name(prefix.name + "_stats.csv")
    if not stats_file.exists():
        log = (work / "locust.log").read_text(errors="replace")
        raise RuntimeError(f"locust 未产生统计 (locust wrote no stats): {log[-3000:]}")
    failures_file = prefix.with_name(prefix.name + "_failures.csv")
    failures = []
    if failures_file.exists():
        with failures_file.open(encoding="utf-8", newline="") as fh:
            failures = [
                {"name": r["Name"], "error": r["Error"][:300], "count": int(r["Occurrences"])}
                for r in csv.DictReader(fh)
            ]
    return {
        "import": {
            "seconds": round(import_s, 1),
            "report": {k: v for k, v in report.items() if not isinstance(v, list | dict)},
        },
        "load_avg_before": load_before,
        "load_avg_after": load_after,
        "server_cpu_seconds": cpu_used,
        "stats": parse_stats_csv(stats_file),
        "failures": failures[:20],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--accounts", type=int, default=10, help="staff accounts to share")
    parser.add_argument("--wait", default="1,2", help="think time between pages, 'min,max' s")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--keep-log", type=Path, help="folder to copy a server log with tracebacks into"
    )
    args = parser.parse_args(argv)
    file = build_file(args.rows, WORK / f"patents_cnipa_{args.rows}.csv")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    runs: list[dict[str, Any]] = []
    for backend in backends:
        run = run_backend(backend, args, file)
        runs.append(run)
        write_results(args, runs, argv)  # each backend's run is kept as soon as it is done
        overall = run["stats"].get("all", {})
        print(
            f"{backend}: import {run['import']['seconds']} s "
            f"({run['import']['report'].get('inserted')} inserted); "
            f"{overall.get('requests')} requests, {overall.get('failures')} failures, "
            f"p50 {overall.get('p50_ms')} ms, p95 {overall.get('p95_ms')} ms, "
            f"server tracebacks {run['server_tracebacks']}; load {run['load_avg_before'][0]}",
            flush=True,
        )
    return 0


def write_results(
    args: argparse.Namespace, runs: list[dict[str, Any]], argv: list[str] | None
) -> None:
    """The results JSON: the machine, parameters and every backend run so far."""
    args.output.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "web_load_during_import",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(
            [".venv/bin/python", "benchmarks/web_load_during_import.py", *(argv or sys.argv[1:])]
        ),
        "machine": machine_info(),
        "params": {
            "rows": args.rows,
            "users": args.users,
            "accounts": args.accounts,
            "think_time_s": args.wait,
        },
        "target": "0 errors",
        "errors": sum(run["errors"] for run in runs),
        "runs": runs,
    }
    args.output.write_text(
        json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    sys.exit(main())
