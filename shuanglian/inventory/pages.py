"""HTML pages of the inventory (存量专利盘点) in the institution workspace: the queue of items,
one item's self-assessment and review, and the self-assessment workbook (download, upload).

The workbook upload shares the workspace's imports page (`web.imports.imports_page`) with the
patent upload, so a refused workbook is shown there beside its field.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.permissions import review_levels
from shuanglian.enterprises.pages import explanation_lines
from shuanglian.errors import DomainError, NotFound
from shuanglian.inventory.feedback import RECORDED_CHANNELS, record_feedback_for_enterprise
from shuanglian.inventory.flow_pages import router as flow_router
from shuanglian.inventory.history import ipc_lines, patent_outcome
from shuanglian.inventory.models import (
    IMPLEMENTATION_STATUSES,
    INTENTS,
    TRANSFER_MODES,
    VALUE_GRADES,
    InventoryItem,
)
from shuanglian.inventory.review import (
    STAGE_LEVEL,
    STATES,
    approve_items,
    review_item,
)
from shuanglian.inventory.schemas import FeedbackIn, SelfAssessmentIn
from shuanglian.inventory.service import (
    EDITABLE_STATUSES,
    count_items,
    get_batch,
    list_batches,
    list_items,
    save_self_assessment,
)
from shuanglian.inventory.workspace import (
    import_assessment_workbook,
    write_institution_assessment_template,
)
from shuanglian.patents import service as patent_service
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
from shuanglian.web.forms import FormDep, form_errors, form_status, form_text, invalid_fields
from shuanglian.web.i18n import pick_lang
from shuanglian.web.imports import (
    workbook_response,
    workspace_upload,
)
from shuanglian.web.templating import render
from shuanglian.web.uploads import WORKBOOK_SUFFIXES

router = APIRouter(include_in_schema=False)
router.routes.extend(flow_router.routes)  # the flow pages live in their own module

ASSESSMENT_IMPORT_FIELDS = ("file",)


ITEMS_PER_PAGE = 50
REVIEW_STAGES = tuple(STAGE_LEVEL)


def _items_page(
    request: Request,
    session: Any,
    user: Any,
    *,
    status: str | None,
    batch_id: int | None,
    q: str | None,
    page: int,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    filters = {"actor": user, "status": status, "batch_id": batch_id, "q": q}
    total = count_items(session, **filters)
    pages = max(1, -(-total // ITEMS_PER_PAGE))
    page = min(page, pages)
    items = list_items(session, **filters, offset=(page - 1) * ITEMS_PER_PAGE, limit=ITEMS_PER_PAGE)
    patents = patent_service.patents_by_id(session, ids=[i.patent_id for i in items])
    # Which rows this person may approve now (for the tick boxes of bulk approval).
    reviewable = {
        i.id
        for i in items
        if i.status in STAGE_LEVEL
        and STAGE_LEVEL[i.status] in review_levels(session, actor=user, item=i)
    }
    batches = (
        list_batches(session, actor=user, limit=500) if user.institution_id is not None else []
    )
    if batch_id is not None and all(b.id != batch_id for b in batches):
        batches.append(get_batch(session, actor=user, batch_id=batch_id))
    return render(
        request,
        "workspace/items.html",
        {
            "items": items,
            "patents": patents,
            "states": STATES,
            "status": status,
            "batch_id": batch_id,
            "batches": batches,
            "q": q or "",
            "total": total,
            "page": page,
            "pages": pages,
            "reviewable": reviewable,
            "errors": errors or {},
            "flashes": [message] if message else [],
        },
        status_code=status_code,
    )


@router.get("/workspace/institution/items", response_class=HTMLResponse)
def inventory_items_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    status: Annotated[str | None, Query(max_length=30)] = None,
    batch_id: IdQuery = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The inventory queue: items by status, batch or text, 50 a page, with the total."""
    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    status = status if status in STATES else None
    return _items_page(request, session, user, status=status, batch_id=batch_id, q=q, page=page)


@router.post(
    "/workspace/institution/items/approve", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def inventory_bulk_approve(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    """批量通过: the ticked items approved at their stage with one comment (all or none)."""
    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    ids = [int(v) for v in form.getlist("item_ids") if isinstance(v, str) and v.isdigit()]
    status = form_text(form, "status") or None
    batch_id = optional_int(form_text(form, "batch_id"), field="batch_id", low=1, high=MAX_ID)
    q = form_text(form, "q") or None
    try:
        done = approve_items(
            session, actor=user, item_ids=ids, comment=form_text(form, "comment") or None
        )
    except DomainError as exc:
        errors = form_errors(session, exc, default="item_ids", fields=("item_ids",))
        return _items_page(
            request, session, user, status=status, batch_id=batch_id, q=q, page=1,
            errors=errors, status_code=form_status(exc),
        )  # fmt: skip
    return _items_page(
        request, session, user, status=status, batch_id=batch_id, q=q, page=1,
        message=f"已通过 {len(done)} 件 (approved {len(done)})",
    )  # fmt: skip


def _managed_item(session: Any, user: Any, item_id: int) -> InventoryItem:
    """The inventory item if this user manages its institution; NotFound otherwise (no leak)."""
    item = session.get(InventoryItem, item_id)
    if item is None or not perm.can_manage_item(session, user, item):
        raise NotFound(f"盘点条目 {item_id} 不存在 (inventory item not found)")
    return item  # type: ignore[no-any-return]


def _item_page(
    request: Request,
    session: Any,
    user: Any,
    item_id: int,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from shuanglian.matching.bulk import explain_compact_pushes  # read on first use, as elsewhere

    item = _managed_item(session, user, item_id)
    assessment = item.assessment
    if form is None and assessment is not None:
        form = {
            "publicly_funded": "1" if assessment.publicly_funded else "0",
            "implementation_status": assessment.implementation_status,
            "transfer_mode": assessment.transfer_mode,
            "trl": assessment.trl,
            "value_grade": assessment.value_grade,
            "value_reason": assessment.value_reason,
            "scenarios": assessment.scenarios,
            "industry_codes": ",".join(assessment.industry_codes or []),
            "contact_name": assessment.contact_name,
            "contact_phone": assessment.contact_phone or "",
            "contact_email": assessment.contact_email or "",
        }
    level = STAGE_LEVEL.get(item.status)
    patent = patent_service.get_patent(session, patent_id=item.patent_id)
    outcome = patent_outcome(session, patent_id=patent.id)
    return render(
        request,
        "workspace/item.html",
        {
            "item": item,
            "patent": patent,
            "ipc": ipc_lines(patent, lang=pick_lang(request)),
            "outcome": outcome,
            # A national bulk push stores its pushes compact: their reasons are read now.
            "explained": explain_compact_pushes(
                session,
                settings=request.app.state.settings,
                pushes=[line.push for line in outcome.pushes],
            ),
            "channels": RECORDED_CHANNELS,
            "intents": INTENTS,
            "explain": explanation_lines,
            "editable": item.status in EDITABLE_STATUSES,
            "can_review": level is not None
            and level in review_levels(session, actor=user, item=item),
            "form": form or {},
            "errors": errors or {},
            "flashes": [message] if message else [],
            "impl_statuses": IMPLEMENTATION_STATUSES,
            "transfer_modes": TRANSFER_MODES,
            "grades": VALUE_GRADES,
        },
        status_code=status_code,
    )


@router.get("/workspace/institution/items/{item_id}", response_class=HTMLResponse)
def inventory_item_page(
    request: Request, session: SessionDep, user: CurrentUser, item_id: IdPath
) -> HTMLResponse:
    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    return _item_page(request, session, user, item_id)


def _assessment_input(echo: dict[str, str]) -> SelfAssessmentIn:
    """The self-assessment form as the service's input (ValueError: TRL is not a number)."""
    return SelfAssessmentIn(
        publicly_funded=echo.get("publicly_funded") == "1",
        implementation_status=echo.get("implementation_status", ""),
        transfer_mode=echo.get("transfer_mode", ""),
        trl=int(echo.get("trl") or 0),
        value_grade=echo.get("value_grade", ""),
        value_reason=echo.get("value_reason", ""),
        scenarios=echo.get("scenarios", ""),
        industry_codes=[
            c for c in echo.get("industry_codes", "").replace("，", ",").split(",") if c.strip()
        ],
        contact_name=echo.get("contact_name", ""),
        contact_phone=echo.get("contact_phone") or None,
        contact_email=echo.get("contact_email") or None,
    )


@router.post(
    "/workspace/institution/items/{item_id}/assessment",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def inventory_assessment_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, item_id: IdPath
) -> Response:
    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    _managed_item(session, user, item_id)  # 404 for another institution's item
    echo = {k: form_text(form, k) for k in form}
    errors: dict[str, str]
    try:
        data = _assessment_input(echo)
        save_self_assessment(
            session, actor=user, item_id=item_id, data=data, submit=echo.get("action") == "submit"
        )
    except ValidationError as exc:
        errors = invalid_fields(exc, default="value_reason")
        status = 422
    except ValueError:
        errors = {"trl": "技术成熟度须为 1–9 的整数 (TRL 1–9)"}
        status = 422
    except DomainError as exc:
        errors = form_errors(session, exc, default="value_reason")
        status = form_status(exc)
    else:
        return RedirectResponse(f"/workspace/institution/items/{item_id}", status_code=303)
    session.rollback()
    return _item_page(request, session, user, item_id, errors=errors, form=echo, status_code=status)


@router.post(
    "/workspace/institution/items/{item_id}/review",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def inventory_review_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, item_id: IdPath
) -> Response:
    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    _managed_item(session, user, item_id)
    try:
        review_item(
            session,
            actor=user,
            item_id=item_id,
            decision=form_text(form, "decision"),
            comment=form_text(form, "comment") or None,
        )
    except DomainError as exc:
        errors = form_errors(session, exc, default="decision", fields=())
        return _item_page(
            request, session, user, item_id, status_code=form_status(exc), errors=errors
        )
    return RedirectResponse(f"/workspace/institution/items/{item_id}", status_code=303)


@router.post(
    "/workspace/institution/items/{item_id}/feedback/{push_id}",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def inventory_record_feedback(
    request: Request,
    form: FormDep,
    session: SessionDep,
    user: CurrentUser,
    item_id: IdPath,
    push_id: IdPath,
) -> Response:
    """代录反馈: staff type in what an enterprise said by phone or on paper."""
    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    item = _managed_item(session, user, item_id)
    key = f"fb{push_id}"
    try:
        data = FeedbackIn.model_validate(
            {
                "prospect": form_text(form, "prospect") or None,
                "intent": form_text(form, "intent"),
                "improvement_needs": form_text(form, "improvement_needs") or None,
            }
        )
        push_ids = {
            line.push.id for line in patent_outcome(session, patent_id=item.patent_id).pushes
        }
        if push_id not in push_ids:
            raise NotFound(f"推送记录 {push_id} 不存在 (push not found)")
        record_feedback_for_enterprise(
            session, actor=user, push_id=push_id, data=data, channel=form_text(form, "channel")
        )
    except ValidationError as exc:
        errors = {f"{key}-{k}": v for k, v in invalid_fields(exc, default="intent").items()}
        session.rollback()
        return _item_page(request, session, user, item_id, errors=errors, status_code=422)
    except DomainError as exc:
        errors = form_errors(session, exc, default="intent", prefix=f"{key}-")
        return _item_page(
            request, session, user, item_id, errors=errors, status_code=form_status(exc)
        )
    return RedirectResponse(
        f"/workspace/institution/items/{item_id}#push-{push_id}", status_code=303
    )


# --------------------------------------------------------------------------- the workbook


@router.get("/workspace/institution/assessments/template.xlsx")
def institution_assessment_template(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    batch_id: IdQuery = None,
    institution_id: IdQuery = None,
) -> Response:
    """自评表模板: a batch's items awaiting self-assessment (all the institution's without one)."""
    name = f"自评表-批次{batch_id}.xlsx" if batch_id is not None else "自评表.xlsx"
    return workbook_response(
        settings,
        filename=name,
        write=lambda path: write_institution_assessment_template(
            session, actor=user, path=path, institution_id=institution_id, batch_id=batch_id
        ),
    )


@router.post(
    "/workspace/institution/assessments/upload",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def institution_assessments_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    file: Annotated[UploadFile | None, File()] = None,
    dry_run: Annotated[bool, Form()] = False,
    submit: Annotated[bool, Form()] = False,
    institution: Annotated[str | None, Form(alias="institution_id", max_length=12)] = None,
) -> Response:
    """自评表导入: each good row saved (and submitted for review when ticked)."""
    institution_id = optional_int(institution, field="institution_id", low=1, high=MAX_ID)
    # Rows are checked one by one against the user's institution; the field only says which
    # institution's page to return to (an admin's).
    perm.require_role(user, perm.INSTITUTION_STAFF)
    if institution_id is not None:
        workspace_institution(session, actor=user, institution_id=institution_id)
    return workspace_upload(
        request,
        session,
        settings=settings,
        user=user,
        institution_id=institution_id,
        file=file,
        allowed=WORKBOOK_SUFFIXES,
        run=lambda path: import_assessment_workbook(
            session, actor=user, path=path, submit=submit, dry_run=dry_run
        ),
        fields=ASSESSMENT_IMPORT_FIELDS,
        prefix="assess-",
        form={"assess-dry_run": dry_run, "assess-submit": submit},
        title=("导入自评表结果", "Self-assessment import"),
    )
