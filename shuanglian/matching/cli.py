"""`shuanglian inventory push bulk`: the national-scale push as one resumable command.

A thin layer over `shuanglian.matching.bulk.run_bulk_job`: parse options, show a progress bar
per direction (rate and time left), print what was done. Registered on the inventory's
`push` group beside `push round` (shuanglian/inventory/cli.py).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shuanglian.config import Settings


def push_bulk(
    top: Annotated[
        int, typer.Option("--top", help="每件专利/每家企业保留几条 (hits kept per query)")
    ] = 20,
    cap: Annotated[
        int, typer.Option("--cap", help="每家企业本次最多收到几件 (per-enterprise cap)")
    ] = 100,
    directions: Annotated[
        str, typer.Option("--directions", help="both、p2e (专利→企业) 或 e2p (企业→专利)")
    ] = "both",
    shard_size: Annotated[
        int, typer.Option("--shard-size", help="每片查询数 (queries per shard)")
    ] = 2000,
    workers: Annotated[
        int | None, typer.Option("--workers", help="工作进程数，默认为 CPU 核数 (worker processes)")
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="在 Ray 上运行 (run on Ray): auto | HOST:PORT | local",
        ),
    ] = None,
    memory_gb: Annotated[
        float, typer.Option("--memory-budget-gb", help="内存预算 (memory budget, reported)")
    ] = 16.0,
    restart: Annotated[
        bool,
        typer.Option("--restart", help="放弃未完成的任务，重新开始 (abandon the unfinished job)"),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """全量推送，双向，分片提交，可断点续跑 (bulk push, both directions, resumable)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from shuanglian.cli import emit_json, err, run_command
    from shuanglian.db import make_engine
    from shuanglian.matching.bulk import BulkOptions, default_workers, run_bulk_job

    def do(settings: Settings) -> dict[str, Any]:
        options = BulkOptions(
            top=top,
            per_enterprise_cap=cap,
            directions=directions,
            shard_size=shard_size,
            workers=workers if workers is not None else default_workers(),
            ray_address=ray_address,
            memory_budget_gb=memory_gb,
            restart=restart,
        )
        engine = make_engine(settings)
        tasks: dict[str, TaskID] = {}
        labels = {"p2e": "专利→企业 (patent→enterprise)", "e2p": "企业→专利 (enterprise→patent)"}
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err,
            disable=as_json,
        )

        def progress(direction: str, done: int, total: int) -> None:
            if direction not in tasks:
                tasks[direction] = bar.add_task(labels[direction], total=total, rate="")
            task = tasks[direction]
            bar.update(task, completed=done)
            speed = bar.tasks[task].speed
            bar.update(task, rate=f"{speed:,.0f}/s" if speed else "")

        try:
            with bar:
                report = run_bulk_job(engine, settings=settings, options=options, progress=progress)
        finally:
            engine.dispose()
        return report.to_json()

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
        return
    say = typer.echo
    say(
        f"任务 {result['job_id']}（{'续跑' if result['resumed'] else '新任务'}，"
        f"{result['status']}）："
        f"推送 {result['pushes']} 条，企业推荐 {result['recommendations']} 条，"
        f"{result['wall_s']} 秒，{result['executor']} × {result['workers']}"
    )
    say(
        f"  跳过：已推送 {result['skipped_already_pushed']}，达上限 {result['skipped_cap']}，"
        f"坏记录 {result['skipped'] or 0}；峰值内存 PSS {result['memory'].get('peak_pss_mib')} MiB "
        f"(预算 {result['memory'].get('budget_mib')} MiB)"
    )
    for shard in result["failed_shards"]:
        say(
            f"  失败分片 (failed shard) {shard['direction']}:{shard['shard_no']} "
            f"ids {shard['first_id']}…{shard['last_id']} ({len(shard['query_ids'])}): "
            f"{shard['error']}"
        )
