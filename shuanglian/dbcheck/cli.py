"""`shuanglian db check`: print the database health report (or one JSON object)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shuanglian.cli.kit import emit_json, group, run_command
from shuanglian.config import Settings

app = group("数据库 (database)")
commands = typer.Typer()  # merged into the root command
commands.add_typer(app, name="db")


@app.command("check")
def db_check(
    slow_ms: Annotated[
        float, typer.Option("--slow-ms", help="慢查询阈值 (slow query, ms)")
    ] = 100.0,
    big_rows: Annotated[
        int, typer.Option("--big-rows", help="全表扫描告警的行数 (rows that make a scan slow)")
    ] = 10_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """检查索引、表大小与关键查询计划 (missing indexes, table sizes, slow plans)."""
    from shuanglian.db import make_engine
    from shuanglian.dbcheck.service import check_database

    def do(settings: Settings) -> dict[str, Any]:
        engine = make_engine(settings)
        try:
            report = check_database(engine, slow_ms=slow_ms, big_rows=big_rows)
        finally:
            engine.dispose()
        return {**report.to_json(), "ok": report.ok}

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
        if not result["ok"]:
            raise typer.Exit(1)
        return
    say = typer.echo
    say(f"数据库 (database): {result['backend']}")
    say("缺少的索引 (missing indexes):" + ("" if result["missing_indexes"] else " 无 (none)"))
    for m in result["missing_indexes"]:
        say(f"  {m['table']} ({m['columns']}) — {m['why']}")
    say("表大小 (table sizes):")
    for t in result["tables"][:15]:
        size = f"{t['bytes'] / 2**20:,.1f} MiB" if t["bytes"] is not None else "?"
        say(f"  {t['table']:<32} {t['rows']:>12,} rows  {size:>12}")
    say("关键查询 (key queries):")
    for p in result["plans"]:
        flag = "慢 SLOW" if p["slow"] else "ok"
        say(f"  [{flag}] {p['name']} {p['ms']} ms — {p['purpose']}")
        for reason in p["reasons"]:
            say(f"      {reason}")
        for line in p["plan"]:
            say(f"      {line}")
    if not result["ok"]:
        raise typer.Exit(1)
