"""JSON routes for the inventory flow, mounted by the app under /api/v1.

Routes parse input, call one service and render (the request's transaction commits);
permissions are checked in the services (the same checks the CLI and pages get). Writes need
an API token or, for browser sessions, the CSRF token.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy import select

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import (
    can_manage_institution,
    can_see_item,
    require_admin,
    require_login,
)
from shuanglian.errors import DomainError, NotFound
from shuanglian.importing import ImportReport
from shuanglian.inventory import feedback as feedback_service
from shuanglian.inventory import push as push_service
from shuanglian.inventory import review as review_service
from shuanglian.inventory import service, tiers
from shuanglian.inventory.indicators import default_industry_link, explain
from shuanglian.inventory.models import PoolEntry
from shuanglian.inventory.pool import list_pool
from shuanglian.inventory.reports import inventory_report
from shuanglian.inventory.schemas import (
    BatchCreate,
    FeedbackIn,
    FeedbackRequest,
    ItemRead,
    PoolEntryRead,
    PushRoundRequest,
    ReviewIn,
    SelfAssessmentIn,
    WithdrawIn,
)
from shuanglian.inventory.workspace import (
    import_assessment_workbook,
    import_feedback_workbook,
    workspace_enterprise,
    write_enterprise_feedback_template,
    write_institution_assessment_template,
)
from shuanglian.web.deps import (
    MAX_ID,
    CsrfDep,
    CurrentUser,
    IdPath,
    IdQuery,
    OffsetQuery,
    SessionDep,
    SettingsDep,
)
from shuanglian.web.imports import (
    attach_error_csv,
    finish_import,
    workbook_response,
)
from shuanglian.web.schemas import ERROR_RESPONSES, WORKBOOK_RESPONSES
from shuanglian.web.uploads import UPLOAD_ERROR_RESPONSES, WORKBOOK_SUFFIXES, received_file

router = APIRouter(prefix="/inventory", tags=["inventory"], responses=ERROR_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=500)]  # small rows: more per page than LimitQuery


def _user(user: User | None) -> User:
    return require_login(user)


@router.post("/batches", summary="创建盘点批次 / create batch", dependencies=[CsrfDep])
def create_batch_api(body: BatchCreate, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    batch, added, skipped = service.create_batch(
        session,
        actor=_user(user),
        institution_id=body.institution_id,
        name=body.name,
        college_id=body.college_id,
        patent_ids=body.patent_ids,
        source_file=body.source_file,
    )
    return {"batch_id": batch.id, "added": added, "skipped_already_inventoried": skipped}


@router.get("/batches", summary="本机构的盘点批次及进度 / an institution's batches with progress")
def list_batches_api(
    session: SessionDep,
    user: CurrentUser,
    institution_id: Annotated[
        int | None,
        Query(ge=1, le=2_147_483_647, description="staff: own institution when left out"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, Any]]:
    """What the institution workspace shows under 盘点进度: newest batches first."""
    batches = service.list_batches(session, actor=user, institution_id=institution_id, limit=limit)
    return [service.batch_progress(session, actor=user, batch_id=b.id) for b in batches]


@router.get("/batches/{batch_id}/progress", summary="批次进度 / batch progress")
def batch_progress_api(batch_id: IdPath, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return service.batch_progress(session, actor=_user(user), batch_id=batch_id)


@router.get("/items", response_model=list[ItemRead], summary="盘点条目 / inventory items")
def list_items_api(
    session: SessionDep,
    user: CurrentUser,
    status: Annotated[str | None, Query(max_length=30)] = None,
    batch_id: IdQuery = None,
    limit: Limit = 200,
) -> list[Any]:
    return service.list_items(
        session, actor=_user(user), status=status, batch_id=batch_id, limit=limit
    )


@router.put(
    "/items/{item_id}/assessment",
    response_model=ItemRead,
    summary="填写自评并提交 / save self-assessment",
    dependencies=[CsrfDep],
)
def save_assessment_api(
    item_id: IdPath,
    body: SelfAssessmentIn,
    session: SessionDep,
    user: CurrentUser,
    submit: bool = True,
) -> Any:
    assessment = service.save_self_assessment(
        session, actor=_user(user), item_id=item_id, data=body, submit=submit
    )
    return assessment.item


@router.post(
    "/items/{item_id}/review",
    response_model=ItemRead,
    summary="审核 / review",
    dependencies=[CsrfDep],
)
def review_api(item_id: IdPath, body: ReviewIn, session: SessionDep, user: CurrentUser) -> Any:
    item = review_service.review_item(
        session, actor=_user(user), item_id=item_id, decision=body.decision, comment=body.comment
    )
    return item


@router.post(
    "/pool/{patent_id}/withdraw",
    response_model=ItemRead,
    summary="撤回出库 / withdraw from pool",
    dependencies=[CsrfDep],
)
def withdraw_api(
    patent_id: IdPath, body: WithdrawIn, session: SessionDep, user: CurrentUser
) -> Any:
    item = service.item_for_patent(session, patent_id=patent_id)
    if item is None or not can_see_item(session, user, item):
        raise NotFound(f"专利 {patent_id} 未盘点 (not inventoried)")
    review_service.apply_transition(
        session, actor=_user(user), item_id=item.id, action="withdraw", comment=body.reason
    )
    return item


@router.get("/pool", response_model=list[PoolEntryRead], summary="可转化资源库 / the pool")
def pool_api(
    session: SessionDep,
    user: CurrentUser,
    institution_id: IdQuery = None,
    tier: Annotated[int | None, Query(ge=1, le=9)] = None,
    grade: Annotated[str | None, Query(max_length=10)] = None,
    limit: Limit = 100,
    offset: OffsetQuery = 0,
) -> list[Any]:
    rows = list_pool(
        session,
        actor=_user(user),
        institution_id=institution_id,
        tier=tier,
        grade=grade,
        limit=limit,
        offset=offset,
    )
    return [entry for entry, _ in rows]


@router.get("/pool/{patent_id}/indicators", summary="价值指标明细 / indicator details")
def indicators_api(patent_id: IdPath, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    entry = session.scalar(select(PoolEntry).where(PoolEntry.patent_id == patent_id))
    item = service.item_for_patent(session, patent_id=patent_id)
    if entry is None or not can_manage_institution(_user(user), entry.institution_id):
        raise NotFound(f"专利 {patent_id} 不在资源库中 (not pooled)")
    if item is not None and not can_see_item(session, user, item):
        raise NotFound(f"专利 {patent_id} 不在资源库中 (not pooled)")
    return {
        "patent_id": patent_id,
        "grade": entry.grade,
        "score": entry.score,
        "tier": entry.tier,
        "tier_reasons": entry.tier_reasons,
        "assessment": explain(entry.indicators),
    }


@router.post("/push-rounds", summary="运行推送轮次 / run a push round", dependencies=[CsrfDep])
def push_round_api(
    body: PushRoundRequest, session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> dict[str, Any]:
    actor = _user(user)
    if body.matcher == "industry":
        matcher = push_service.industry_matcher(session, industry_link=default_industry_link())
    else:
        matcher = push_service.engine_matcher(session, settings=settings)
    rnd = push_service.run_push_round(
        session,
        actor=actor,
        matcher=matcher,
        per_patent=body.per_patent,
        per_enterprise_cap=body.per_enterprise_cap,
        institution_id=body.institution_id,
        matcher_name=body.matcher,
        rank_before_writing=True,
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


@router.get("/pushes", summary="推送给本企业的专利 / patents pushed to an enterprise")
def pushes_api(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    enterprise_id: IdQuery = None,
    round_id: IdQuery = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    """The enterprise's pushes in the order its workspace lists them, each with its reasons:
    a bulk job's pushes are stored compact (match and level only) and explained here, as the
    page does, so an API client reads the same 「双方都涉及：…」 sentences."""
    from shuanglian.matching.bulk import explain_compact_pushes

    actor = _user(user)
    eid = enterprise_id if enterprise_id is not None else actor.enterprise_id
    if eid is None:
        raise DomainError("请指定企业 (enterprise_id)", field="enterprise_id")
    rows = push_service.push_list_for_enterprise(
        session, actor=actor, enterprise_id=eid, round_id=round_id
    )[offset : offset + limit]
    explained = explain_compact_pushes(session, settings=settings, pushes=[p for p, _ in rows])
    return [
        {
            "push_id": p.id,
            "round_id": p.round_id,
            "rank": p.rank,
            "score": p.score,
            "explanation": explained.get(p.id, p.explanation),
            "patent_id": pt.id,
            "application_number": pt.application_number,
            "title": pt.title,
        }
        for p, pt in rows
    ]


@router.post(
    "/feedback", summary="企业评价反馈 / feedback on a pushed patent", dependencies=[CsrfDep]
)
def feedback_api(body: FeedbackRequest, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    data = FeedbackIn(
        prospect=body.prospect, improvement_needs=body.improvement_needs, intent=body.intent
    )
    fb = feedback_service.submit_feedback(
        session,
        actor=_user(user),
        data=data,
        push_id=body.push_id,
        patent_id=body.patent_id,
        enterprise_id=body.enterprise_id,
        source="api",
    )
    return {
        "feedback_id": fb.id,
        "push_id": fb.push_id,
        "patent_id": fb.patent_id,
        "enterprise_id": fb.enterprise_id,
        "prospect": fb.prospect,
        "intent": fb.intent,
    }


@router.post("/tiers/recompute", summary="重算分层 / recompute tiers", dependencies=[CsrfDep])
def tiers_api(
    session: SessionDep, user: CurrentUser, institution_id: IdQuery = None
) -> dict[str, Any]:
    actor = _user(user)
    if institution_id is None:
        require_admin(actor)
    result = tiers.recompute_tiers(session, actor=actor, institution_id=institution_id)
    return result


@router.get("/maintenance", summary="维持审查建议 / maintenance suggestions")
def maintenance_api(
    session: SessionDep,
    user: CurrentUser,
    institution_id: Annotated[int, Query(ge=1, le=MAX_ID)],
    min_rounds: Annotated[int, Query(ge=1, le=100)] = 2,
) -> list[dict[str, Any]]:
    return tiers.maintenance_candidates(
        session, actor=_user(user), institution_id=institution_id, min_rounds=min_rounds
    )


@router.get("/report", summary="盘活统计 / statistics")
def report_api(
    session: SessionDep, user: CurrentUser, institution_id: IdQuery = None
) -> dict[str, Any]:
    return inventory_report(session, actor=_user(user), institution_id=institution_id)


# --------------------------------------------------------------------------- Excel round trips


@router.get(
    "/assessments/template",
    response_class=FileResponse,
    summary="自评表模板 / self-assessment workbook",
    responses=WORKBOOK_RESPONSES,
)
def assessment_template_api(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    batch_id: IdQuery = None,
    institution_id: IdQuery = None,
) -> FileResponse:
    """A batch's items awaiting self-assessment (every one of the institution's when no batch),
    as `shuanglian inventory assess template` writes it; staff: own institution."""
    name = f"assessment-batch-{batch_id}.xlsx" if batch_id is not None else "assessment.xlsx"
    return workbook_response(
        settings,
        filename=name,
        write=lambda path: write_institution_assessment_template(
            session, actor=user, path=path, institution_id=institution_id, batch_id=batch_id
        ),
    )


@router.post(
    "/assessments/upload",
    response_model=ImportReport,
    summary="上传填好的自评表 / import a filled self-assessment workbook",
    dependencies=[CsrfDep],
    responses=UPLOAD_ERROR_RESPONSES,
)
def upload_assessments_api(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="the filled workbook (.xlsx or .csv)")],
    submit: bool = True,
    dry_run: bool = False,
) -> ImportReport:
    """Each valid row is saved (and submitted for review unless `submit=false`); rows about
    another institution's patents are rejected with their row number."""
    perm.require_role(user, perm.INSTITUTION_STAFF)
    with received_file(file, settings=settings, allowed=WORKBOOK_SUFFIXES) as path:
        report = import_assessment_workbook(
            session, actor=user, path=path, submit=submit, dry_run=dry_run
        )
    finish_import(session, report)
    return attach_error_csv(settings, user_id=perm.require_login(user).id, report=report)


@router.get(
    "/feedback/template",
    response_class=FileResponse,
    summary="推送专利评价表 / feedback workbook",
    responses=WORKBOOK_RESPONSES,
)
def feedback_template_api(
    session: SessionDep, settings: SettingsDep, user: CurrentUser, enterprise_id: IdQuery = None
) -> FileResponse:
    """Every patent pushed to the enterprise, as `shuanglian inventory feedback template`
    writes it; enterprise users: own enterprise (admin names one)."""
    return workbook_response(
        settings,
        filename="feedback.xlsx",
        write=lambda path: write_enterprise_feedback_template(
            session, actor=user, path=path, enterprise_id=enterprise_id
        ),
    )


@router.post(
    "/feedback/upload",
    response_model=ImportReport,
    summary="上传填好的评价表 / import a filled feedback workbook",
    dependencies=[CsrfDep],
    responses=UPLOAD_ERROR_RESPONSES,
)
def upload_feedback_api(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="the filled workbook (.xlsx or .csv)")],
    enterprise_id: IdQuery = None,
    dry_run: bool = False,
) -> ImportReport:
    """Each filled row becomes the enterprise's feedback on that push; a row naming a push to
    another enterprise is rejected with its row number."""
    workspace_enterprise(session, actor=user, enterprise_id=enterprise_id)
    with received_file(file, settings=settings, allowed=WORKBOOK_SUFFIXES) as path:
        report = import_feedback_workbook(
            session, actor=user, path=path, enterprise_id=enterprise_id, dry_run=dry_run
        )
    finish_import(session, report)
    return attach_error_csv(settings, user_id=perm.require_login(user).id, report=report)
