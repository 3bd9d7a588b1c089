"""`shuanglian deals ...`: the reminder job for cron and the registration export."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from shuanglian.cli.kit import JsonOpt, emit_json, group, open_session, run_command
from shuanglian.config import Settings

app = group("技术经理人与洽谈项目 (deals, contracts, open licences)")
commands = typer.Typer()  # merged into the root command
commands.add_typer(app, name="deals")


@app.command("remind")
def remind(
    today: Annotated[
        str | None, typer.Option("--today", help="YYYY-MM-DD (default: today in China)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """提醒到期待办（每天可多次运行，同一天只提醒一次）(remind due next actions; idempotent)."""
    from shuanglian.deals.pipeline import remind_due_actions

    def do(settings: Settings) -> dict[str, Any]:
        day = date.fromisoformat(today) if today else None
        with open_session(settings) as session:
            return remind_due_actions(session, today=day)

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        typer.echo(f"到期待办 due {result['due']}，已提醒 reminded {result['reminded']}")


@app.command("registration")
def registration(
    out: Annotated[Path, typer.Argument(help="output file: .xlsx or .json")],
    as_user: Annotated[str, typer.Option("--as", help="以该用户身份导出 (export as this user)")],
    as_json: JsonOpt = False,
) -> None:
    """导出技术合同登记数据 (export contracts for technology-contract registration)."""
    from sqlalchemy import select

    from shuanglian.accounts.models import User
    from shuanglian.deals import registration as reg
    from shuanglian.errors import NotFound

    def do(settings: Settings) -> dict[str, Any]:
        with open_session(settings) as session:
            user = session.scalar(select(User).where(User.username == as_user))
            if user is None:
                raise NotFound(f"用户 {as_user} 不存在 (user not found)")
            rows = reg.registration_rows(session, actor=user)
        if out.suffix.lower() == ".json":
            out.write_text(reg.registration_json(rows), encoding="utf-8")
        else:
            out.write_bytes(reg.registration_xlsx(rows))
        return {"contracts": len(rows), "file": str(out)}

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        typer.echo(f"已导出 exported {result['contracts']} → {result['file']}")
