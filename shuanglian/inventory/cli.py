"""`shuanglian inventory ...`: thin wrappers over the inventory services.

Every data-changing command takes `--json` and then prints one JSON object. `--as USERNAME`
runs a command as that user, with their permissions and their name in the audit log; without
it a command runs as the platform operator (commands that record a person's decision — review,
self-assessment import — require `--as`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.config import Settings
from shuanglian.errors import DomainError, NotFound
from shuanglian.matching import cli as matching_cli

app = typer.Typer(
    help="存量专利盘点与盘活 (inventory, pool, push, feedback, tiers, reports)",
    no_args_is_help=True,
)
batch_app = typer.Typer(help="盘点批次 (inventory batches)", no_args_is_help=True)
assess_app = typer.Typer(help="专利自评 (self-assessment)", no_args_is_help=True)
pool_app = typer.Typer(help="可转化资源库 (convertible pool)", no_args_is_help=True)
push_app = typer.Typer(help="按产业细分领域推送 (push rounds)", no_args_is_help=True)
feedback_app = typer.Typer(help="企业评价反馈 (enterprise feedback)", no_args_is_help=True)
app.add_typer(batch_app, name="batch")
app.add_typer(assess_app, name="assess")
app.add_typer(pool_app, name="pool")
app.add_typer(push_app, name="push")
app.add_typer(feedback_app, name="feedback")
push_app.command("bulk")(matching_cli.push_bulk)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
AsOpt = Annotated[str | None, typer.Option("--as", help="以该用户身份执行 (act as this user)")]
InstOpt = Annotated[int | None, typer.Option("--institution", help="单位 ID (institution id)")]


def _run(as_json: bool, fn: Any) -> Any:
    # The root CLI owns error rendering; imported late so mounting this app creates no cycle.
    from shuanglian.cli import run_command

    return run_command(as_json, fn)


def _emit(data: Any) -> None:
    from shuanglian.cli import emit_json

    emit_json(data)


def _session(settings: Settings) -> Any:
    from shuanglian.cli import open_session

    return open_session(settings)


def _actor(session: Session, username: str | None, *, required: bool = False) -> User | None:
    if username is None:
        if required:
            raise DomainError("此操作需指定执行人 --as USERNAME (this needs --as USERNAME)")
        return None
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户“{username}”不存在 (user not found)")
    return user


def _say(text: str) -> None:
    from shuanglian.cli import out

    out.print(text)


# --------------------------------------------------------------------------- batches


@batch_app.command("create")
def batch_create(
    institution: Annotated[int, typer.Option("--institution", help="单位 ID")],
    name: Annotated[str, typer.Option("--name", help="批次名称")],
    college: Annotated[int | None, typer.Option("--college", help="院系 ID")] = None,
    source_file: Annotated[
        str | None, typer.Option("--source-file", help="取该导入文件中本单位尚未盘点的专利")
    ] = None,
    patent_id: Annotated[list[int] | None, typer.Option("--patent-id")] = None,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """创建盘点批次 (create a batch from an import's file or listed patents)."""
    from shuanglian.inventory.service import create_batch

    def do(settings: Settings) -> dict[str, Any]:
        with _session(settings) as session:
            batch, added, skipped = create_batch(
                session,
                actor=_actor(session, as_user),
                institution_id=institution,
                name=name,
                college_id=college,
                patent_ids=patent_id or [],
                source_file=source_file,
            )
            return {"batch_id": batch.id, "added": added, "skipped_already_inventoried": skipped}

    result = _run(as_json, do)
    if as_json:
        _emit(result)
    else:
        _say(
            f"已创建批次 {result['batch_id']}：加入 {result['added']} 件，"
            f"已盘点跳过 {result['skipped_already_inventoried']} 件"
        )


@batch_app.command("progress")
def batch_progress_cmd(batch_id: int, as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """批次进度 (how many patents are self-assessed and reviewed)."""
    from shuanglian.inventory.service import batch_progress

    def do(settings: Settings) -> dict[str, Any]:
        with _session(settings) as session:
            return batch_progress(session, actor=_actor(session, as_user), batch_id=batch_id)

    result = _run(as_json, do)
    if as_json:
        _emit(result)
    else:
        _say(
            f"{result['name']}：共 {result['total']} 件，已自评 {result['self_assessed']}，"
            f"已审核 {result['reviewed']}，在库 {result['pooled']}"
        )


# --------------------------------------------------------------------------- self-assessment


@assess_app.command("template")
def assess_template(
    file: Path,
    institution: InstOpt = None,
    batch: Annotated[int | None, typer.Option("--batch")] = None,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """生成自评 Excel 模板，预填待自评专利 (write the self-assessment workbook)."""
    from shuanglian.inventory.importers import write_assessment_template

    def do(settings: Settings) -> dict[str, Any]:
        with _session(settings) as session:
            rows = write_assessment_template(
                session,
                actor=_actor(session, as_user),
                path=file,
                batch_id=batch,
                institution_id=institution,
            )
            return {"file": str(file), "rows": rows}

    result = _run(as_json, do)
    if as_json:
        _emit(result)
    else:
        _say(f"已生成 {result['file']}（{result['rows']} 件待自评）")


@assess_app.command("import")
def assess_import(
    file: Path,
    as_user: AsOpt = None,
    no_submit: Annotated[bool, typer.Option("--no-submit", help="只保存，不提交审核")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run")] = False,
    as_json: JsonOpt = False,
) -> None:
    """导入填好的自评表 (import a filled self-assessment workbook)."""
    from shuanglian.inventory.importers import import_assessments

    def do(settings: Settings) -> dict[str, Any]:
        with _session(settings) as session:
            actor = _actor(session, as_user, required=True)
            assert actor is not None
            return import_assessments(
                session, actor=actor, path=file, submit=not no_submit, dry_run=dry_run
            ).as_dict()

    result = _run(as_json, do)
    if as_json:
        _emit(result)
    else:
        _say(f"新增 {result['inserted']}，更新 {result['updated']}，拒绝 {result['rejected']}")
        for e in result["errors"]:
            _say(f"  第 {e['row']} 行 [{e['field']}]：{e['message']}")


# --------------------------------------------------------------------------- review


@app.command("review")
def review(
    item_id: Annotated[int | None, typer.Argument(help="盘点条目 ID；省略则列出待审")] = None,
    decision: Annotated[str | None, typer.Argument(help="approve / return / reject")] = None,
    comment: Annotated[str | None, typer.Option("--comment")] = None,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """审核：列出待审，或对一件作出 approve/return/reject (review queue or one decision)."""
    from shuanglian.inventory.review import STATUS_LABELS, review_item
    from shuanglian.inventory.service import list_items

    def do(settings: Settings) -> dict[str, Any]:
        with _session(settings) as session:
            actor = _actor(session, as_user, required=True)
            assert actor is not None
            if item_id is None:
                items = [
                    i
                    for s in ("college_review", "institution_review")
                    for i in list_items(session, actor=actor, status=s)
                ]
                return {
                    "queue": [
                        {"item_id": i.id, "patent_id": i.patent_id, "status": i.status}
                        for i in items
                    ]
                }
            if decision is None:
                raise DomainError("请给出审核结论 approve/return/reject", field="decision")
            item = review_item(
                session, actor=actor, item_id=item_id, decision=decision, comment=comment
            )
            return {
                "item_id": item.id,
                "status": item.status,
                "status_label": STATUS_LABELS[item.status],
            }

    result = _run(as_json, do)
    if as_json:
        _emit(result)
    elif "queue" in result:
        for row in result["queue"]:
            _say(f"{row['item_id']}\t专利 {row['patent_id']}\t{row['status']}")
    else:
        _say(f"条目 {result['item_id']} → {result['status_label']}")


# --------------------------------------------------------------------------- pool


@pool_app.command("list")
def pool_list(
    institution: InstOpt = None,
    tier: Annotated[int | None, typer.Option("--tier")] = None,
    grade: Annotated[str | None, typer.Option("--grade")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """列出资源库中的专利 (list pooled patents, best first)."""
    from shuanglian.inventory.pool import list_pool

    def do(settings: Settings) -> dict[str, Any]:
        with _session(settings) as session:
            rows = list_pool(
                session,
                actor=_actor(session, as_user),
                institution_id=institution,
                tier=tier,
                grade=grade,
                limit=limit,
            )
            return {
                "pool": [
                    {
                        "patent_id": p.id,
                        "application_number": p.application_number,
                        "title": p.title,
                        "grade": e.grade,
                        "score": e.score,
                        "tier": e.tier,
                        "entered_at": e.entered_at.isoformat(),
                    }
                    for e, p in rows
                ]
            }

    result = _run(as_json, do)
    if as_json:
        _emit(result)
    else:
        for r in result["pool"]:
            _say(
                f"{r['application_number']}\t{r['grade'] or '-'}\t{r['score'] or '-'}\t"
                f"T{r['tier'] or '-'}\t{r['title']}"
            )


@pool_app.command("withdraw")
def pool_withdraw(
    patent_id: int,
    reason: Annotated[str, typer.Option("--reason")],
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """单位撤回出库 (the institution withdraws a patent from the pool)."""
    from shuanglian.inventory.review import apply_transition
    from shuanglian.inventory.service import item_for_patent

    def do(settings: Settings) -> dict[str, Any]:
        with _session(settings) as session:
            actor = _actor(session, as_user, required=True)
            item = item_for_patent(session, patent_id=patent_id)
            if item is None:
                raise NotFound(f"专利 {patent_id} 未盘点 (not inventoried)")
            apply_transition(
                session, actor=actor, item_id=item.id, action="withdraw", comment=reason
            )
            return {"patent_id": patent_id, "status": item.status}

    result = _run(as_json, do)
    if as_json:
        _emit(result)
    else:
        _say(f"专利 {patent_id} 已撤回出库")


@app.command("indicators")
def indicators(
    institution: InstOpt = None,
    patent: Annotated[int | None, typer.Option("--patent", help="显示一件专利的指标明细")] = None,
    as_json: JsonOpt = False,
) -> None:
    """计算资源库专利的价值指标与评级 (compute value indicators and grades)."""
    from shuanglian.inventory.indicators import assess_pool, default_industry_link, explain
    from shuanglian.inventory.models import PoolEntry

    def do(settings: Settings) -> dict[str, Any]:
        with _session(settings) as session:
            counts = assess_pool(
                session, industry_link=default_industry_link(), institution_id=institution
            )
            result: dict[str, Any] = {"grades": counts}
            if patent is not None:
                entry = session.scalar(select(PoolEntry).where(PoolEntry.patent_id == patent))
                if entry is None:
                    raise NotFound(f"专利 {patent} 不在资源库中 (not pooled)")
                result["patent"] = explain(entry.indicators)
            return result

    result = _run(as_json, do)
    if as_json:
        _emit(result)
        return
    _say("评级分布：" + "，".join(f"{g} {n}" for g, n in result["grades"].items()))
    if "patent" in result:
        p = result["patent"]
        _say(f"得分 {p['score']}，评级 {p['grade']}，建议分层 {p['suggested_tier']}")
        for i in p["indicators"]:
            _say(f"  {i['label']}\t{i['contribution']:>6}\t{i['reason']}")


# --------------------------------------------------------------------------- push and feedback


@push_app.command("round")
def push_round(
    per_patent: Annotated[int, typer.Option("--per-patent")] = 10,
    cap: Annotated[int, typer.Option("--cap", help="每家企业本轮最多收到几件")] = 20,
    institution: InstOpt = None,
    matcher: Annotated[str, typer.Option("--matcher", help="engine 或 industry")] = "engine",
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """运行一轮推送 (run one push round over the pool)."""
    from shuanglian.inventory.indicators import default_industry_link
    from shuanglian.inventory.push import engine_matcher, industry_matcher, run_push_round

    def do(settings: Settings) -> dict[str, Any]:
        with _session(settings) as session:
            if matcher == "industry":
                fn = industry_matcher(session, industry_link=default_industry_link())
            elif matcher == "engine":
                fn = engine_matcher(session, settings=settings)
            else:
                raise DomainError("--matcher 须为 engine 或 industry", field="matcher")
            rnd = run_push_round(
                session,
                actor=_actor(session, as_user),
                matcher=fn,
                per_patent=per_patent,
                per_enterprise_cap=cap,
                institution_id=institution,
                matcher_name=matcher,
            )
            return {
                "round_id": rnd.id,
                "patents_considered": rnd.patents_considered,
                "pushes_made": rnd.pushes_made,
                "skipped_already_pushed": rnd.skipped_already_pushed,
                "skipped_cap": rnd.skipped_cap,
            }

    result = _run(as_json, do)
    if as_json:
        _emit(result)
    else:
        _say(
            f"第 {result['round_id']} 轮：{result['patents_considered']} 件专利，"
            f"推送 {result['pushes_made']} 条"
        )


@feedback_app.command("template")
def feedback_template(
    file: Path,
    enterprise: Annotated[int, typer.Option("--enterprise")],
    round_id: Annotated[int | None, typer.Option("--round")] = None,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """生成企业反馈表，列出推送给该企业的专利 (write an enterprise's feedback workbook)."""
    from shuanglian.inventory.importers import write_feedback_template

    def do(settings: Settings) -> dict[str, Any]:
        with _session(settings) as session:
            rows = write_feedback_template(
                session,
                actor=_actor(session, as_user),
                enterprise_id=enterprise,
                path=file,
                round_id=round_id,
            )
            return {"file": str(file), "rows": rows}

    result = _run(as_json, do)
    if as_json:
        _emit(result)
    else:
        _say(f"已生成 {result['file']}（{result['rows']} 件）")


@feedback_app.command("import")
def feedback_import(
    file: Path,
    enterprise: Annotated[int | None, typer.Option("--enterprise")] = None,
    as_user: AsOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run")] = False,
    as_json: JsonOpt = False,
) -> None:
    """导入企业填回的反馈表 (import a feedback workbook returned by an enterprise)."""
    from shuanglian.inventory.importers import import_feedback

    def do(settings: Settings) -> dict[str, Any]:
        with _session(settings) as session:
            return import_feedback(
                session,
                actor=_actor(session, as_user),
                path=file,
                enterprise_id=enterprise,
                dry_run=dry_run,
            ).as_dict()

    result = _run(as_json, do)
    if as_json:
        _emit(result)
    else:
        _say(f"新增 {result['inserted']}，更新 {result['updated']}，拒绝 {result['rejected']}")
        for e in result["errors"]:
            _say(f"  第 {e['row']} 行 [{e['field']}]：{e['message']}")


# --------------------------------------------------------------------------- tiers, sync, report


@app.command("tiers")
def tiers(
    institution: InstOpt = None,
    min_rounds: Annotated[int, typer.Option("--min-rounds", help="维持审查建议：至少推送轮数")] = 2,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """重算分层推广，并列出维持审查建议 (recompute tiers; list maintenance suggestions)."""
    from shuanglian.inventory.tiers import maintenance_candidates, recompute_tiers

    def do(settings: Settings) -> dict[str, Any]:
        with _session(settings) as session:
            actor = _actor(session, as_user)
            result = recompute_tiers(session, actor=actor, institution_id=institution)
            if institution is not None:
                result["maintenance"] = maintenance_candidates(
                    session, actor=actor, institution_id=institution, min_rounds=min_rounds
                )
            return result

    result = _run(as_json, do)
    if as_json:
        _emit(result)
        return
    _say("分层：" + "，".join(f"第{k}层 {v}" for k, v in result["tiers"].items()))
    for d in result["deal_suggestions"]:
        _say(f"  建议开立对接：专利 {d['patent_id']} ↔ {d['enterprise_name']}（{d['intent']}）")
    for m in result.get("maintenance", []):
        _say(
            f"  维持审查建议 {m['application_number']}：{m['suggestion']}；"
            + "；".join(m["reasons"])
        )


@app.command("sync")
def sync(
    file: Path, institution: InstOpt = None, as_user: AsOpt = None, as_json: JsonOpt = False
) -> None:
    """动态盘点：导入新授权与法律状态变更 (new grants and legal-status changes)."""
    from shuanglian.inventory.importers import sync_inventory

    def do(settings: Settings) -> dict[str, Any]:
        with _session(settings) as session:
            return sync_inventory(
                session, actor=_actor(session, as_user), path=file, institution_id=institution
            )

    result = _run(as_json, do)
    if as_json:
        _emit(result)
    else:
        _say(
            f"新专利 {result['new_patents']}，状态变更 {result['status_changes']}，"
            f"失效出库 {len(result['left_pool'])}，拒绝 {result['rejected']}"
        )


@app.command("report")
def report(
    institution: InstOpt = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="同时写出 Excel")] = None,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """盘活统计（盘点数、入库数……已转化数）(statistics, as JSON and/or Excel)."""
    from shuanglian.inventory.reports import inventory_report, write_report_xlsx

    def do(settings: Settings) -> dict[str, Any]:
        with _session(settings) as session:
            data = inventory_report(
                session, actor=_actor(session, as_user), institution_id=institution
            )
        if xlsx is not None:
            write_report_xlsx(data, xlsx)
            data["xlsx"] = str(xlsx)
        return data

    result = _run(as_json, do)
    if as_json:
        _emit(result)
        return
    cols = result["columns"]
    _say("单位\t" + "\t".join(cols))
    for row in [*result["institutions"], {"institution": "合计", **result["total"]}]:
        _say(row["institution"] + "\t" + "\t".join(str(row[c]) for c in cols))
