"""Scratch databases for the benchmarks, and running one benchmark per backend in its own process.

PostgreSQL is reached through `SHUANGLIAN_TEST_PG_ADMIN_URL` (default: postgres on 127.0.0.1,
trust auth) — the same server the tests use; each benchmark creates its own database and drops it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from shuanglian.config import Settings

PG_ADMIN_URL = os.environ.get(
    "SHUANGLIAN_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def scratch_settings(backend: str, home: Path) -> tuple[Settings, str | None]:
    """Settings for a fresh database of `backend`; the PostgreSQL database name to drop, or None."""
    if backend != "postgresql":
        return Settings(home=home, database_url=None), None
    name = f"shuanglian_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    admin.dispose()
    return Settings(home=home, database_url=PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name), name


def drop_scratch_database(name: str | None) -> None:
    """Drop a database made by `scratch_settings` (nothing to do for SQLite)."""
    if not name:
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_per_backend(script: str, rows: int, backends: list[str]) -> list[dict[str, Any]]:
    """Run `script --rows N --backend B --child` for each backend, one fresh process each (so
    peak RSS and caches are that backend's alone); returns the JSON each child printed last."""
    results = []
    for backend in backends:
        command = [sys.executable, script, "--rows", str(rows), "--backend", backend, "--child"]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def write_results(
    path: Path,
    *,
    benchmark: str,
    root: Path,
    file: Path,
    rows: int,
    default_rows: int,
    results: list[dict[str, Any]],
) -> None:
    """The results JSON of a file-import benchmark: the file, the machine, the command."""
    script = f"python benchmarks/{benchmark}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": benchmark,
        "file": str(file.relative_to(root)),
        "file_mib": round(file.stat().st_size / 2**20, 1),
        "rows": rows,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}",
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "command": script + (f" --rows {rows}" if rows != default_rows else ""),
        "results": results,
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
