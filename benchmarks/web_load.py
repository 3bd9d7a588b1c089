"""Benchmark: the supermarket catalogue and search under 20 concurrent users (locust).

Data: patents recombined from real texts by `benchmarks/corpus.py` (Lens.org, USPTO, CNIPA
pieces; fixed seed), one institution in 500 per patent, and the first `--listings` patents
pooled and published as listings (modes, TRL, price, region and industry drawn with a fixed
seed). Catalogue queries touch the listings table (and patents only by primary key), so the
listing count is what drives page time; `--patents` sets the size of the table beside it.

Load: locust, `--users` simulated visitors on loopback, each waiting 1–2 s between pages (a
person reading), for `--seconds`. Tasks: the catalogue (`/market`, random page of the first
50), a search (`/market?q=<real title word>`), a filtered catalogue (mode + TRL), the JSON
catalogue (`/api/v1/listings?q=`) and a listing page. The server is `uvicorn` with one worker
in its own process, as `shuanglian serve` runs it.

    .venv/bin/python benchmarks/web_load.py [--patents 1000000] [--listings 100000]
        [--users 20] [--seconds 60] [--backend sqlite|postgresql|both]

Writes benchmarks/results/web_load.json (p50/p95 per task and overall, per backend). Target:
p95 ≤ 200 ms. PostgreSQL is reached through SHUANGLIAN_TEST_PG_ADMIN_URL (default
postgres@127.0.0.1:5432, trust); a throw-away database is created and dropped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks/results/web_load.json"
WORK = ROOT / "benchmarks/work/web_load"
PG_ADMIN = os.environ.get(
    "SHUANGLIAN_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
MODES = ["transfer", "licence", "open_licence", "equity", "joint_dev"]
REGIONS = ["北京", "上海", "江苏", "浙江", "广东", "辽宁", "湖北", "四川", "陕西", "山东"]
INDUSTRIES = ["C26", "C27", "C34", "C35", "C38", "C39", "C40", "I65", "M73", "D44"]
FIELDS = ["Transport", "Computer technology", "Electrical machinery", "Measurement", "Control"]
BATCH = 5000


def _search_words(titles: list[str], k: int = 60) -> list[str]:
    """Common real words of the listing titles (English words ≥ 5 letters, CJK bigrams)."""
    counts: Counter[str] = Counter()
    for title in titles:
        counts.update(w.lower() for w in re.findall(r"[A-Za-z]{5,}", title))
        for run in re.findall(r"[\u4e00-\u9fff]{2,}", title):
            counts.update(run[i : i + 2] for i in range(len(run) - 1))
    return [w for w, _ in counts.most_common(k)]


def load(url: str, *, patents: int, listings: int, seed: int) -> dict[str, Any]:
    """Create the schema and bulk-load patents, pool entries and published listings."""
    from sqlalchemy import insert
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateTable

    import shuanglian.models  # noqa: F401  (registers every table)
    from benchmarks.corpus import generate_patents, load_sources
    from shuanglian.config import Settings
    from shuanglian.db import Base, make_engine
    from shuanglian.inventory.models import PoolEntry
    from shuanglian.patents.models import Institution, Patent
    from shuanglian.supermarket.models import Listing, ListingPatent
    from shuanglian.text.normalize import normalize_for_search

    home = Path(tempfile.mkdtemp(prefix="web-load-"))
    if url is None:
        # A loaded SQLite file is kept under benchmarks/work and reused while the parameters
        # and the schema are the same (loading 100k rows takes minutes on 2 shared cores).
        schema = hashlib.sha256(
            "".join(
                sorted(
                    str(CreateTable(t).compile(dialect=sqlite.dialect()))
                    + "".join(sorted(str(i.name) for i in t.indexes))
                    for t in Base.metadata.tables.values()
                )
            ).encode()
        ).hexdigest()[:10]
        home = WORK / f"sqlite-{patents}-{listings}-s{seed}-{schema}"
        marker = home / "loaded.json"
        if marker.exists():
            return json.loads(marker.read_text(encoding="utf-8"))
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
    engine = make_engine(Settings(home=home, database_url=url))
    Base.metadata.create_all(engine)
    rng = random.Random(seed)
    started = time.perf_counter()
    n_inst = max(1, patents // 500)
    now = datetime.now(UTC)
    titles: list[str] = []
    with engine.begin() as conn:
        conn.execute(
            insert(Institution),
            [{"name": f"基准测试机构 {i:05d}", "kind": "university"} for i in range(n_inst)],
        )
    src = load_sources()
    rows: list[dict[str, Any]] = []
    listing_rows: list[dict[str, Any]] = []

    def flush() -> None:
        with engine.begin() as conn:
            if rows:
                conn.execute(insert(Patent), rows)
            if listing_rows:
                conn.execute(
                    insert(PoolEntry),
                    [
                        {
                            "patent_id": r["id"],
                            "institution_id": r["institution_id"],
                            "active": True,
                        }
                        for r in listing_rows
                    ],
                )
                conn.execute(insert(Listing), listing_rows)
                conn.execute(
                    insert(ListingPatent),
                    [
                        {"listing_id": r["id"], "patent_id": r["id"], "position": 0}
                        for r in listing_rows
                    ],
                )
        rows.clear()
        listing_rows.clear()

    for i, line in enumerate(generate_patents(src, patents, seed=seed)):
        doc = json.loads(line)
        pid = i + 1
        inst_id = 1 + i % n_inst
        title, text = doc["title"][:1000], doc["text"]
        ipc = list(doc["metadata"].get("ipc") or [])
        rows.append(
            {
                "id": pid,
                "application_key": f"BM{pid:010d}",
                "application_number": f"BM{pid:010d}",
                "title": title,
                "abstract": text,
                "search_text": normalize_for_search(f"{title} {text}"),
                "ipc_codes": ipc,
                "main_ipc": ipc[0][:20] if ipc else None,
                "applicants": [],
                "inventors": [],
                "cpc_codes": [],
                "language": doc["metadata"].get("lang", "en"),
                "institution_id": inst_id,
                "created_at": now,
                "updated_at": now,
            }
        )
        if pid <= listings:
            titles.append(title)
            summary = text[:400]
            modes = rng.sample(MODES, rng.randint(1, 2))
            listing_rows.append(
                {
                    "id": pid,
                    "patent_id": pid,
                    "institution_id": inst_id,
                    "title": title[:300],
                    "summary": summary,
                    "industries": "," + rng.choice(INDUSTRIES) + ",",
                    "tech_field": rng.choice(FIELDS),
                    "region": rng.choice(REGIONS),
                    "trl": rng.randint(1, 9),
                    "modes": "," + ",".join(modes) + ",",
                    "price": None if rng.random() < 0.2 else round(rng.uniform(1, 2000), 2),
                    "open_licence_terms": "许可费按年计" if "open_licence" in modes else None,
                    "status": "published",
                    "featured": rng.random() < 0.001,
                    "published_at": now - timedelta(minutes=pid),
                    "search_text": normalize_for_search(f"{title} {summary}"),
                    "view_count": 0,
                    "scan_count": 0,
                    "deals_signed": 0,
                    "signed_amount": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        if len(rows) >= BATCH:
            flush()
    flush()
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    engine.dispose()
    loaded = {
        "home": str(home),
        "load_seconds": round(time.perf_counter() - started, 1),
        "words": _search_words(titles),
        "listings": listings,
    }
    if url is None:
        (home / "loaded.json").write_text(json.dumps(loaded, ensure_ascii=False), encoding="utf-8")
    return loaded


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SERVER = """
import sys, uvicorn
from pathlib import Path
from shuanglian.config import Settings
from shuanglian.web.app import create_app
home, url, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
settings = Settings(home=Path(home), database_url=url or None)
uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
            access_log=False)
"""


def serve(home: str, url: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start the app in its own process and wait until /healthz answers."""
    import urllib.request

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, home, url, str(port)], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


LOCUST = """
import json, random, sys
import gevent
from locust import HttpUser, between, task
from locust.env import Environment

base, users, seconds, listings = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
words = json.loads(sys.argv[5])

class Visitor(HttpUser):
    wait_time = between(1, 2)

    @task(3)
    def catalogue(self):
        self.client.get(f"/market?page={random.randint(1, 50)}", name="catalogue")

    @task(3)
    def search(self):
        self.client.get(f"/market?q={random.choice(words)}", name="search")

    @task(2)
    def filtered(self):
        mode = random.choice(["licence", "transfer", "equity", "open_licence", "joint_dev"])
        self.client.get(f"/market?mode={mode}&trl_min={random.randint(3, 7)}", name="filtered")

    @task(1)
    def api_search(self):
        self.client.get(f"/api/v1/listings?q={random.choice(words)}", name="api search")

    @task(1)
    def listing(self):
        self.client.get(f"/market/{random.randint(1, listings)}", name="listing")

env = Environment(user_classes=[Visitor], host=base)
runner = env.create_local_runner()
runner.start(users, spawn_rate=users)
gevent.sleep(seconds)
runner.quit()
out = {}
for name in ["catalogue", "search", "filtered", "api search", "listing"]:
    entry = env.stats.get(name, "GET")
    out[name] = {"requests": entry.num_requests, "failures": entry.num_failures,
                 "p50_ms": entry.get_response_time_percentile(0.5),
                 "p95_ms": entry.get_response_time_percentile(0.95)}
total = env.stats.total
out["all"] = {"requests": total.num_requests, "failures": total.num_failures,
              "p50_ms": total.get_response_time_percentile(0.5),
              "p95_ms": total.get_response_time_percentile(0.95),
              "rps": round(total.num_requests / seconds, 1)}
print(json.dumps(out))
"""


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """Load one backend, serve it, put it under load, and clean up."""
    from sqlalchemy import create_engine, text

    pg_name = None
    url = ""
    if backend == "postgresql":
        pg_name = f"shuanglian_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE \"{pg_name}\" ENCODING 'UTF8' TEMPLATE template0"))
        admin.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + pg_name
    try:
        loaded = load(url or None, patents=args.patents, listings=args.listings, seed=args.seed)
        proc, base = serve(loaded["home"], url)
        try:
            result = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    LOCUST,
                    base,
                    str(args.users),
                    str(args.seconds),
                    str(args.listings),
                    json.dumps(loaded["words"]),
                ],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        stats = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        if pg_name:
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            admin.dispose()
    return {"backend": backend, "load_seconds": loaded["load_seconds"], "stats": stats}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patents", type=int, default=1_000_000)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args(argv)
    if args.listings > args.patents:
        parser.error("--listings cannot exceed --patents (each listing is one patent)")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    runs = []
    for backend in backends:
        run = run_backend(backend, args)
        runs.append(run)
        overall = run["stats"]["all"]
        print(
            f"{backend}: loaded in {run['load_seconds']} s; {overall['requests']} requests, "
            f"p50 {overall['p50_ms']} ms, p95 {overall['p95_ms']} ms, "
            f"{overall['failures']} failures",
            flush=True,
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "web_load",
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "params": {
                    "patents": args.patents,
                    "listings": args.listings,
                    "users": args.users,
                    "seconds": args.seconds,
                    "seed": args.seed,
                    "think_time_s": [1, 2],
                },
                "target_p95_ms": 200,
                "runs": runs,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
