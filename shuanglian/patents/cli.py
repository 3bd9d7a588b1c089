"""`shuanglian import patents`: load a patent export (CNIPA, PatentsView, USPTO XML, CSV)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shuanglian.cli.kit import (
    JsonOpt,
    batch_checkpoint,
    err,
    open_session,
    print_import_report,
    require_file,
    run_command,
)
from shuanglian.config import Settings

imports = typer.Typer()  # mounted under `shuanglian import`


@imports.command("patents")
def import_patents_cmd(
    file: Annotated[Path, typer.Argument(help="CNIPA xlsx/csv, PatentsView TSV, USPTO XML, CSV")],
    institution: Annotated[str | None, typer.Option(help="Holding institution name")] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="auto|cnipa|cnki|patsnap|patentsview|uspto-xml|csv")
    ] = "auto",
    mapping: Annotated[
        Path | None, typer.Option(help="Column mapping JSON for --format csv")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report without writing")] = False,
    as_json: JsonOpt = False,
) -> None:
    """导入专利 (import patents; re-import updates, never duplicates)."""
    from shuanglian.patents.importers import import_patents

    def do(settings: Settings) -> dict[str, Any]:
        require_file(file)
        with (
            open_session(settings, bulk=not dry_run) as session,
            err.status("导入专利中 (importing patents)…"),
        ):
            report = import_patents(
                session,
                path=file,
                fmt=fmt,
                institution=institution,
                mapping=mapping,
                dry_run=dry_run,
                batch_size=settings.import_batch_size,
                # SQLite has one write lock: commit each batch so the site keeps writing too.
                checkpoint=batch_checkpoint(session),
                batch_max_s=settings.import_batch_max_s,
            )
        return report.as_dict()

    print_import_report(run_command(as_json, do), as_json)
