"""What every domain's `cli.py` shares: settings, a unit of work, JSON output, the error exit.

A command body stays three lines over a service (the sqlite-utils habit):

    def do(settings: Settings) -> dict[str, Any]:
        with open_session(settings) as session:
            return some_service(session, ...)

    result = run_command(as_json, do)

Every command that changes data takes `--json` (`JsonOpt`) and then prints exactly one JSON
object. Errors a user can fix print one sentence (JSON: `{"error": {"code", "message",
"field"}}`) and exit 2; nothing prints a stack trace — an unexpected failure is written to
`SHUANGLIAN_HOME/logs/cli-errors.log`, named in one line, and exits 1.

This module imports no domain: domains import it, the root app (`main.py`) imports them.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from shuanglian.config import Settings, get_settings
from shuanglian.db import (
    make_engine,
    make_session_factory,
    refresh_statistics,
    session_scope,
    writer,
)
from shuanglian.errors import DomainError

err = Console(stderr=True)
out = Console()
T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
ERROR_LOG = "logs/cli-errors.log"  # under SHUANGLIAN_HOME


def group(help_text: str) -> typer.Typer:
    """A command group (`shuanglian inventory ...`); bare, it prints its help."""
    return typer.Typer(help=help_text, no_args_is_help=True)


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


def emit_json(data: Any) -> None:
    """Print `data` as one line of JSON (Chinese as is; dates, models, dataclasses converted)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=_default) + "\n")


def say(text: str) -> None:
    """One line of human-readable output (rich markup allowed)."""
    out.print(text)


def _log_unexpected(settings: Settings) -> Path:
    path = settings.home / ERROR_LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"--- {datetime.now(UTC).isoformat()} {' '.join(sys.argv)}\n")
        fh.write(traceback.format_exc())
    return path


def run_command(as_json: bool, fn: Callable[[Settings], T]) -> T:
    """Run `fn(settings)` turning errors into one clear line (or one JSON object) and exit 2."""
    settings = get_settings()
    try:
        return fn(settings)
    except DomainError as exc:
        if as_json:
            emit_json({"error": {"code": exc.code, "message": exc.message, "field": exc.field}})
        else:
            err.print(f"[red]错误 (error):[/red] {exc.message}")
        raise typer.Exit(2) from None
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 — the user gets one line, the log the trace
        log = _log_unexpected(settings)
        message = f"内部错误 (internal error): {type(exc).__name__}: {exc}. 详情见 {log}"
        if as_json:
            emit_json({"error": {"code": "internal", "message": message, "field": None}})
        else:
            err.print(f"[red]{message}[/red]")
        raise typer.Exit(1) from None


@contextmanager
def open_session(settings: Settings, *, bulk: bool = False) -> Iterator[Session]:
    """A unit of work: committed when the block ends, rolled back when it raises.

    After-commit hooks (mail, index refresh) run on the commit. `bulk` (imports) refreshes
    the query planner's statistics afterwards.
    """
    engine = make_engine(settings)
    try:
        # A CLI unit of work may write: on SQLite it takes the write lock as it begins.
        with session_scope(make_session_factory(writer(engine), settings)) as session:
            yield session
        if bulk:
            refresh_statistics(engine)
    finally:
        engine.dispose()


# After each committed batch of a long SQLite import, the write lock is left free this long:
# a waiting writer polls for it every 100 ms at most (SQLite's busy handler), and without the
# pause the importer took it back first every time (logins waited out their busy timeout).
BATCH_PAUSE_S = 0.15


def batch_checkpoint(session: Session) -> Callable[[], None] | None:
    """For importers' `checkpoint`: on SQLite, commit each batch and let other writers in;
    elsewhere None (the import stays one transaction; PostgreSQL locks only its own rows)."""
    if session.get_bind().dialect.name != "sqlite":
        return None

    def commit_and_pause() -> None:
        session.commit()
        time.sleep(BATCH_PAUSE_S)

    return commit_and_pause


def require_file(path: Path) -> None:
    """Refuse a missing file or an empty folder before any work starts."""
    if not path.exists():
        raise DomainError(f"文件不存在 (file not found): {path}", field="FILE")
    if path.is_dir() and not any(path.iterdir()):
        raise DomainError(f"文件夹为空 (empty folder): {path}", field="FILE")


def print_import_report(report: dict[str, Any], as_json: bool) -> None:
    """An importer's report: counts, then the first 50 rejected rows (all of them in JSON)."""
    if as_json:
        emit_json(report)
        return
    prefix = "[试运行 dry run] " if report.get("dry_run") else ""
    out.print(
        f"{prefix}新增 inserted {report['inserted']} · 更新 updated {report['updated']} · "
        f"未变 unchanged {report['unchanged']} · 拒绝 rejected {report['rejected']}"
    )
    for e in report["errors"][:50]:
        # markup=False: a column name in brackets ([标]当前申请人) is text, not a rich tag.
        out.print(f"  第 {e['row']} 行 (row) [{e['field']}]: {e['message']}", markup=False)
    total = int(report.get("error_count") or len(report["errors"]))
    if total > 50:
        out.print(
            f"  … 另有 {total - 50} 条错误，--json 列出前 {len(report['errors'])} 条"
            f" ({total - 50} more errors; --json lists the first {len(report['errors'])})"
        )
