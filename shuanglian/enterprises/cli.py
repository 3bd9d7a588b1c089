"""`shuanglian import enterprises|demands`: load enterprise registrations and their demands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shuanglian.cli.kit import (
    JsonOpt,
    err,
    open_session,
    print_import_report,
    require_file,
    run_command,
)
from shuanglian.config import Settings

imports = typer.Typer()  # mounted under `shuanglian import`

DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Report without writing")]


@imports.command("enterprises")
def import_enterprises_cmd(
    file: Annotated[Path, typer.Argument(help="Registration CSV or xlsx")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """导入企业 (import enterprises; keyed by credit code, else name)."""
    from shuanglian.enterprises.importers import import_enterprises

    def do(settings: Settings) -> dict[str, Any]:
        require_file(file)
        with (
            open_session(settings, bulk=not dry_run) as session,
            err.status("导入企业中 (importing enterprises)…"),
        ):
            report = import_enterprises(
                session, path=file, dry_run=dry_run, batch_size=settings.import_batch_size
            )
        return report.as_dict()

    print_import_report(run_command(as_json, do), as_json)


@imports.command("demands")
def import_demands_cmd(
    file: Annotated[Path, typer.Argument(help="Demands CSV, xlsx or JSON Lines")],
    enterprise: Annotated[
        str | None,
        typer.Option(help="Enterprise for rows that name none (created if new)"),
    ] = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """导入技术需求 (import enterprise technical demands)."""
    from shuanglian.enterprises.importers import import_demands

    def do(settings: Settings) -> dict[str, Any]:
        require_file(file)
        with open_session(settings, bulk=not dry_run) as session:
            report = import_demands(
                session,
                path=file,
                enterprise=enterprise,
                dry_run=dry_run,
                batch_size=settings.import_batch_size,
            )
        return report.as_dict()

    print_import_report(run_command(as_json, do), as_json)
