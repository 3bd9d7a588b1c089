"""Schemathesis over the whole JSON API, as an admin and as an enterprise user (issue 10).

For each backend (SQLite, PostgreSQL): a fresh home and database with demo-like data (the
CNIPA and CNKI patent samples, the 2002 enterprises, the demands, the match index and
`demo seed`: users, inventory, pushes, listings, deals, challenges, pilots), one uvicorn
server, an API token per role, then `st run` with two workers per role: every operation of
`/api/v1/openapi.json`, valid and invalid data (`--mode all`), checked for server errors
(not_a_server_error), undocumented status codes (status_code_conformance), content types
and response bodies that break their schema. The token's own revocation, the password
change (which revokes tokens) and deactivating users are left out, so the run does not lock
itself out half way; everything else is fuzzed, writes included.

    .venv/bin/python benchmarks/schemathesis_api.py [--backend sqlite|postgresql|both]
        [--max-examples 20] [--workers 2] [--port 8110]
        [--output benchmarks/results/schemathesis.json]

Prints one line per backend × role and writes the summary (operations, cases, failures by
check, with the first failures' reproduction) to the results file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.web_load import machine_info  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "schemathesis.json"
PG_ADMIN_URL = os.environ.get(
    "SHUANGLIAN_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
# Operations that would end the run's own session: revoking tokens (its own among them),
# changing the password (revokes every token) and deactivating users (the token's owner).
EXCLUDED = [
    ("DELETE", "/api/v1/tokens/{token_id}"),
    ("POST", "/api/v1/me/password"),
    ("POST", "/api/v1/users/{user_id}/active"),
    ("POST", "/api/v1/users/{user_id}/reset"),
]
ROLES = {"admin": "admin", "enterprise": "ent"}
DEMO_IMPORTS = [
    ["import", "patents", "demo/patents_cnipa_sample.csv", "--institution", "中科大数据研究院"],
    ["import", "patents", "demo/patents_sysu_cnki.csv", "--institution", "中山大学"],
    ["import", "enterprises", "demo/enterprises_2002_sample.csv"],
    ["import", "demands", "demo/demands.csv"],
    ["index", "build"],
    ["demo", "seed"],
]
CLI = "import sys; from shuanglian.cli.main import app; sys.argv[0] = 'shuanglian'; app()"


def _env(home: Path, url: str | None) -> dict[str, str]:
    env = dict(os.environ, SHUANGLIAN_HOME=str(home), PYTHONPATH=str(ROOT))
    env["SHUANGLIAN_SECRET_KEY"] = uuid.uuid4().hex * 2
    env.pop("SHUANGLIAN_DATABASE_URL", None)
    if url:
        env["SHUANGLIAN_DATABASE_URL"] = url
    return env


def seed(env: dict[str, str]) -> float:
    """Fill the fresh home's database with the demo-like data; seconds taken."""
    started = time.monotonic()
    for args in [["init"], *DEMO_IMPORTS]:
        subprocess.run(
            [sys.executable, "-c", CLI, *args], cwd=ROOT, env=env, check=True, capture_output=True
        )
    return round(time.monotonic() - started, 1)


def issue_tokens(env: dict[str, str]) -> dict[str, str]:
    """One API token per role, written straight into the database (as `POST /api/v1/tokens`)."""
    code = (
        "import json, sys\n"
        "from sqlalchemy.orm import Session\n"
        "from shuanglian.accounts.service import create_api_token, get_user_by_username\n"
        "from shuanglian.config import Settings\n"
        "from shuanglian.db import make_engine\n"
        "engine = make_engine(Settings())\n"
        "out = {}\n"
        "with Session(engine) as session:\n"
        "    for role, name in json.loads(sys.argv[1]).items():\n"
        "        user = get_user_by_username(session, username=name)\n"
        "        out[role] = create_api_token(session, user=user, name='schemathesis')[1]\n"
        "    session.commit()\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(ROLES)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "uvicorn", "--factory", "benchmarks.web_load:app_from_env",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"服务未能启动 (server exited): {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("服务启动超时 (server did not answer /healthz)")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def run_schemathesis(
    base: str, token: str, *, workers: int, max_examples: int, seed: int, report: Path
) -> dict[str, Any]:
    """`st run` against the server as the token's user; the JSON report's summary."""
    st = Path(sys.executable).with_name("st")
    cmd = [
        str(st), "run", f"{base}/api/v1/openapi.json", "--url", base,
        "--header", f"Authorization: Bearer {token}",
        "--workers", str(workers), "--checks", CHECKS, "--mode", "all",
        "--max-examples", str(max_examples), "--seed", str(seed),
        "--suppress-health-check", "all", "--request-timeout", "60",
        "--report", "json", "--report-json-path", str(report),
        "--continue-on-failure", "--output-truncate", "true", "--warnings", "off",
    ]  # fmt: skip
    for method, path in EXCLUDED:
        cmd += ["--exclude-by", f"method == '{method}' && path == '{path}'"]
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=report.parent, capture_output=True, text=True)
    seconds = round(time.monotonic() - started, 1)
    summary = summarise(json.loads(report.read_text()) if report.exists() else {})
    summary["seconds"] = seconds
    summary["exit_code"] = done.returncode
    summary["output_tail"] = done.stdout[-3000:]
    return summary


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    """Operations, cases, failures (by check) and errors from schemathesis' JSON report."""
    cases = report.get("test_cases") or {}
    failures = report.get("failures") or []
    return {
        "operations_tested": (report.get("operations") or {}).get("tested", 0),
        "cases": cases.get("generated", 0),
        "cases_with_failures": cases.get("with_failures", 0),
        "cases_errored": cases.get("errored", 0),
        "failures": failures[:50],
        "errors": report.get("errors") or [],
        "phases": {k: v.get("status") for k, v in (report.get("phases") or {}).items()},
    }


def backend_url(backend: str) -> tuple[str | None, str | None]:
    """(database URL, PostgreSQL database to drop afterwards) for a fresh database."""
    if backend == "sqlite":
        return None, None
    from sqlalchemy import create_engine, text

    name = f"shuanglian_st_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, name


def drop_database(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_backend(backend: str, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    home = scratch / backend
    home.mkdir()
    url, pg_name = backend_url(backend)
    proc = None
    try:
        env = _env(home, url)
        seed_seconds = seed(env)
        tokens = issue_tokens(env)
        proc = start_server(env, args.port, scratch / f"{backend}-server.log")
        base = f"http://127.0.0.1:{args.port}"
        roles = {}
        for role, token in tokens.items():
            report = scratch / f"{backend}-{role}.json"
            roles[role] = run_schemathesis(
                base,
                token,
                workers=args.workers,
                max_examples=args.max_examples,
                seed=args.seed,
                report=report,
            )
            r = roles[role]
            print(
                f"{backend:10} {role:10} operations {r['operations_tested']:4} "
                f"cases {r['cases']:6} with failures {r['cases_with_failures']:3} "
                f"errored {r['cases_errored']:3} ({r['seconds']} s)",
                flush=True,
            )
        server_errors = (scratch / f"{backend}-server.log").read_text(errors="replace")
        return {
            "seed_seconds": seed_seconds,
            "roles": roles,
            "server_log_tracebacks": server_errors.count("Traceback"),
        }
    finally:
        if proc is not None:
            stop_server(proc)
        if pg_name:
            drop_database(pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--port", type=int, default=8110)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="schemathesis-") as tmp:
        for backend in backends:
            results[backend] = run_backend(backend, args, Path(tmp))
    out = {
        "benchmark": "schemathesis_api",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "benchmarks/schemathesis_api.py " + " ".join(sys.argv[1:]),
        "checks": CHECKS.split(","),
        "excluded_operations": [" ".join(e) for e in EXCLUDED],
        "max_examples": args.max_examples,
        "workers": args.workers,
        "seed": args.seed,
        "machine": machine_info(),
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    print(f"结果 (results): {args.output}")


if __name__ == "__main__":
    main()
