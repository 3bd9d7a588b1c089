"""Benchmark: the supermarket catalogue and search under 20 concurrent users (issue 5, "Measure").

Data: `benchmarks/scale_data.py` fills (or reuses) a database with `--patents` realistic
patents, half of them pooled, and `--listings` listings (95% published); PostgreSQL through
COPY, SQLite through bulk inserts. Both databases are kept under their scale's name and reused
by the next run while the schema is unchanged (`--drop` removes the PostgreSQL one after).

Server: `uvicorn` on a free loopback port in its own process, `--workers 1` by default (as
`shuanglian serve` runs it; `--workers 2` gives each of the 2 cores a process).

Load: locust headless (`benchmarks/locustfile.py`), `--users` visitors spawned at once, each
waiting `--wait` seconds between pages; a `--warmup` run first (not recorded), then the
measured run of `--seconds`. Before the load, each request shape is timed alone (no
concurrency) and each catalogue query is timed and EXPLAINed through the service, so a slow
percentile can be told apart from queueing.

    .venv/bin/python benchmarks/web_load.py [--patents 1000000] [--listings 100000]
        [--users 20] [--seconds 60] [--warmup 10] [--workers 1] [--wait 1,2]
        [--backend sqlite|postgresql|both]
        [--output benchmarks/results/web_load.json]

Prints a table (p50/p95/p99 ms and requests/s per endpoint) and writes the JSON results with
machine info, load average before each run, database sizes and the command. Target: p95 ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "web_load.json"
LOCUSTFILE = ROOT / "benchmarks" / "locustfile.py"
# p95 targets by number of users: issue 5 (20 users), issue 10 (100 users, 0 failures too).
TARGET_P95_MS = {20: 200, 100: 100}
ENDPOINTS = (
    "catalogue",
    "catalogue filtered",
    "search",
    "api catalogue",
    "api search",
    "listing",
)


def app_from_env() -> Any:
    """uvicorn factory (`--factory benchmarks.web_load:app_from_env`): settings from the env.

    A factory by import string is what lets uvicorn start several workers.
    """
    from shuanglian.config import Settings
    from shuanglian.web.app import create_app

    return create_app(Settings())


# --------------------------------------------------------------------------- machine


def machine_info() -> dict[str, Any]:
    """CPU, memory and software versions of this machine, for the results file."""
    import sqlite3
    from importlib.metadata import version

    # Versions from the package metadata: importing locust would monkey-patch this process.

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        import psutil

        mem_gib = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": mem_gib,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": version("sqlalchemy"),
        "psycopg": version("psycopg"),
        "uvicorn": version("uvicorn"),
        "locust": version("locust"),
    }


def postgresql_version(url: str) -> str:
    """The server's version string (e.g. "15.8")."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- server


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    home: Path,
    url: str | None,
    *,
    workers: int,
    log: Path,
    extra_env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start uvicorn on a free loopback port and wait until /healthz answers.

    `extra_env` adds settings (`SHUANGLIAN_...`) for this server only.
    """
    port = free_port()
    env = dict(os.environ, SHUANGLIAN_HOME=str(home), PYTHONPATH=str(ROOT), **(extra_env or {}))
    # As `shuanglian serve` with SHUANGLIAN_WEB_WORKERS: the processes share the pool.
    env["SHUANGLIAN_WEB_WORKERS"] = str(workers)
    env.pop("SHUANGLIAN_DATABASE_URL", None)
    if url:
        env["SHUANGLIAN_DATABASE_URL"] = url
    cmd = [
        sys.executable, "-m", "uvicorn", "--factory", "benchmarks.web_load:app_from_env",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"服务未能启动 (server exited): {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError("服务 120 秒内未就绪 (server not ready in 120 s)")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the server we started (and its workers), killing it if it hangs."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the server process and its worker children so far."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            times = proc.cpu_times()
            total += times.user + times.system
    except psutil.NoSuchProcess:
        pass
    return round(total, 2)


def server_runqueue_wait_s(pid: int) -> float | None:
    """Seconds the server's threads (and its workers') have spent runnable but waiting for a
    CPU, from the kernel's schedstat; None where /proc has no schedstat.

    Against `server_cpu_seconds` it tells a server that waits for the machine (other
    processes hold the cores: run-queue wait ≫ CPU) from one that waits on itself (a pool,
    a lock: neither grows while requests are slow).
    """
    import psutil

    total = 0
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            for task in Path(f"/proc/{proc.pid}/task").iterdir():
                fields = (task / "schedstat").read_text().split()
                total += int(fields[1])
    except (psutil.NoSuchProcess, OSError, IndexError, ValueError):
        return None
    return round(total / 1e9, 1)


# --------------------------------------------------------------------------- measuring


def request_shapes(terms: dict[str, list[str]]) -> dict[str, str]:
    """One representative URL per request shape, for the unloaded timings."""
    industry = (terms.get("industries") or ["C39"])[0]

    def first(name: str, default: str) -> str:
        return (terms.get(name) or [default])[0]

    def q(term: str) -> str:
        return urlencode({"q": term})

    return {
        "catalogue p1": "/market",
        "catalogue p50": "/market?page=50",
        "catalogue filtered": "/market?" + urlencode({"mode": "licence", "trl_min": 5}),
        "catalogue industry": "/market?" + urlencode({"industry": industry, "sort": "popular"}),
        "search en common": "/market?" + q(first("en_common", "system")),
        "search en rare": "/market?" + q(first("en_rare", "welding")),
        "search zh title": "/market?" + q(first("zh_title", "无人机")),
        "search zh industry": "/market?" + q(first("zh_industry", "医药制造业")),
        "search no hit": "/market?" + q("石墨烯电池"),
        "api search": "/api/v1/listings?" + q(first("en_common", "system")),
        "listing": "/market/1",
    }


def unloaded_timings(base: str, shapes: dict[str, str], repeat: int = 5) -> dict[str, float]:
    """Median milliseconds of each URL fetched alone, one after another (after one warm-up)."""
    out: dict[str, float] = {}
    for name, path in shapes.items():
        samples = []
        for i in range(repeat + 1):
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(base + path, timeout=60) as response:
                    response.read()
            except urllib.error.HTTPError as exc:  # a draft listing's 404 still times the page
                exc.read()
            if i:
                samples.append((time.perf_counter() - started) * 1000)
        out[name] = round(statistics.median(samples), 1)
    return out


def query_profile(home: Path, url: str | None, terms: dict[str, list[str]]) -> list[dict]:
    """Time each catalogue query through the service alone and keep its SQL and plan.

    The plan is what the database chose for that exact statement (SQLite: EXPLAIN QUERY PLAN;
    PostgreSQL: EXPLAIN ANALYZE with buffers), so a slow shape can be traced to a scan.
    """
    from sqlalchemy import event

    import shuanglian.models  # noqa: F401
    from shuanglian.config import Settings
    from shuanglian.db import make_engine, make_session_factory
    from shuanglian.supermarket import catalogue_cache, service

    def first(name: str, default: str) -> str:
        return (terms.get(name) or [default])[0]

    cases: dict[str, dict[str, Any]] = {
        "catalogue p1": {},
        "catalogue p50": {"offset": 49 * 20},
        "filtered mode+trl": {"mode": "licence", "trl_min": 5},
        "filtered industry, popular": {
            "industry": first("industries", "C39"),
            "sort": "popular",
        },
        "search en common": {"q": first("en_common", "system")},
        "search en rare": {"q": first("en_rare", "welding")},
        "search zh title": {"q": first("zh_title", "无人机")},
        "search zh industry": {"q": first("zh_industry", "医药制造业")},
        "search no hit": {"q": "石墨烯电池"},
    }
    engine = make_engine(Settings(home=home, database_url=url))
    factory = make_session_factory(engine)
    captured: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):  # not SQLite's explicit BEGIN
            captured.append((statement, parameters))

    results = []
    try:
        for name, kwargs in cases.items():
            samples = []
            for i in range(4):
                if i == 1:
                    event.listen(engine, "before_cursor_execute", capture)
                # The database's own work each time: kept counts and pages are what the load
                # measures, not this profile.
                catalogue_cache.clear()
                with factory() as session:
                    started = time.perf_counter()
                    page = service.search_listings(session, limit=20, **kwargs)
                    samples.append((time.perf_counter() - started) * 1000)
                if i == 1:
                    event.remove(engine, "before_cursor_execute", capture)
            statements = list(captured)
            captured.clear()
            results.append(
                {
                    "case": name,
                    "params": kwargs,
                    "median_ms": round(statistics.median(samples[1:]), 1),
                    "total": page.total,
                    "total_capped": page.total_capped,
                    "statements": [
                        {"sql": sql, "plan": _explain(engine, sql, params)}
                        for sql, params in statements
                    ],
                }
            )
        # The filter menus: two DISTINCT scans, cached per process for FACET_TTL_S, so one
        # catalogue request per minute and worker pays for them.
        samples = []
        for _ in range(3):
            service._facet_cache.clear()
            with factory() as session:
                started = time.perf_counter()
                service.facet_values(session)
                samples.append((time.perf_counter() - started) * 1000)
        results.append(
            {
                "case": f"facet menus (uncached, every {service.FACET_TTL_S:.0f} s per worker)",
                "params": {},
                "median_ms": round(statistics.median(samples), 1),
                "total": None,
                "total_capped": None,
                "statements": [],
            }
        )
    finally:
        engine.dispose()
    return results


def _explain(engine: Any, sql: str, params: Any) -> list[str]:
    prefix = (
        "EXPLAIN (ANALYZE, BUFFERS) "
        if engine.dialect.name == "postgresql"
        else "EXPLAIN QUERY PLAN "
    )
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + sql, params).all()
        conn.rollback()
    return [" | ".join(str(c) for c in row) for row in rows]


def parse_stats_csv(path: Path) -> dict[str, dict[str, Any]]:
    """Locust's `<prefix>_stats.csv` → per request name: count, failures, rps, percentiles."""
    out: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            name = "all" if row["Name"] == "Aggregated" else row["Name"]

            def pct(key: str, row: dict[str, str] = row) -> float | None:
                value = row.get(key, "N/A")
                return None if value in ("", "N/A") else float(value)

            out[name] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 2),
                "avg_ms": round(float(row["Average Response Time"]), 1),
                "p50_ms": pct("50%"),
                "p95_ms": pct("95%"),
                "p99_ms": pct("99%"),
                "max_ms": round(float(row["Max Response Time"]), 1),
            }
    return out


def run_locust(
    base: str,
    *,
    terms_path: Path,
    listings: int,
    users: int,
    seconds: int,
    wait: str,
    out: Path,
    spy_pid: int | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """One headless locust run; returns the parsed stats (raises if locust produced none)
    and, with `spy_pid`, where the server's threads were in three py-spy snapshots taken
    during the run (see `thread_states`)."""
    env = dict(
        os.environ,
        SL_BENCH_TERMS=str(terms_path),
        SL_BENCH_LISTINGS=str(listings),
        SL_BENCH_WAIT=wait,
    )
    prefix = out / "locust"
    cmd = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", base,
        "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10",
        "Visitor",
    ]  # fmt: skip
    states: Counter[str] = Counter()
    with (out / "locust.log").open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        if spy_pid is not None:
            for fraction in (0.3, 0.55, 0.8):
                deadline = time.monotonic() + seconds * fraction / 3
                while time.monotonic() < deadline and proc.poll() is None:
                    time.sleep(0.5)
                states.update(thread_states(spy_pid))
        # locust exits 1 when any request failed; the failures are in the stats, so carry on.
        proc.wait()
    stats_file = prefix.with_name(prefix.name + "_stats.csv")
    if not stats_file.exists():
        tail = (out / "locust.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"locust 未产生统计 (locust failed): {tail}")
    return parse_stats_csv(stats_file), dict(states.most_common())


# What a request-handling thread is doing, from the innermost frame that says it (py-spy).
THREAD_STATES = (
    ("pool checkout (SQLAlchemy QueuePool)", ("_do_get", "pool/impl.py")),
    ("SQLite busy wait / query", ("sqlite3", "execute")),
    ("waiting for a lock", ("acquire", "wait (threading.py)")),
    ("idle worker thread", ("worker_thread", "get (queue.py)")),
)


def _py_spy() -> str:
    """py-spy beside this Python (the bench extra installs it there), else from PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else "py-spy"


def thread_states(pid: int) -> Counter[str]:
    """One py-spy snapshot of the server: how many threads are in each state.

    A thread is named by its innermost frame ("function (file)"); the counts show whether
    requests wait on the pool, a lock or the database rather than run. Empty when py-spy is
    missing or may not attach (it needs ptrace rights on the server).
    """
    try:
        done = subprocess.run(
            [_py_spy(), "dump", "--nonblocking", "--pid", str(pid), "--json"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return Counter()
    if done.returncode != 0:
        return Counter()
    counts: Counter[str] = Counter()
    for thread in json.loads(done.stdout or "[]"):
        frames = thread.get("frames") or []
        if not frames:
            continue
        top = frames[0]
        name = f"{top.get('name')} ({Path(top.get('filename') or '').name})"
        # The innermost frame of our code or a library that explains the state.
        for frame in frames:
            where = f"{frame.get('name')} ({frame.get('short_filename') or frame.get('filename')})"
            if any(
                key in where
                for key in ("_do_get", "sqlite3", "psycopg", "hash_gate", "HashGate", "acquire")
            ):
                name = where
                break
        counts[name] += 1
    return counts


# --------------------------------------------------------------------------- one backend


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """Fill or reuse the database, serve it, time it alone, then under load."""
    from benchmarks.scale_data import (
        Scale,
        drop_postgresql_database,
        load_terms,
        postgresql_name,
        prepare,
    )

    scale = Scale(args.patents, args.listings, args.seed)
    home, url, fill = prepare(scale, backend)
    terms_path = home.parent / "terms.json"
    terms = load_terms(home.parent)
    try:
        profile = query_profile(home, url, terms) if args.profile else []
        with tempfile.TemporaryDirectory(prefix="web-load-") as tmp:
            work = Path(tmp)
            proc, base = start_server(home, url, workers=args.workers, log=work / "server.log")
            try:
                unloaded = unloaded_timings(base, request_shapes(terms))
                loads = []
                for users in args.users:
                    loads.append(_one_load(args, base, proc.pid, work, terms_path, users))
            finally:
                stop_server(proc)
        version = postgresql_version(url) if url else None
    finally:
        if url and args.drop:
            drop_postgresql_database(postgresql_name(scale))
    return {
        "backend": backend,
        "server": {"workers": args.workers, "postgresql": version},
        "database": asdict(fill),
        "unloaded_ms": unloaded,
        "loads": loads,
        "queries": profile,
    }


def _one_load(
    args: argparse.Namespace, base: str, pid: int, work: Path, terms_path: Path, users: int
) -> dict[str, Any]:
    """A warm-up and a measured locust run of `users` visitors against the running server."""
    locust_args = {
        "terms_path": terms_path,
        "listings": args.listings,
        "users": users,
        "wait": args.wait,
    }
    if args.warmup:
        (work / f"warmup-{users}").mkdir()
        run_locust(base, seconds=args.warmup, out=work / f"warmup-{users}", **locust_args)
    load_before = [round(x, 2) for x in os.getloadavg()]
    cpu_before = server_cpu_seconds(pid)
    queued_before = server_runqueue_wait_s(pid)
    started = time.monotonic()
    (work / f"run-{users}").mkdir()
    stats, states = run_locust(
        base,
        seconds=args.seconds,
        out=work / f"run-{users}",
        spy_pid=pid if args.spy else None,
        **locust_args,
    )
    wall = time.monotonic() - started
    cpu_used = round(server_cpu_seconds(pid) - cpu_before, 1)
    queued_after = server_runqueue_wait_s(pid)
    queued = (
        round(queued_after - queued_before, 1)
        if queued_after is not None and queued_before is not None
        else None
    )
    load_after = [round(x, 2) for x in os.getloadavg()]
    overall = stats.get("all", {})
    target = TARGET_P95_MS.get(users)
    return {
        "users": users,
        "load_avg_before": load_before,
        "load_avg_after": load_after,
        "server_cpu_seconds": cpu_used,
        "server_cpu_share": round(cpu_used / wall, 2) if wall else None,
        # Thread-seconds runnable but without a CPU (threads queued for the GIL sleep, so
        # this is the process being starved by the machine, not by itself).
        "server_runqueue_wait_s": queued,
        "target_p95_ms": target,
        "meets_target": None
        if target is None
        else bool((overall.get("p95_ms") or 0) <= target and not overall.get("failures")),
        "thread_states": states,
        "failure_messages": failure_messages(work / f"run-{users}" / "locust_failures.csv"),
        "stats": stats,
    }


def failure_messages(path: Path) -> list[dict[str, Any]]:
    """What the failed requests got (locust's failures file: endpoint, error, how many)."""
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            {"name": row["Name"], "error": row["Error"][:300], "count": int(row["Occurrences"])}
            for row in csv.DictReader(handle)
        ]


def format_table(runs: list[dict[str, Any]]) -> str:
    """A plain-text table: one line per backend, number of users and endpoint."""
    head = (
        f"{'backend':10} {'users':>5} {'endpoint':20} {'req':>6} {'req/s':>7} "
        f"{'p50':>6} {'p95':>6} {'p99':>6} {'fail':>5}"
    )
    lines = [head, "-" * len(head)]
    for run in runs:
        for load in run["loads"]:
            for name in (*ENDPOINTS, "all"):
                s = load["stats"].get(name)
                if not s:
                    continue
                lines.append(
                    f"{run['backend']:10} {load['users']:>5} {name:20} {s['requests']:>6} "
                    f"{s['rps']:>7} {s['p50_ms'] or 0:>6.0f} {s['p95_ms'] or 0:>6.0f} "
                    f"{s['p99_ms'] or 0:>6.0f} {s['failures']:>5}"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patents", type=int, default=1_000_000)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument(
        "--users",
        type=lambda text: [int(x) for x in text.split(",")],
        default=[20],
        help="visitors; several comma-separated counts run one after another on one server",
    )
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10, help="unrecorded seconds first")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--wait", default="1,2", help="think time between pages, 'min,max' s")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument(
        "--spy",
        action="store_true",
        help="py-spy snapshots of the server during each run: where its threads wait",
    )
    parser.add_argument("--drop", action="store_true", help="drop the PostgreSQL DB after")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.listings > args.patents:
        parser.error("--listings cannot exceed --patents")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    runs = []
    for backend in backends:
        run = run_backend(backend, args)
        runs.append(run)
        for load in run["loads"]:
            overall = load["stats"].get("all", {})
            print(
                f"{backend} {load['users']} users: {overall.get('requests')} requests, "
                f"p50 {overall.get('p50_ms')} ms, p95 {overall.get('p95_ms')} ms, "
                f"{overall.get('failures')} failures; server CPU {load['server_cpu_share']} "
                f"cores, waiting for a CPU {load['server_runqueue_wait_s']} s, "
                f"load average {load['load_avg_before'][0]}",
                flush=True,
            )
    print(format_table(runs), flush=True)
    for run in runs:
        alone = ", ".join(f"{k} {v:.0f}" for k, v in run["unloaded_ms"].items())
        print(f"{run['backend']} alone (ms, no concurrency): {alone}", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "web_load",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "benchmarks/web_load.py", *sys.argv[1:]])
        if argv is None
        else "web_load.main(" + repr(argv) + ")",
        "machine": machine_info(),
        "params": {
            "patents": args.patents,
            "listings": args.listings,
            "users": args.users,
            "seconds": args.seconds,
            "warmup_seconds": args.warmup,
            "workers": args.workers,
            "think_time_s": args.wait,
            "seed": args.seed,
            # The server inherits the environment: SHUANGLIAN_WEB_THREADS=16 ... compares sizes.
            "server_settings": {
                k: v
                for k, v in os.environ.items()
                if k.startswith("SHUANGLIAN_")
                and k not in ("SHUANGLIAN_DATABASE_URL",)
                and "SECRET" not in k
            },
        },
        "target_p95_ms_by_users": TARGET_P95_MS,
        "runs": runs,
    }
    args.output.write_text(
        json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
