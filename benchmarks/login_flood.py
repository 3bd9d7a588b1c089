"""Benchmark: `/healthz` latency while anonymous clients flood `POST /login` (issue 10).

Server: uvicorn in its own process (as `shuanglian serve` runs it) on a fresh SQLite home,
production argon2 parameters (64 MiB, t=3). Load: `--clients` threads, each posting logins
with random user names and passwords as fast as answers come back, for `--seconds`;
meanwhile one prober requests `/healthz` every 100 ms. The same probe runs first with no
flood (the baseline). The per-client failure limit is raised for the flood so that what is
measured is the server's behaviour under the full flood, not the limit turning it away.

    .venv/bin/python benchmarks/login_flood.py [--clients 12] [--seconds 20]
        [--output benchmarks/results/login_flood.json]

Before the fix (`async def login_submit`, argon2 on the event loop) the issue measured
`/healthz` at 5.7 s with 12 clients; the results file records today's numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.web_load import machine_info, start_server, stop_server  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "login_flood.json"


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {
        "n": len(ordered),
        "p50_ms": at(0.5),
        "p95_ms": at(0.95),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
    }


def probe(base: str, stop: threading.Event, samples: list[float]) -> None:
    """Time /healthz every 100 ms until `stop`."""
    with httpx.Client(base_url=base, timeout=60) as client:
        while not stop.is_set():
            start = time.perf_counter()
            response = client.get("/healthz")
            if response.status_code == 200:
                samples.append(time.perf_counter() - start)
            stop.wait(0.1)


def flood(base: str, stop: threading.Event, statuses: Counter[int], lock: threading.Lock) -> None:
    """Post logins with random names until `stop`, counting the answers."""
    with httpx.Client(base_url=base, timeout=120) as client:
        page = client.get("/login").text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        while not stop.is_set():
            response = client.post(
                "/login",
                data={
                    "username": "nobody-" + secrets.token_hex(6),
                    "password": secrets.token_hex(8),
                    "csrf_token": token,
                },
            )
            with lock:
                statuses[response.status_code] += 1


def run(clients: int, seconds: float) -> dict[str, Any]:
    """Baseline probe, then the probe under the flood; returns the measurements."""
    import shuanglian.models  # noqa: F401  (registers every table)
    from shuanglian.config import Settings
    from shuanglian.db import Base, make_engine

    home = Path(tempfile.mkdtemp(prefix="login-flood-"))
    engine = make_engine(Settings(home=home))
    Base.metadata.create_all(engine)
    engine.dispose()
    proc, base = start_server(
        home,
        None,
        workers=1,
        log=home / "server.log",
        extra_env={"SHUANGLIAN_LOGIN_IP_MAX_FAILURES": "1000000"},
    )
    try:
        baseline: list[float] = []
        stop = threading.Event()
        prober = threading.Thread(target=probe, args=(base, stop, baseline))
        prober.start()
        time.sleep(min(5.0, seconds / 2))
        stop.set()
        prober.join()

        loaded: list[float] = []
        statuses: Counter[int] = Counter()
        lock = threading.Lock()
        stop = threading.Event()
        threads = [
            threading.Thread(target=flood, args=(base, stop, statuses, lock))
            for _ in range(clients)
        ]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # the flood is under way
        prober = threading.Thread(target=probe, args=(base, stop, loaded))
        started = time.monotonic()
        prober.start()
        time.sleep(seconds)
        stop.set()
        for thread in [*threads, prober]:
            thread.join(timeout=300)
        elapsed = time.monotonic() - started
    finally:
        stop_server(proc)
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "healthz_alone": _percentiles(baseline),
        "healthz_during_flood": _percentiles(loaded),
        "login_answers": dict(sorted(statuses.items())),
        "logins_per_s": round(sum(statuses.values()) / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    load_before = os.getloadavg()
    result = run(args.clients, args.seconds)
    report = {
        "benchmark": "login_flood",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "machine": machine_info(),
        "load_average_before": [round(x, 2) for x in load_before],
        **result,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in list(result)}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
