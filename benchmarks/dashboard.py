"""Dashboard page and report generation at scale, on PostgreSQL and SQLite (issue 15).

Rows are made inside the database by INSERT … SELECT over a number series (PostgreSQL
`generate_series`, SQLite a recursive CTE), so a million rows take seconds, not an importer's
minutes. Every NOT NULL column is filled (the generator reads the models), so the app reads the
rows as it reads real ones.

    nice -n 5 .venv/bin/python benchmarks/dashboard.py [--patents 1000000] \
        [--enterprises 450000] [--pushes 1000000] [--sqlite] [--postgresql] [--requests 12]

Measures, per backend, for four pages (admin /dashboard all time, one quarter, one province
and month; an institution's staff):

- cold: the first request, every figure and table computed by its SQL aggregate (nothing kept);
- warm: p50/p95 over `--requests` requests while no table changes (kept pieces reused);
- after a write: one push and one feedback committed, then the admin page again (what reads
  pushes or feedback gets the new rows added, `dashboard.appends`; the rest reused) and once
  more (warm again); then each of the four pages right after a write of its own;
- PDF and Excel report generation (after the pages, and cold for one quarter);
- each headline figure's own SQL time, and the slowest figure's query plan (EXPLAIN ANALYZE on
  PostgreSQL, EXPLAIN QUERY PLAN on SQLite) in benchmarks/results/dashboard_plan_<backend>.txt.

The machine is shared: the 1/5/15-minute load averages are recorded before each phase.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, DateTime, Engine, Integer, Numeric, String, Text, text
from sqlalchemy.types import JSON, Date

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results"
WORK = ROOT / "benchmarks" / "work" / "dashboard"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PROVINCES = ("北京", "江苏", "浙江", "广东", "上海", "山东", "湖北", "四川", "陕西", "辽宁")
IPCS = ("H01M 10/54", "G06F 16/00", "A61K 31/00", "C04B 28/00", "B01D 53/00", "H04L 9/00")
INDUSTRIES = ("3841", "2614", "3911", "2710", "3021", "6513", "1331", "3360")
TODAY = date(2026, 12, 20)


def _series(dialect: str, n: int) -> tuple[str, str]:
    """(prefix, FROM clause) producing rows i = 1..n."""
    if dialect == "postgresql":
        # bigint: i * 7919 passes int4's range at a million rows
        return "", f"FROM generate_series(1::bigint, {n}) AS s(i)"
    return (
        f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) ",
        "FROM s",
    )


def _ts(dialect: str, day_expr: str) -> str:
    """A timestamp `day_expr` days after 2026-01-01 02:00 UTC."""
    if dialect == "postgresql":
        return f"(timestamptz '2026-01-01 02:00:00+00' + ({day_expr}) * interval '1 day')"
    return f"datetime('2026-01-01 02:00:00', '+' || ({day_expr}) || ' days')"


def _day(dialect: str, day_expr: str) -> str:
    if dialect == "postgresql":
        return f"(date '2026-01-01' + ({day_expr})::int)"
    return f"date('2026-01-01', '+' || ({day_expr}) || ' days')"


def _pick(values: tuple[str, ...], index: str) -> str:
    cases = " ".join(f"WHEN {k} THEN '{v}'" for k, v in enumerate(values))
    return f"(CASE ({index}) % {len(values)} {cases} END)"


def _fill(engine: Engine, table: str, n: int, given: dict[str, str]) -> None:
    """INSERT n rows into `table`: `given` columns as SQL over i, other NOT NULL columns a
    plain value of their type."""
    from shuanglian.db import Base

    dialect = engine.dialect.name
    cols = dict(given)
    for col in Base.metadata.tables[table].columns:
        if col.name in cols or col.nullable or col.primary_key or col.server_default is not None:
            continue
        t = col.type
        if isinstance(t, DateTime):
            cols[col.name] = _ts(dialect, "i % 330")
        elif isinstance(t, Date):
            cols[col.name] = _day(dialect, "i % 330")
        elif isinstance(t, Boolean):
            cols[col.name] = "false" if dialect == "postgresql" else "0"
        elif isinstance(t, JSON):
            cols[col.name] = "'[]'" if dialect != "postgresql" else "'[]'::json"
        elif isinstance(t, Integer | Numeric):
            cols[col.name] = "0"
        elif isinstance(t, String | Text):
            cols[col.name] = "''"
        else:
            raise TypeError(f"{table}.{col.name}: {t!r}")
    prefix, source = _series(dialect, n)
    names = ", ".join(cols)
    values = ", ".join(cols.values())
    sql = f"{prefix}INSERT INTO {table} ({names}) SELECT {values} {source}"
    if dialect == "postgresql":
        sql = sql.replace("%", "%%")  # psycopg reads a lone % as a placeholder
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)


def generate(engine: Engine, *, patents: int, enterprises: int, pushes: int) -> dict[str, int]:
    """The dataset; row counts per table."""
    import shuanglian.models  # noqa: F401
    from shuanglian.db import Base

    Base.metadata.create_all(engine)
    d = engine.dialect.name
    true = "true" if d == "postgresql" else "1"
    n_inst = max(1, patents // 500)
    pooled = patents // 2
    feedback = pushes // 10
    deals = max(1, feedback // 100)
    contracts = max(1, deals // 2)
    listings = max(1, pooled // 50)
    _fill(engine, "institutions", n_inst, {
        "name": "'大学' || i", "region": _pick(PROVINCES, "i") + " || '某市'",
    })  # fmt: skip
    _fill(engine, "patents", patents, {
        "application_key": "'CN' || i", "application_number": "'CN' || i || '.1'",
        "title": "'一种测试方法' || i",
        "abstract": "'本发明公开了一种测试方法。能够提高效率。'",
        "patent_type": "(CASE i % 3 WHEN 0 THEN 'utility_model' ELSE 'invention' END)",
        "main_ipc": _pick(IPCS, "i"), "institution_id": f"(i % {n_inst}) + 1",
    })  # fmt: skip
    _fill(engine, "inventory_batches", n_inst, {"institution_id": "i", "name": "'批次' || i"})
    _fill(engine, "inventory_items", patents * 4 // 5, {
        "batch_id": f"(i % {n_inst}) + 1", "patent_id": "i",
        "institution_id": f"(i % {n_inst}) + 1",
        "created_at": _ts(d, "i % 200"),
    })  # fmt: skip
    _fill(engine, "inventory_pool", pooled, {
        "patent_id": "i", "institution_id": f"(i % {n_inst}) + 1", "active": true,
        "entered_at": _ts(d, "(i % 200) + 10"), "grade": _pick(("A", "B", "C", "D"), "i"),
    })  # fmt: skip
    _fill(engine, "enterprises", enterprises, {
        "name": "'企业' || i", "province": _pick(PROVINCES, "i * 7"),
        "city": "'某市'", "industry_code": _pick(INDUSTRIES, "i"),
    })  # fmt: skip
    _fill(engine, "inventory_push_rounds", 1, {"per_patent": "5", "per_enterprise_cap": "50"})
    _fill(engine, "inventory_pushes", pushes, {
        "round_id": "1", "patent_id": f"((i * 7919) % {pooled}) + 1",
        "enterprise_id": f"(i % {enterprises}) + 1", "rank": "1", "score": "0.5",
        "explanation": "'{}'" if d != "postgresql" else "'{}'::json",
        "created_at": _ts(d, "(i % 100) + 215"),
    })  # fmt: skip
    _fill(engine, "inventory_feedback", feedback, {
        "push_id": "i * 10", "patent_id": f"(((i * 10) * 7919) % {pooled}) + 1",
        "enterprise_id": f"((i * 10) % {enterprises}) + 1", "prospect": "4",
        "intent": _pick(("洽谈", "无", "许可", "了解更多", "转让"), "i"),
        "created_at": _ts(d, "(i % 100) + 220"),
    })  # fmt: skip
    _fill(engine, "deals", deals, {
        "title": "'项目' || i", "institution_id": f"(i % {n_inst}) + 1",
        "enterprise_id": f"(i % {enterprises}) + 1",
        "stage": _pick(("contact", "negotiation", "contract", "production"), "i"),
        "stage_changed_on": _day(d, "(i % 60) + 290"), "opened_on": _day(d, "(i % 60) + 240"),
        "push_id": "i * 1000",
    })  # fmt: skip
    _fill(engine, "deal_contracts", contracts, {
        "number": "'HT' || i", "deal_id": "i",
        "kind": _pick(("transfer", "licence", "equity"), "i"),
        "title": "'合同' || i", "institution_id": f"(i % {n_inst}) + 1",
        "enterprise_id": f"(i % {enterprises}) + 1", "patent_id": "i * 3",
        "signed_on": _day(d, "(i % 40) + 300"), "amount": "(i % 90) + 10",
        "payment_mode": "'lump_sum'",
    })  # fmt: skip
    _fill(engine, "market_listings", listings, {
        "patent_id": "i", "institution_id": f"(i % {n_inst}) + 1", "title": "'成果' || i",
        "status": "'published'", "view_count": "i % 97", "scan_count": "i % 13",
        "published_at": _ts(d, "i % 300"),
    })  # fmt: skip
    with engine.begin() as conn:
        if d == "postgresql":
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
        counts = {}
        for t in ("patents", "enterprises", "inventory_pushes", "inventory_pool",
                  "inventory_feedback", "deals", "deal_contracts", "market_listings"):  # fmt: skip
            counts[t] = int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
    return counts


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 1)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _write_one_push_and_feedback(engine: Engine) -> None:
    """What a working platform does between two page views: a push and its feedback."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from shuanglian.inventory.models import Feedback, Push
    from shuanglian.patents.models import Patent

    with Session(engine) as s:
        round_id = s.scalar(select(Push.round_id).limit(1))
        taken = select(Push.patent_id).where(Push.enterprise_id == 1)
        patent_id = s.scalar(select(func.min(Patent.id)).where(Patent.id.not_in(taken)))
        assert round_id is not None and patent_id is not None
        push = Push(round_id=round_id, patent_id=patent_id, enterprise_id=1, rank=1, score=0.5)
        s.add(push)
        s.flush()
        s.add(Feedback(push_id=push.id, patent_id=push.patent_id,
                       enterprise_id=push.enterprise_id, prospect=4, intent="洽谈"))  # fmt: skip
        s.commit()


def measure(home: Path, url: str | None, *, requests: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient
    from sqlalchemy.orm import Session

    from shuanglian.accounts.passwords import use_cheap_hashing_for_tests
    from shuanglian.config import Settings
    from shuanglian.dashboard import summary
    from shuanglian.dashboard.report import report_pdf, report_xlsx
    from shuanglian.db import make_engine
    from shuanglian.figures import FIGURES, Scope, scoped_query
    from shuanglian.web.app import create_app
    from tests.web.factories import PASSWORD, csrf_of, make_user

    use_cheap_hashing_for_tests()
    settings = Settings(home=home, database_url=url)
    engine = make_engine(settings)
    with Session(engine) as s:
        admin = make_user(s, "admin", username=f"bench-admin-{time.time_ns()}")
        staff = make_user(s, "institution_staff", username=f"bench-staff-{time.time_ns()}",
                          institution_id=1)  # fmt: skip
        s.commit()
        names = {"admin": admin.username, "staff": staff.username}
    out: dict[str, Any] = {"pages_ms": {}, "cold_ms": {}, "load_avg": {"start": _load()}}
    app = create_app(settings)
    paths = (
        ("admin", "/dashboard"),
        ("admin", "/dashboard?period=2026Q4"),
        ("admin", "/dashboard?region=32&period=2026-11"),
        ("staff", "/dashboard"),
    )
    summary.forget_memory()
    clients = {}
    for who in names:
        client = TestClient(app)
        client.__enter__()
        client.post("/login", data={"username": names[who], "password": PASSWORD,
                                    "csrf_token": csrf_of(client)})  # fmt: skip
        clients[who] = client

    def get(who: str, path: str) -> float:
        started = time.perf_counter()
        r = clients[who].get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        return round((time.perf_counter() - started) * 1000, 1)

    for who, path in paths:  # cold: every aggregate computed
        out["cold_ms"][f"{who} {path}"] = get(who, path)
        print("cold", who, path, out["cold_ms"][f"{who} {path}"], flush=True)
    out["load_avg"]["warm"] = _load()
    for who, path in paths:
        times = [get(who, path) for _ in range(requests)]
        out["pages_ms"][f"{who} {path}"] = {"p50": _p(times, 0.5), "p95": _p(times, 0.95),
                                            "max": max(times), "n": requests}  # fmt: skip
    print("warm", out["pages_ms"], flush=True)
    out["load_avg"]["after_write"] = _load()
    _write_one_push_and_feedback(engine)
    out["after_write_ms"] = {
        "admin /dashboard (adds the new push/feedback to what was kept)": get(
            "admin", "/dashboard"
        ),
        "admin /dashboard again": get("admin", "/dashboard"),
    }
    for who, path in paths:  # each page right after a write of its own
        _write_one_push_and_feedback(engine)
        out["after_write_ms"][f"{who} {path} after another write"] = get(who, path)
    print("after write", out["after_write_ms"], flush=True)
    for client in clients.values():
        client.__exit__(None, None, None)
    out["load_avg"]["reports"] = _load()
    with Session(engine) as s:
        # The pages' scopes on the pages' day (today in China): their pieces are kept.
        for label, scope in (("all", Scope()), ("2026Q4", Scope.parse(period="2026Q4"))):
            started = time.perf_counter()
            pdf = report_pdf(s, scope=scope)
            mid = time.perf_counter()
            xlsx = report_xlsx(s, scope=scope)
            end = time.perf_counter()
            out[f"report_{label}_s"] = {"pdf": round(mid - started, 2),
                                        "xlsx": round(end - mid, 2),
                                        "pdf_bytes": len(pdf), "xlsx_bytes": len(xlsx)}  # fmt: skip
        summary.forget_memory()
        scope = Scope.parse(period="2026Q3")  # no page showed it: every piece computed
        started = time.perf_counter()
        pdf = report_pdf(s, scope=scope, today=TODAY)
        mid = time.perf_counter()
        xlsx = report_xlsx(s, scope=scope, today=TODAY)
        out["report_2026Q3_cold_s"] = {"pdf": round(mid - started, 2),
                                       "xlsx": round(time.perf_counter() - mid, 2)}  # fmt: skip
        print("reports", {k: v for k, v in out.items() if k.startswith("report")}, flush=True)
        out["load_avg"]["figures"] = _load()
        figure_ms = {}
        for f in FIGURES:
            found = scoped_query(f, Scope(), TODAY)
            assert found is not None
            started = time.perf_counter()
            s.scalar(found[0])
            figure_ms[f.key] = round((time.perf_counter() - started) * 1000, 1)
        slowest = max(figure_ms, key=lambda k: figure_ms[k])
        stmt = scoped_query(next(f for f in FIGURES if f.key == slowest), Scope(), TODAY)[0]  # type: ignore[index]
        sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
        prefix = (
            "EXPLAIN ANALYZE " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
        )
        plan = "\n".join(str(r if len(r) > 1 else r[0]) for r in s.execute(text(prefix + sql)))
        out["figures_ms"] = figure_ms
        out["slowest_figure"] = {"key": slowest, "ms": figure_ms[slowest], "sql": sql}
        plan_file = RESULTS / f"dashboard_plan_{engine.dialect.name}.txt"
        plan_file.write_text(
            f"-- {slowest}: {figure_ms[slowest]} ms\n{sql}\n\n{plan}\n", encoding="utf-8"
        )
        out["plan_file"] = str(plan_file.relative_to(ROOT))
    engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patents", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=450_000)
    parser.add_argument("--pushes", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=12)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--postgresql", action="store_true")
    args = parser.parse_args(argv)
    backends = [b for b in ("sqlite", "postgresql") if getattr(args, b)] or ["sqlite", "postgresql"]
    from sqlalchemy import create_engine

    from shuanglian.config import Settings
    from shuanglian.db import make_engine

    machine = f"shared {os.cpu_count()}-core VM, nice -n {os.nice(0)}; see load_avg"
    results: dict[str, Any] = {"issue": 15, "machine": machine,
                               "size": {"patents": args.patents, "enterprises": args.enterprises,
                                        "pushes": args.pushes}, "backends": {}}  # fmt: skip
    for backend in backends:
        key = f"p{args.patents}-e{args.enterprises}-u{args.pushes}"
        home = WORK / f"{backend}-{key}"
        url = None
        if backend == "postgresql":
            name = f"sl_bench_dash_{key}".replace("-", "_")
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
            admin.dispose()
            url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
        else:
            (home / "shuanglian.db").unlink(missing_ok=True)
        home.mkdir(parents=True, exist_ok=True)
        engine = make_engine(Settings(home=home, database_url=url))
        started = time.perf_counter()
        counts = generate(engine, patents=args.patents, enterprises=args.enterprises,
                          pushes=args.pushes)  # fmt: skip
        engine.dispose()
        result = {"rows": counts, "generate_s": round(time.perf_counter() - started, 1)}
        result.update(measure(home, url, requests=args.requests))
        results["backends"][backend] = result
        print(json.dumps({backend: result}, ensure_ascii=False, indent=1), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    # One backend at a time merges into the file when the size is the same.
    target = RESULTS / "dashboard.json"
    if target.is_file():
        earlier = json.loads(target.read_text(encoding="utf-8"))
        if earlier.get("size") == results["size"]:
            results["backends"] = {**earlier.get("backends", {}), **results["backends"]}
    body = json.dumps(results, ensure_ascii=False, indent=1) + "\n"
    (RESULTS / "dashboard.json").write_text(body, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
