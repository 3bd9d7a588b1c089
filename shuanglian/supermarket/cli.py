"""`shuanglian import listings`: an institution's register of technologies (科技成果) in one go."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shuanglian.cli.kit import JsonOpt, open_session, print_import_report, require_file, run_command
from shuanglian.config import Settings

imports = typer.Typer()  # mounted under `shuanglian import`


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
