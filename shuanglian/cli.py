"""The `shuanglian` command: thin wrappers that parse options, call one service, print.

Every command that changes data takes `--json` and then prints exactly one JSON object.
Errors a user can fix print one sentence (and exit 2); nothing prints a stack trace — an
unexpected failure is written to `SHUANGLIAN_HOME/logs/cli-errors.log` and named in one line.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from shuanglian.config import Settings, get_settings
from shuanglian.db import make_engine, make_session_factory, refresh_statistics, session_scope
from shuanglian.errors import DomainError

app = typer.Typer(help="双链 shuanglian — 创新链与产业链对接平台", no_args_is_help=True)
import_app = typer.Typer(help="导入专利、企业、需求 (import patents, enterprises, demands)")
index_app = typer.Typer(help="匹配索引 (matching index)")
match_app = typer.Typer(help="精准对接 (match in either direction)")
users_app = typer.Typer(help="用户 (users)")
app.add_typer(import_app, name="import")
app.add_typer(index_app, name="index")
app.add_typer(match_app, name="match")
app.add_typer(users_app, name="users")

err = Console(stderr=True)
out = Console()
T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    return str(value)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=_default) + "\n")


def _log_unexpected(settings: Settings) -> Path:
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / "cli-errors.log"
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
    """A committed unit of work; `bulk` (imports) refreshes the planner's statistics after."""
    engine = make_engine(settings)
    try:
        with session_scope(make_session_factory(engine)) as session:
            yield session
        if bulk:
            refresh_statistics(engine)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- init / stats


@app.command()
def init(as_json: JsonOpt = False) -> None:
    """创建或升级数据库并检查参考数据 (create or upgrade the database, check reference data)."""

    def do(settings: Settings) -> dict[str, Any]:
        from shuanglian.migrate import upgrade_database
        from shuanglian.reference import summary

        engine = make_engine(settings)
        try:
            before, after = upgrade_database(engine)
        finally:
            engine.dispose()
        return {
            "database": make_engine(settings).url.render_as_string(hide_password=True),
            "revision_before": before,
            "revision": after,
            "reference": summary(),
        }

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        out.print(f"数据库已就绪 (database ready): {result['database']} @ {result['revision']}")
        for name, count in result["reference"].items():
            out.print(f"  参考数据 {name}: {count}")


@app.command()
def stats(as_json: JsonOpt = False) -> None:
    """数据概况 (counts of what is in the database)."""

    def do(settings: Settings) -> dict[str, int]:
        from shuanglian.stats import database_counts

        with open_session(settings) as session:
            return database_counts(session)

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        for name, count in result.items():
            out.print(f"{name}: {count}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
) -> None:
    """启动网站与 API (serve the web platform and the JSON API)."""
    import uvicorn

    from shuanglian.web.app import create_app

    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
    )


# --------------------------------------------------------------------------- imports


def _print_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(report)
        return
    prefix = "[试运行 dry run] " if report.get("dry_run") else ""
    out.print(
        f"{prefix}新增 inserted {report['inserted']} · 更新 updated {report['updated']} · "
        f"未变 unchanged {report['unchanged']} · 拒绝 rejected {report['rejected']}"
    )
    for e in report["errors"][:50]:
        out.print(f"  第 {e['row']} 行 (row) [{e['field']}]: {e['message']}")
    if len(report["errors"]) > 50:
        out.print(f"  … 另有 {len(report['errors']) - 50} 条错误，用 --json 查看全部")


def _require_file(path: Path) -> None:
    if not path.exists():
        raise DomainError(f"文件不存在 (file not found): {path}", field="FILE")
    if path.is_dir() and not any(path.iterdir()):
        raise DomainError(f"文件夹为空 (empty folder): {path}", field="FILE")


@import_app.command("patents")
def import_patents_cmd(
    file: Annotated[Path, typer.Argument(help="CNIPA xlsx/csv, PatentsView TSV, USPTO XML, CSV")],
    institution: Annotated[str | None, typer.Option(help="Holding institution name")] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="auto|cnipa|patentsview|uspto-xml|csv")
    ] = "auto",
    mapping: Annotated[
        Path | None, typer.Option(help="Column mapping JSON for --format csv")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report without writing")] = False,
    as_json: JsonOpt = False,
) -> None:
    """导入专利 (import patents; re-import updates, never duplicates)."""

    def do(settings: Settings) -> dict[str, Any]:
        from shuanglian.patents.importers import import_patents

        _require_file(file)
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
            )
        return report.as_dict()

    _print_report(run_command(as_json, do), as_json)


@import_app.command("enterprises")
def import_enterprises_cmd(
    file: Annotated[Path, typer.Argument(help="Registration CSV or xlsx")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report without writing")] = False,
    as_json: JsonOpt = False,
) -> None:
    """导入企业 (import enterprises; keyed by credit code, else name)."""

    def do(settings: Settings) -> dict[str, Any]:
        from shuanglian.enterprises.importers import import_enterprises

        _require_file(file)
        with (
            open_session(settings, bulk=not dry_run) as session,
            err.status("导入企业中 (importing enterprises)…"),
        ):
            report = import_enterprises(
                session, path=file, dry_run=dry_run, batch_size=settings.import_batch_size
            )
        return report.as_dict()

    _print_report(run_command(as_json, do), as_json)


@import_app.command("demands")
def import_demands_cmd(
    file: Annotated[Path, typer.Argument(help="Demands CSV or xlsx")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report without writing")] = False,
    as_json: JsonOpt = False,
) -> None:
    """导入技术需求 (import enterprise technical demands)."""

    def do(settings: Settings) -> dict[str, Any]:
        from shuanglian.enterprises.importers import import_demands

        _require_file(file)
        with open_session(settings, bulk=not dry_run) as session:
            report = import_demands(
                session, path=file, dry_run=dry_run, batch_size=settings.import_batch_size
            )
        return report.as_dict()

    _print_report(run_command(as_json, do), as_json)


# --------------------------------------------------------------------------- users


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument()],
    role: Annotated[
        str,
        typer.Option(help="admin|institution_staff|enterprise_user|tech_manager|pilot_platform"),
    ],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, envvar="SHUANGLIAN_NEW_PASSWORD"
        ),
    ],
    institution: Annotated[str | None, typer.Option(help="Institution name (staff)")] = None,
    enterprise: Annotated[str | None, typer.Option(help="Enterprise name or credit code")] = None,
    email: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOpt = False,
) -> None:
    """创建用户 (create a user; the password is stored as an argon2 hash)."""

    def do(settings: Settings) -> dict[str, Any]:
        from shuanglian.accounts.service import create_user

        with open_session(settings) as session:
            user = create_user(
                session,
                username=username,
                password=password,
                role=role,
                institution_name=institution,
                enterprise_ref=enterprise,
                email=email,
            )
            return {"created": {"id": user.id, "username": user.username, "role": user.role}}

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        out.print(f"已创建用户 (user created): {username} ({role})")


# --------------------------------------------------------------------------- matching


@index_app.command("build")
def index_build(as_json: JsonOpt = False) -> None:
    """建立匹配索引 (build the patent and enterprise indexes from the database)."""

    def do(settings: Settings) -> dict[str, Any]:
        from shuanglian.matching.service import build_index

        with open_session(settings) as session, err.status("建立索引中 (building indexes)…"):
            return build_index(session, settings=settings)

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        out.print_json(data=result)


@index_app.command("refresh")
def index_refresh(as_json: JsonOpt = False) -> None:
    """增量更新索引 (add new/changed rows and drop deleted ones without a full rebuild)."""

    def do(settings: Settings) -> dict[str, Any]:
        from shuanglian.matching.service import refresh_index

        with open_session(settings) as session:
            return refresh_index(session, settings=settings)

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        out.print_json(data=result)


TopOpt = Annotated[int, typer.Option("--top", help="How many results (1–500)")]


def _match(kind: str, object_id: int, top: int, as_json: bool) -> None:
    def do(settings: Settings) -> list[Any]:
        from shuanglian.matching import service

        matchers: dict[str, Callable[..., list[Any]]] = {
            "patent": service.match_patent,
            "enterprise": service.match_enterprise,
            "demand": service.match_demand,
        }
        fn = matchers[kind]
        with open_session(settings) as session:
            matches = fn(session, settings=settings, **{f"{kind}_id": object_id}, top=top)
            return [m.model_dump(mode="json") for m in matches]

    matches = run_command(as_json, do)
    if as_json:
        emit_json({"query": {"kind": kind, "id": object_id}, "matches": matches})
        return
    from rich.table import Table

    table = Table(title=f"{kind} {object_id} 的匹配结果 (matches)")
    for col in ("#", "id", "name", "score", "why"):
        table.add_column(col)
    for i, m in enumerate(matches, 1):
        exp = m.get("explanation") or {}
        terms = ", ".join(t["term"] for t in (exp.get("terms") or [])[:5])
        table.add_row(
            str(i),
            str(m.get("id")),
            str(m.get("name") or m.get("title")),
            f"{m.get('score', 0):.3f}",
            terms,
        )
    out.print(table)


@match_app.command("patent")
def match_patent_cmd(patent_id: int, top: TopOpt = 20, as_json: JsonOpt = False) -> None:
    """为专利找企业 (enterprises that can use this patent)."""
    _match("patent", patent_id, top, as_json)


@match_app.command("enterprise")
def match_enterprise_cmd(enterprise_id: int, top: TopOpt = 20, as_json: JsonOpt = False) -> None:
    """为企业找专利 (patents this enterprise should see)."""
    _match("enterprise", enterprise_id, top, as_json)


@match_app.command("demand")
def match_demand_cmd(demand_id: int, top: TopOpt = 20, as_json: JsonOpt = False) -> None:
    """为技术需求找专利 (patents for a technical demand)."""
    _match("demand", demand_id, top, as_json)


def _register_subcommands() -> None:
    from shuanglian.dbcheck.cli import app as db_app
    from shuanglian.demo import demo_seed
    from shuanglian.engine.eval_cli import eval_command
    from shuanglian.inventory.cli import app as inventory_app

    app.command("eval")(eval_command)
    app.add_typer(inventory_app, name="inventory")
    app.add_typer(db_app, name="db")
    demo_app = typer.Typer(help="演示数据 (demo data)", no_args_is_help=True)
    demo_app.command("seed")(demo_seed)
    app.add_typer(demo_app, name="demo")


_register_subcommands()


def main() -> None:  # pragma: no cover - console entry point
    app()
