"""`shuanglian import listings`: an institution's register of technologies (科技成果) in one go."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shuanglian.cli.kit import (
    JsonOpt,
    emit_json,
    group,
    open_session,
    print_import_report,
    require_file,
    run_command,
    say,
)
from shuanglian.config import Settings

imports = typer.Typer()  # mounted under `shuanglian import`
market_app = group("科技成果超市 (technology market)")
commands = typer.Typer()  # merged into the root command
commands.add_typer(market_app, name="market")


@imports.command("listings")
def import_listings_cmd(
    file: Annotated[Path, typer.Argument(help="科技成果 CSV, xlsx or JSON Lines")],
    institution: Annotated[str, typer.Option(help="Institution holding the listings")],
    publish: Annotated[
        bool, typer.Option("--publish", help="Publish new listings at once (else drafts)")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report without writing")] = False,
    as_json: JsonOpt = False,
) -> None:
    """导入科技成果 (import an institution's technology listings; re-import updates)."""
    from shuanglian.supermarket.importers import import_listings

    def do(settings: Settings) -> dict[str, Any]:
        require_file(file)
        with open_session(settings, bulk=not dry_run) as session:
            report = import_listings(
                session,
                path=file,
                institution=institution,
                publish=publish,
                dry_run=dry_run,
                batch_size=settings.import_batch_size,
            )
        return report.as_dict()

    print_import_report(run_command(as_json, do), as_json)


@market_app.command("alerts")
def market_alerts_cmd(
    base_url: Annotated[
        str,
        typer.Option(help="Site address for links when SHUANGLIAN_PUBLIC_URL is not set"),
    ] = "http://127.0.0.1:8000",
    as_json: JsonOpt = False,
) -> None:
    """发送关注提醒邮件 (e-mail each user the listings new to their follows; run from cron —
    each listing is sent to each user once)."""
    from shuanglian.supermarket.alerts import send_alerts

    def do(settings: Settings) -> dict[str, Any]:
        with open_session(settings) as session:
            report = send_alerts(session, settings=settings, base_url=base_url)
        return report.as_dict()

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        say(
            f"已发送 {result['users_mailed']} 封提醒，共 {result['listings_sent']} 项新成果 "
            f"({result['users_mailed']} e-mails, {result['listings_sent']} listings)"
        )
