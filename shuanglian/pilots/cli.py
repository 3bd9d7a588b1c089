"""`shuanglian pilots …` and `shuanglian import pilots FILE`: thin layers over the services."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shuanglian.cli.kit import JsonOpt, emit_json, group, open_session, out, run_command
from shuanglian.config import Settings

app = group("中试平台 (pilot platforms)")
commands = typer.Typer()  # merged into the root command
commands.add_typer(app, name="pilots")
imports = typer.Typer()  # mounted under `shuanglian import`


@imports.command("pilots")
def import_pilots_cmd(
    path: Annotated[Path, typer.Argument(help=".xlsx or .csv, one platform per row")],
    as_json: JsonOpt = False,
) -> None:
    """导入中试平台 (import pilot platforms; rejected rows are reported)."""
    from shuanglian.pilots.importers import import_pilots

    def do(settings: Settings) -> dict[str, Any]:
        with open_session(settings) as session:
            return import_pilots(session, path=path).as_dict()

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
        return
    out.print(
        f"新增 inserted {result['inserted']} · 更新 updated {result['updated']} · "
        f"未变 unchanged {result['unchanged']} · 拒绝 rejected {result['rejected']}"
    )
    for e in result["errors"]:
        out.print(f"  第 {e['row']} 行 (row) [{e['field']}]: {e['message']}")


@app.command("list")
def list_cmd(
    province: Annotated[str | None, typer.Option(help="省份 (province)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """列出中试平台 (list platforms)."""
    from shuanglian.pilots import service

    def do(settings: Settings) -> dict[str, Any]:
        with open_session(settings) as session:
            page = service.search_platforms(session, province=province, limit=500)
            return {
                "total": page.total,
                "items": [
                    {"id": p.id, "name": p.name, "level": p.level, "province": p.province}
                    for p in page.items
                ],
            }

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
        return
    for p in result["items"]:
        out.print(f"{p['id']:>5}  {p['name']}  {p['level']}  {p['province']}")


@app.command("link")
def link_cmd(platform_id: int, username: str, as_json: JsonOpt = False) -> None:
    """让中试平台用户管理该平台 (let a pilot_platform user manage a platform)."""
    from shuanglian.accounts.service import get_user_by_username
    from shuanglian.errors import NotFound
    from shuanglian.pilots import service

    def do(settings: Settings) -> dict[str, Any]:
        with open_session(settings) as session:
            user = get_user_by_username(session, username=username)
            if user is None:
                raise NotFound(f"用户不存在 (no such user): {username}")
            link = service.link_manager(
                session, actor=None, platform_id=platform_id, user_id=user.id, system=True
            )
            return {"platform_id": link.platform_id, "user": username}

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
        return
    out.print(f"{result['user']} → 平台 (platform) {result['platform_id']}")
