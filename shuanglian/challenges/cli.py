"""`shuanglian challenges …`: the deadline tick for cron / a systemd timer, and a list."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from shuanglian.cli.kit import JsonOpt, emit_json, group, open_session, out, run_command
from shuanglian.config import Settings
from shuanglian.labels import label

app = group("揭榜挂帅 (enterprise challenges)")
commands = typer.Typer()  # merged into the root command
commands.add_typer(app, name="challenges")


@app.command("tick")
def tick_cmd(
    today: Annotated[
        str | None, typer.Option(help="按此日期执行 (run as of this date, YYYY-MM-DD)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """按截止日期推进榜单：截止报名、过期 (close and expire at deadlines; idempotent)."""
    from shuanglian.challenges import service
    from shuanglian.errors import DomainError

    def do(settings: Settings) -> dict[str, Any]:
        try:
            day = date.fromisoformat(today) if today else None
        except ValueError as exc:
            raise DomainError("日期格式应为 YYYY-MM-DD (bad --today)", field="today") from exc
        with open_session(settings) as session:
            return service.tick(session, today=day)

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
        return
    out.print(
        f"{result['date']}: 截止报名 closed {len(result['closed'])} · "
        f"过期 expired {len(result['expired'])}"
    )


@app.command("list")
def list_cmd(
    status: Annotated[str | None, typer.Option(help="状态 (status)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """列出公开榜单 (list public challenges)."""
    from shuanglian.challenges import service

    def do(settings: Settings) -> dict[str, Any]:
        with open_session(settings) as session:
            page = service.search_challenges(session, status=status, limit=500)
            return {
                "total": page.total,
                "items": [
                    {
                        "id": c.id,
                        "title": c.title,
                        "status": c.status,
                        "status_label": label("challenge_status", c.status),
                        "budget": str(c.budget),
                    }
                    for c in page.items
                ],
            }

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
        return
    for c in result["items"]:
        out.print(f"{c['id']:>5}  [{c['status_label']}]  {c['title']}  {c['budget']} 万元")
