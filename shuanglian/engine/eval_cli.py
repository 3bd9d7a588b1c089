"""`shuanglian eval SUITE_DIR... [--run-dir DIR] [--json] [--signals bm25,ipc]` (Typer command).

The lead registers it: `app.command("eval")(eval_command)`. It only parses options, calls
`evaluate_suites` and renders; the JSON shape is the contract in DESIGN.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from shuanglian.engine.evaluate import DROP_IPC, METRICS, SuiteError, evaluate_suites
from shuanglian.engine.fusion import SIGNALS


def parse_signals(value: str | None) -> list[str] | None:
    """'bm25,ipc' → ['bm25', 'ipc']; None/'' → None (all signals); unknown names rejected."""
    if not value:
        return None
    names = [s.strip() for s in value.replace(" ", ",").split(",") if s.strip()]
    unknown = [s for s in names if s not in SIGNALS]
    if unknown:
        raise typer.BadParameter(
            f"未知信号 (unknown signals): {unknown}; 可选 {', '.join(SIGNALS)}"
        )
    return names


def eval_command(
    suites: Annotated[list[Path], typer.Argument(help="BEIR 格式评测集目录 (suite folders)")],
    run_dir: Annotated[
        Path | None, typer.Option("--run-dir", help="写出 TREC run 文件的目录 (write runs here)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON (print JSON)")] = False,
    signals: Annotated[
        str | None,
        typer.Option("--signals", help=f"只用这些信号, 逗号分隔 (only these): {','.join(SIGNALS)}"),
    ] = None,
    drop_ipc: Annotated[
        str | None,
        typer.Option(
            "--drop-ipc",
            help=f"忽略一侧的 IPC 分类号 (ignore IPC codes on): {'|'.join(DROP_IPC)}",
        ),
    ] = None,
) -> None:
    """评测匹配质量 (evaluate matching quality): nDCG@10, R@10, RR@10, R@100 per suite."""
    try:
        result = evaluate_suites(
            suites, run_dir=run_dir, signals=parse_signals(signals), drop_ipc=drop_ipc
        )
    except SuiteError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="匹配质量 (matching quality)")
    table.add_column("suite")
    table.add_column("direction")
    table.add_column("lang")
    for metric in METRICS:
        table.add_column(metric, justify="right")
    for suite in result["suites"]:
        table.add_row(
            suite["name"],
            suite["direction"],
            f"{suite['query_language']}→{suite['corpus_language']}",
            *(f"{suite['metrics'][m]:.4f}" for m in METRICS),
        )
    Console().print(table)
