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
from shuanglian.cli.kit import JsonOpt, emit_json, group, open_session, run_command, say
from shuanglian.config import Settings
from shuanglian.errors import DomainError, NotFound
from shuanglian.matching import cli as matching_cli

app = group("存量专利盘点与盘活 (inventory, pool, push, feedback, tiers, reports)")
batch_app = group("盘点批次 (inventory batches)")
assess_app = group("专利自评 (self-assessment)")
pool_app = group("可转化资源库 (convertible pool)")
push_app = group("按产业细分领域推送 (push rounds)")
push_app.command("bulk")(matching_cli.push_bulk)
feedback_app = group("企业评价反馈 (enterprise feedback)")
app.add_typer(batch_app, name="batch")
app.add_typer(assess_app, name="assess")
app.add_typer(pool_app, name="pool")
app.add_typer(push_app, name="push")
app.add_typer(feedback_app, name="feedback")
commands = typer.Typer()  # merged into the root command
commands.add_typer(app, name="inventory")

AsOpt = Annotated[str | None, typer.Option("--as", help="以该用户身份执行 (act as this user)")]
InstOpt = Annotated[int | None, typer.Option("--institution", help="单位 ID (institution id)")]


def _actor(session: Session, username: str | None, *, required: bool = False) -> User | None:
    if username is None:
        if required:
            raise DomainError("此操作需指定执行人 --as USERNAME (this needs --as USERNAME)")
        return None
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户“{username}”不存在 (user not found)")
    return user


# --------------------------------------------------------------------------- batches


@batch_app.command("create")
def batch_create(
    institution: Annotated[int, typer.Option("--institution", help="单位 ID")],
    name: Annotated[str, typer.Option("--name", help="批次名称")],
    college: Annotated[int | None, typer.Option("--college", help="院系 ID")] = None,
    source_file: Annotated[
        str | None,
        typer.Option(
            "--source-file",
            help="取从该文件导入的本单位专利（导入时的路径或文件名）"
            " (patents imported from this file: the path you imported or its name)",
        ),
    ] = None,
    patent_id: Annotated[
        list[int] | None, typer.Option("--patent-id", help="专利 ID，可重复 (repeatable)")
    ] = None,
    include_lapsed: Annotated[
        bool,
        typer.Option(
            "--include-lapsed", help="也加入法律状态已失效的专利 (include lapsed patents)"
        ),
    ] = False,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """创建盘点批次 (create a batch of patents to inventory).

    With neither --source-file nor --patent-id the batch takes every patent of the institution
    not inventoried yet; a batch that would be empty is refused (exit 2) and nothing is created.
    Patents whose legal status says they lapsed are listed and left out unless --include-lapsed.
    """
    from shuanglian.inventory.service import build_batch

    def do(settings: Settings) -> dict[str, Any]:
        with open_session(settings) as session:
            built = build_batch(
                session,
                actor=_actor(session, as_user),
                institution_id=institution,
                name=name,
                college_id=college,
                patent_ids=patent_id or [],
                source_file=source_file,
                include_lapsed=include_lapsed,
            )
            return {
                "batch_id": built.batch.id,
                "added": built.added,
                "skipped_already_inventoried": built.skipped,
                "lapsed_left_out": [
                    {"patent_id": pid, "application_number": num, "legal_status": status}
                    for pid, num, status in built.lapsed_left_out
                ],
            }

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
        return
    say(
        f"已创建批次 {result['batch_id']}：加入 {result['added']} 件，"
        f"已盘点跳过 {result['skipped_already_inventoried']} 件"
    )
    lapsed = result["lapsed_left_out"]
    if lapsed:
        say(f"法律状态已失效、未加入 {len(lapsed)} 件（需要时加 --include-lapsed）：")
        for row in lapsed[:20]:
            say(f"  {row['application_number']}\t{row['legal_status']}")


@batch_app.command("progress")
def batch_progress_cmd(batch_id: int, as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """批次进度 (how many patents are self-assessed and reviewed)."""
    from shuanglian.inventory.service import batch_progress

    def do(settings: Settings) -> dict[str, Any]:
        with open_session(settings) as session:
            return batch_progress(session, actor=_actor(session, as_user), batch_id=batch_id)

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        say(
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
        with open_session(settings) as session:
            rows = write_assessment_template(
                session,
                actor=_actor(session, as_user),
                path=file,
                batch_id=batch,
                institution_id=institution,
            )
            return {"file": str(file), "rows": rows}

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        say(f"已生成 {result['file']}（{result['rows']} 件待自评）")


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
        with open_session(settings) as session:
            actor = _actor(session, as_user, required=True)
            assert actor is not None
            return import_assessments(
                session, actor=actor, path=file, submit=not no_submit, dry_run=dry_run
            ).as_dict()

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        say(f"新增 {result['inserted']}，更新 {result['updated']}，拒绝 {result['rejected']}")
        for e in result["errors"]:
            say(f"  第 {e['row']} 行 [{e['field']}]：{e['message']}")


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
        with open_session(settings) as session:
            actor = _actor(session, as_user, required=True)
            assert actor is not None
            if item_id is None:
                from shuanglian.patents.service import patents_by_id

                items = [
                    i
                    for s in ("college_review", "institution_review")
                    for i in list_items(session, actor=actor, status=s, limit=10_000)
                ]
                patents = patents_by_id(session, ids=[i.patent_id for i in items])
                return {
                    "queue": [
                        {
                            "item_id": i.id,
                            "patent_id": i.patent_id,
                            "application_number": patents[i.patent_id].application_number,
                            "title": patents[i.patent_id].title,
                            "status": i.status,
                            "status_label": STATUS_LABELS.get(i.status, i.status),
                        }
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

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    elif "queue" in result:
        if not result["queue"]:
            say("没有待审核的条目 (nothing awaits review)")
        for row in result["queue"]:
            say(
                f"{row['item_id']}\t{row['application_number']}\t{row['title']}\t"
                f"{row['status_label']}"
            )
    else:
        say(f"条目 {result['item_id']} → {result['status_label']}")


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
        with open_session(settings) as session:
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

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        for r in result["pool"]:
            say(
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
        with open_session(settings) as session:
            actor = _actor(session, as_user, required=True)
            item = item_for_patent(session, patent_id=patent_id)
            if item is None:
                raise NotFound(f"专利 {patent_id} 未盘点 (not inventoried)")
            apply_transition(
                session, actor=actor, item_id=item.id, action="withdraw", comment=reason
            )
            return {"patent_id": patent_id, "status": item.status}

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        say(f"专利 {patent_id} 已撤回出库")


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
        with open_session(settings) as session:
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

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
        return
    say("评级分布：" + "，".join(f"{g} {n}" for g, n in result["grades"].items()))
    if "patent" in result:
        p = result["patent"]
        say(f"得分 {p['score']}，评级 {p['grade']}，建议分层 {p['suggested_tier']}")
        for i in p["indicators"]:
            say(f"  {i['label']}\t{i['contribution']:>6}\t{i['reason']}")


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
    from shuanglian.inventory.push import (
        WEAK_PUSHES,
        engine_matcher,
        industry_matcher,
        run_push_round,
    )

    def do(settings: Settings) -> dict[str, Any]:
        with open_session(settings) as session:
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
                "skipped_no_evidence": rnd.skipped_no_evidence,
                "skipped_weak": rnd.skipped_weak,
            }

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        say(
            f"第 {result['round_id']} 轮：{result['patents_considered']} 件专利，"
            f"推送 {result['pushes_made']} 条；跳过：已推送 {result['skipped_already_pushed']}，"
            f"企业达上限 {result['skipped_cap']}，"
            f"缺少具体匹配依据 {result['skipped_no_evidence']}，"
            f"弱匹配超出每件 {WEAK_PUSHES} 条 {result['skipped_weak']}"
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
        with open_session(settings) as session:
            rows = write_feedback_template(
                session,
                actor=_actor(session, as_user),
                enterprise_id=enterprise,
                path=file,
                round_id=round_id,
            )
            return {"file": str(file), "rows": rows}

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        say(f"已生成 {result['file']}（{result['rows']} 件）")


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
        with open_session(settings) as session:
            return import_feedback(
                session,
                actor=_actor(session, as_user),
                path=file,
                enterprise_id=enterprise,
                dry_run=dry_run,
            ).as_dict()

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        say(f"新增 {result['inserted']}，更新 {result['updated']}，拒绝 {result['rejected']}")
        for e in result["errors"]:
            say(f"  第 {e['row']} 行 [{e['field']}]：{e['message']}")


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
        with open_session(settings) as session:
            actor = _actor(session, as_user)
            result = recompute_tiers(session, actor=actor, institution_id=institution)
            if institution is not None:
                result["maintenance"] = maintenance_candidates(
                    session, actor=actor, institution_id=institution, min_rounds=min_rounds
                )
            return result

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
        return
    say("分层：" + "，".join(f"第{k}层 {v}" for k, v in result["tiers"].items()))
    for d in result["deal_suggestions"]:
        say(f"  建议开立对接：专利 {d['patent_id']} ↔ {d['enterprise_name']}（{d['intent']}）")
    for m in result.get("maintenance", []):
        say(
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
        with open_session(settings) as session:
            return sync_inventory(
                session, actor=_actor(session, as_user), path=file, institution_id=institution
            )

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        say(
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
        with open_session(settings) as session:
            data = inventory_report(
                session, actor=_actor(session, as_user), institution_id=institution
            )
        if xlsx is not None:
            write_report_xlsx(data, xlsx)
            data["xlsx"] = str(xlsx)
        return data

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
        return
    cols = result["columns"]
    say("单位\t" + "\t".join(cols))
    for row in [*result["institutions"], {"institution": "合计", **result["total"]}]:
        say(row["institution"] + "\t" + "\t".join(str(row[c]) for c in cols))
