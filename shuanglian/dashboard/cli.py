"""`shuanglian report`: the dashboard of a scope as figures (terminal or --json), a PDF and/or
an Excel workbook; `shuanglian report schedule` writes the monthly/quarterly reports (cron)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from shuanglian.cli.kit import JsonOpt, emit_json, open_session, run_command, say
from shuanglian.config import Settings

report_app = typer.Typer(
    help="数据报告：核心指标、漏斗与分项统计 (dashboard report: figures, funnel, breakdowns)",
    invoke_without_command=True,
)
commands = typer.Typer()  # merged into the root command
commands.add_typer(report_app, name="report")

TodayOpt = Annotated[
    str | None,
    typer.Option("--today", help="YYYY-MM-DD（默认北京时间今天）(default: today in China)"),
]


def _today(text: str | None) -> date | None:
    from shuanglian.errors import DomainError

    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DomainError(f"日期格式须为 YYYY-MM-DD (date must be YYYY-MM-DD): {text!r}",
                          field="--today") from None  # fmt: skip


@report_app.callback()
def report(
    ctx: typer.Context,
    institution: Annotated[
        int | None, typer.Option("--institution", help="机构 id (institution id)")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="省级代码或名称，如 32 / 江苏 (province)")
    ] = None,
    period: Annotated[
        str | None,
        typer.Option("--period", help="2026-11 | 2026Q4 | 2026 | 2026-01-05..2026-02-20"),
    ] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="写出 PDF 报告 (write a PDF)")] = None,
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="写出 Excel 报告 (write a workbook)")
    ] = None,
    today: TodayOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """生成数据报告 (make a report for the platform, a province or an institution)."""
    if ctx.invoked_subcommand is not None:
        return
    from shuanglian.dashboard.report import report_data, report_pdf, report_xlsx
    from shuanglian.errors import DomainError, NotFound
    from shuanglian.figures import Scope
    from shuanglian.patents.models import Institution

    def do(settings: Settings) -> dict[str, Any]:
        try:
            scope = Scope.parse(institution_id=institution, region=region, period=period)
        except ValueError as exc:
            raise DomainError(
                str(exc), field="--period" if "统计期" in str(exc) else "--region"
            ) from None
        day = _today(today)
        with open_session(settings) as session:
            if institution is not None and session.get(Institution, institution) is None:
                raise NotFound(f"机构 {institution} 不存在 (institution not found)")
            data = report_data(session, scope=scope, today=day)
            if pdf is not None:
                pdf.write_bytes(report_pdf(session, scope=scope, today=day))
                data["pdf"] = str(pdf)
            if xlsx is not None:
                xlsx.write_bytes(report_xlsx(session, scope=scope, today=day))
                data["xlsx"] = str(xlsx)
        return data

    data = run_command(as_json, do)
    if as_json:
        emit_json(data)
        return
    from shuanglian.figures import BY_KEY

    say(f"[bold]{data['scope']['title']}[/bold]")
    for key, value in data["figures"].items():
        typer.echo(
            f"  {BY_KEY[key].label}: {value:,}"
            if isinstance(value, int)
            else f"  {BY_KEY[key].label}: {value:,.2f}"
        )
    funnel = data["tables"]["funnel"]["rows"]
    typer.echo("  漏斗 funnel: " + " → ".join(f"{r[0]} {r[1]:,}" for r in funnel))
    for kind in ("pdf", "xlsx"):
        if kind in data:
            typer.echo(f"  已写出 wrote {data[kind]}")


@report_app.command("schedule")
def schedule(
    today: TodayOpt = None,
    period: Annotated[
        str | None,
        typer.Option("--period", help="只生成该期（默认上月，季末加上季度）(only this period)"),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="重写已有的报告 (rewrite existing files)")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """定期报告：写出上月（季末加上季度）的全平台与各机构报告；可重复运行 (idempotent, for cron)."""
    from shuanglian.dashboard.schedule import generate_scheduled, reports_dir
    from shuanglian.errors import DomainError
    from shuanglian.figures import parse_period, today_in_china

    def do(settings: Settings) -> dict[str, Any]:
        day = _today(today) or today_in_china()
        try:
            periods = [parse_period(period)] if period else None
        except ValueError as exc:
            raise DomainError(str(exc), field="--period") from None
        with open_session(settings) as session:
            result = generate_scheduled(session, settings, today=day, periods=periods, force=force)
        return {
            "folder": str(reports_dir(settings)),
            "written": result.written,
            "kept": result.kept,
        }

    data = run_command(as_json, do)
    if as_json:
        emit_json(data)
    else:
        typer.echo(
            f"写出 written {len(data['written'])}，已存在 kept {len(data['kept'])}："
            f"{data['folder']}"
        )


@report_app.command("refresh")
def refresh(today: TodayOpt = None, as_json: JsonOpt = False) -> None:
    """预先计算仪表盘汇总（全平台及各省，全部/本月/本季/本年）；只重算数据有变化的部分，可重复运行
    (precompute the dashboards' figures and tables; only what changed is recomputed)."""
    from shuanglian.dashboard.refresh import refresh as do_refresh
    from shuanglian.figures import today_in_china

    def do(settings: Settings) -> dict[str, Any]:
        day = _today(today) or today_in_china()
        with open_session(settings) as session:
            return do_refresh(session, today=day)

    data = run_command(as_json, do)
    if as_json:
        emit_json(data)
    else:
        typer.echo(
            f"统计范围 scopes {data['scopes']}：重算 computed {data['computed']}，"
            f"未变 unchanged {data['unchanged']}"
        )
