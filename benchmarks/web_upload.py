"""Benchmark: a TTO clerk's 30,000-row Excel export uploaded through the institution workspace.

The workbook holds the first `--rows` rows of `import_patents.py`'s recombined CNIPA-style file
(real titles and abstracts, valid application numbers; see that script), written as .xlsx
with openpyxl. Each backend gets a fresh database and its own child process (peak RSS is its
own); uvicorn serves the app on loopback and httpx posts the file to
`/workspace/institution/patents/upload` as a logged-in staff member, exactly what the browser
sends: a first import, then the same file again (every row unchanged).

    .venv/bin/python benchmarks/web_upload.py [--rows 30000] [--backend sqlite|postgresql]

Writes benchmarks/results/web_upload.json and prints one line per upload.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import resource
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench_db import (  # benchmarks/ is on sys.path
    drop_scratch_database,
    run_per_backend,
    scratch_settings,
    write_results,
)
from import_patents import build_file

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks/work"
RESULTS = ROOT / "benchmarks/results/web_upload.json"
PASSWORD = "bench-password-1"
_COUNT = re.compile(r'data-count="(\w+)">([\d,]+)<')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def build_workbook(rows: int, path: Path) -> Path:
    """The first `rows` rows of the 100k CNIPA-style CSV as an .xlsx (reused if present)."""
    from openpyxl import Workbook

    if path.exists():
        return path
    source = build_file(100_000, WORK / "patents_cnipa_100000.csv")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("专利清单")
    with source.open(encoding="utf-8", newline="") as fh:
        for i, record in enumerate(csv.reader(fh)):
            if i > rows:
                break
            ws.append(record)
    tmp = path.with_name(path.stem + ".tmp.xlsx")
    wb.save(tmp)
    tmp.replace(path)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_backend(backend: str, path: Path) -> dict[str, Any]:
    """Serve a fresh database of `backend` and upload `path` twice as institution staff."""
    import httpx
    import uvicorn

    import shuanglian.models  # noqa: F401  (registers every table)
    from shuanglian.accounts import service as accounts
    from shuanglian.db import Base, make_engine, make_session_factory, session_scope
    from shuanglian.patents.models import Institution
    from shuanglian.web.app import create_app

    home = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    settings, pg_name = scratch_settings(backend, home)
    engine = make_engine(settings)
    server = None
    try:
        Base.metadata.create_all(engine)
        with session_scope(make_session_factory(engine)) as session:
            inst = Institution(name="中科大数据研究院")
            session.add(inst)
            session.flush()
            accounts.create_user(
                session,
                username="clerk",
                password=PASSWORD,
                role="institution_staff",
                institution_id=inst.id,
            )
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
        )
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        runs = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            token = _CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
            client.post(
                "/login", data={"username": "clerk", "password": PASSWORD, "csrf_token": token}
            )
            token = _CSRF.search(client.get("/workspace/institution/imports").text).group(1)  # type: ignore[union-attr]
            for label in ("first_upload", "same_file_again"):
                started = time.perf_counter()
                with path.open("rb") as fh:
                    response = client.post(
                        "/workspace/institution/patents/upload",
                        data={"csrf_token": token},
                        files={"file": (path.name, fh, "application/octet-stream")},
                    )
                wall = time.perf_counter() - started
                response.raise_for_status()
                counts = {k: int(v.replace(",", "")) for k, v in _COUNT.findall(response.text)}
                runs.append({"run": label, "wall_s": round(wall, 2), **counts})
    finally:
        if server is not None:
            server.should_exit = True
        engine.dispose()
        drop_scratch_database(pg_name)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"backend": backend, "runs": runs, "peak_rss_mib": round(peak_mib, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = WORK / f"patents_cnipa_{args.rows}.xlsx"
    if args.child:
        print(json.dumps(run_backend(args.backend, path)))
        return 0
    build_workbook(args.rows, path)
    backends = [args.backend] if args.backend else ["sqlite", "postgresql"]
    results = run_per_backend(__file__, args.rows, backends)
    for backend, result in zip(backends, results, strict=True):
        for run in result["runs"]:
            print(
                f"{backend:10s} {run['run']:16s} {run['wall_s']:7.2f} s  inserted "
                f"{run.get('inserted')} unchanged {run.get('unchanged')} rejected "
                f"{run.get('rejected')}  peak RSS {result['peak_rss_mib']} MiB",
                flush=True,
            )
    write_results(
        RESULTS,
        benchmark="web_upload",
        root=ROOT,
        file=path,
        rows=args.rows,
        default_rows=30_000,
        results=results,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
