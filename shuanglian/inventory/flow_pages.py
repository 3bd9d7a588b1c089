"""The inventory flow in the browser (盘点流程): batches, indicators, push rounds, tiers, report.

The same services and checks as `shuanglian inventory ...`; each button runs its job in the
request (a few seconds for an institution's pool) while the page says 处理中… (site.js), and
answers with a result page of counts. A refusal comes back on the flow page beside its form.
Every POST URL also answers GET with the flow page, so a reload or "back" never shows 405.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.errors import DomainError
from shuanglian.inventory import service
from shuanglian.inventory.indicators import assess_institution_pool, default_industry_link
from shuanglian.inventory.push import (
    WEAK_PUSHES,
    engine_matcher,
    industry_matcher,
    run_push_round,
)
from shuanglian.inventory.reports import inventory_report, write_report_xlsx
from shuanglian.inventory.tiers import TIER_LABELS, maintenance_candidates, recompute_tiers
from shuanglian.patents.workspace import workspace_institution
from shuanglian.web.deps import (
    MAX_ID,
    CsrfDep,
    CurrentUser,
    IdPath,
    IdQuery,
    SessionDep,
    SettingsDep,
    optional_int,
)
from shuanglian.web.forms import FormDep, form_errors, form_status, form_text
from shuanglian.web.imports import workbook_response
from shuanglian.web.templating import render

router = APIRouter(include_in_schema=False)

FLOW = "/workspace/institution/flow"
MATCHERS = {
    "engine": ("匹配引擎（需已建索引）", "Matching engine (index must be built)"),
    "industry": ("产业对应（IPC → 行业）", "Industry link (IPC → industry)"),
}
TIER_NAMES = {
    1: ("一层：开立对接", "Tier 1: open a deal"),
    2: ("二层：定向推送", "Tier 2: targeted push"),
    3: ("三层：扩大推送", "Tier 3: broad push"),
}


def flow_href(user: User, institution_id: int) -> str:
    """The flow page (an admin's for one institution)."""
    return FLOW + (f"?institution_id={institution_id}" if user.role == perm.ADMIN else "")


def _institution_id(user: User | None, raw: str) -> tuple[User, int]:
    actor = perm.require_role(user, perm.INSTITUTION_STAFF)
    wanted = optional_int(raw or None, field="institution_id", low=1, high=MAX_ID)
    return actor, wanted or actor.institution_id or 0


def flow_page(
    request: Request,
    session: Any,
    user: User | None,
    institution_id: int | None,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """盘点流程: batches with progress and their forms, then the pool jobs and the report."""
    actor = perm.require_role(user, perm.INSTITUTION_STAFF)
    institution = workspace_institution(session, actor=actor, institution_id=institution_id)
    batches = service.list_batches(session, actor=actor, institution_id=institution.id, limit=200)
    progress = [service.batch_progress(session, actor=actor, batch_id=b.id) for b in batches]
    return render(
        request,
        "workspace/flow.html",
        {
            "institution": institution,
            "progress": progress,
            "sources": service.import_sources(session, actor=actor, institution_id=institution.id),
            "colleges": service.list_colleges(session, institution_id=institution.id),
            "matchers": MATCHERS,
            "errors": errors or {},
            "form": form or {},
            "admin_query": f"?institution_id={institution.id}" if actor.role == perm.ADMIN else "",
        },
        status_code=status_code,
    )


@router.get(FLOW, response_class=HTMLResponse)
def inventory_flow_page(
    request: Request, session: SessionDep, user: CurrentUser, institution_id: IdQuery = None
) -> Response:
    actor = perm.require_role(user, perm.INSTITUTION_STAFF)
    if actor.role == perm.ADMIN and institution_id is None:
        return RedirectResponse("/workspace/institution", status_code=303)  # choose one first
    return flow_page(request, session, actor, institution_id)


def _result(
    request: Request,
    actor: User,
    institution_id: int,
    *,
    title: tuple[str, str],
    counts: list[tuple[str, str, Any]],
    extra: dict[str, Any] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "workspace/flow_result.html",
        {
            "title": title,
            "counts": counts,
            "back": flow_href(actor, institution_id),
            **(extra or {}),
        },
    )


def _form(posted: FormData) -> dict[str, str]:
    """Every field of the posted form as text (refused forms echo them back)."""
    return {k: form_text(posted, k) for k in posted}


def _refused(
    request: Request,
    session: Any,
    actor: User,
    institution_id: int,
    exc: DomainError,
    *,
    default: str,
    fields: tuple[str, ...],
    prefix: str,
    form: dict[str, str],
) -> HTMLResponse:
    errors = form_errors(session, exc, default=default, fields=fields, prefix=prefix)
    return flow_page(
        request,
        session,
        actor,
        institution_id if actor.role == perm.ADMIN else None,
        errors=errors,
        form={f"{prefix}{k}": v for k, v in form.items()},
        status_code=form_status(exc),
    )


# --------------------------------------------------------------------------- batches


@router.post(FLOW + "/batches", response_class=HTMLResponse, dependencies=[CsrfDep])
def flow_create_batch(
    request: Request, posted: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    """建立盘点批次: from one import file, or every patent not inventoried yet."""
    form = _form(posted)
    actor, institution_id = _institution_id(user, form.get("institution_id", ""))
    try:
        college = optional_int(form.get("college_id"), field="college_id", low=1, high=MAX_ID)
        source_file = form.get("source_file") or None  # none chosen: all not inventoried
        built = service.build_batch(
            session,
            actor=actor,
            institution_id=institution_id,
            name=form.get("name", ""),
            college_id=college,
            source_file=source_file,
            include_lapsed=form.get("include_lapsed") == "1",
        )
    except DomainError as exc:
        return _refused(
            request, session, actor, institution_id, exc, default="name",
            fields=("name", "source_file", "patent_ids", "college_id"), prefix="batch-", form=form,
        )  # fmt: skip
    return _result(
        request,
        actor,
        institution_id,
        title=("批次已建立", "Batch created"),
        counts=[
            ("加入批次", "Added", built.added),
            ("已盘点过，跳过", "Already inventoried, skipped", built.skipped),
            ("法律状态已失效，未加入", "Lapsed, left out", len(built.lapsed_left_out)),
        ],
        extra={
            "batch": built.batch,
            "lapsed": built.lapsed_left_out[:200],
            "lapsed_total": len(built.lapsed_left_out),
        },
    )


@router.post(
    FLOW + "/batches/{batch_id}/rename", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def flow_rename_batch(
    request: Request, posted: FormDep, session: SessionDep, user: CurrentUser, batch_id: IdPath
) -> Response:
    form = _form(posted)
    actor = perm.require_role(user, perm.INSTITUTION_STAFF)
    batch = service.get_batch(session, actor=actor, batch_id=batch_id)
    try:
        service.rename_batch(session, actor=actor, batch_id=batch_id, name=form.get("name", ""))
    except DomainError as exc:
        return _refused(
            request, session, actor, batch.institution_id, exc, default="name",
            fields=("name",), prefix=f"rename{batch_id}-", form=form,
        )  # fmt: skip
    return RedirectResponse(flow_href(actor, batch.institution_id) + "#batches", status_code=303)


@router.post(
    FLOW + "/batches/{batch_id}/delete", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def flow_delete_batch(
    request: Request, session: SessionDep, user: CurrentUser, batch_id: IdPath
) -> Response:
    actor = perm.require_role(user, perm.INSTITUTION_STAFF)
    batch = service.get_batch(session, actor=actor, batch_id=batch_id)
    institution_id, name = batch.institution_id, batch.name
    try:
        freed = service.delete_batch(session, actor=actor, batch_id=batch_id)
    except DomainError as exc:
        return _refused(
            request, session, actor, institution_id, exc, default="name",
            fields=(), prefix=f"rename{batch_id}-", form={},
        )  # fmt: skip
    return _result(
        request,
        actor,
        institution_id,
        title=("批次已删除", "Batch deleted"),
        counts=[
            (f"“{name}”中恢复为未盘点的专利", f"Patents of “{name}” back to not inventoried", freed)
        ],
    )


# --------------------------------------------------------------------------- pool jobs


@router.post(FLOW + "/indicators", response_class=HTMLResponse, dependencies=[CsrfDep])
def flow_indicators(
    request: Request, posted: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    """计算价值指标与评级: every pooled patent of the institution re-graded."""
    form = _form(posted)
    actor, institution_id = _institution_id(user, form.get("institution_id", ""))
    workspace_institution(session, actor=actor, institution_id=institution_id)
    grades = assess_institution_pool(session, actor=actor, institution_id=institution_id)
    return _result(
        request,
        actor,
        institution_id,
        title=("价值指标与评级已更新", "Indicators and grades updated"),
        counts=[(f"{g} 级", f"Grade {g}", n) for g, n in grades.items()],
        extra={"note": ("资源库中共评价", "Patents graded in the pool", sum(grades.values()))},
    )


@router.post(FLOW + "/push", response_class=HTMLResponse, dependencies=[CsrfDep])
def flow_push(
    request: Request, posted: FormDep, session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> Response:
    """运行一轮推送 over the institution's pool, as `inventory push round --institution`."""
    form = _form(posted)
    actor, institution_id = _institution_id(user, form.get("institution_id", ""))
    try:
        per_patent = optional_int(form.get("per_patent"), field="per_patent", low=1, high=200)
        cap = optional_int(form.get("cap"), field="cap", low=1, high=10_000)
        name = form.get("matcher") or "industry"
        if name == "engine":
            matcher: Any = engine_matcher(session, settings=settings)
        elif name == "industry":
            matcher = industry_matcher(session, industry_link=default_industry_link())
        else:
            raise DomainError("请选择匹配方式 (choose a matcher)", field="matcher")
        rnd = run_push_round(
            session,
            actor=actor,
            matcher=matcher,
            per_patent=per_patent or 10,
            per_enterprise_cap=cap or 20,
            institution_id=institution_id,
            matcher_name=name,
            rank_before_writing=True,
        )
    except DomainError as exc:
        return _refused(
            request, session, actor, institution_id, exc, default="matcher",
            fields=("per_patent", "cap", "matcher"), prefix="push-", form=form,
        )  # fmt: skip
    return _result(
        request,
        actor,
        institution_id,
        title=(f"第 {rnd.id} 轮推送完成", f"Push round {rnd.id} done"),
        counts=[
            ("参与推送的专利", "Patents considered", rnd.patents_considered),
            ("新推送", "Pushes made", rnd.pushes_made),
            ("已推送过，跳过", "Already pushed, skipped", rnd.skipped_already_pushed),
            ("企业本轮已满额，跳过", "Enterprise cap reached, skipped", rnd.skipped_cap),
            (
                "缺少具体匹配依据（仅泛用词相同），未推送",
                "No specific evidence (only generic words), not pushed",
                rnd.skipped_no_evidence,
            ),
            (
                f"弱匹配（低）超出每件 {WEAK_PUSHES} 条，未推送",
                f"Weak matches beyond {WEAK_PUSHES} per patent, not pushed",
                rnd.skipped_weak,
            ),
        ],
    )


@router.post(FLOW + "/tiers", response_class=HTMLResponse, dependencies=[CsrfDep])
def flow_tiers(
    request: Request, posted: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    """重算分层推广, with tier-1 deal suggestions and maintenance advice."""
    form = _form(posted)
    actor, institution_id = _institution_id(user, form.get("institution_id", ""))
    workspace_institution(session, actor=actor, institution_id=institution_id)
    result = recompute_tiers(session, actor=actor, institution_id=institution_id)
    maintenance = maintenance_candidates(session, actor=actor, institution_id=institution_id)
    return _result(
        request,
        actor,
        institution_id,
        title=("分层已更新", "Tiers updated"),
        counts=[
            (TIER_NAMES[int(k)][0], TIER_NAMES[int(k)][1], n) for k, n in result["tiers"].items()
        ],
        extra={
            "tier_meanings": TIER_LABELS,
            "deals": result["deal_suggestions"][:200],
            "maintenance": maintenance[:200],
        },
    )


# --------------------------------------------------------------------------- report


@router.get("/workspace/institution/report.xlsx")
def flow_report_xlsx(
    session: SessionDep, settings: SettingsDep, user: CurrentUser, institution_id: IdQuery = None
) -> Response:
    """盘活统计 as the Excel sheet the official returns use."""
    actor = perm.require_role(user, perm.INSTITUTION_STAFF)
    institution = workspace_institution(session, actor=actor, institution_id=institution_id)
    data = inventory_report(session, actor=actor, institution_id=institution.id)
    return workbook_response(
        settings,
        filename=f"盘活统计-{institution.name}.xlsx",
        write=lambda path: write_report_xlsx(data, path),
    )


@router.get("/workspace/institution/report.json")
def flow_report_json(
    session: SessionDep, user: CurrentUser, institution_id: IdQuery = None
) -> Response:
    """盘活统计 as JSON (the CLI's `inventory report --json`)."""
    actor = perm.require_role(user, perm.INSTITUTION_STAFF)
    institution = workspace_institution(session, actor=actor, institution_id=institution_id)
    data = inventory_report(session, actor=actor, institution_id=institution.id)
    return JSONResponse(
        data,
        headers={"Content-Disposition": 'attachment; filename="inventory-report.json"'},
    )


# A reload or "back" onto a job's URL shows the flow page again instead of 405.
for _path in ("/batches", "/indicators", "/push", "/tiers"):

    @router.get(FLOW + _path, include_in_schema=False)
    def _back_to_flow() -> Response:
        return RedirectResponse(FLOW, status_code=303)
