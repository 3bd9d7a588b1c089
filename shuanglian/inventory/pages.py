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
from shuanglian.errors import DomainError, NotFound
from shuanglian.inventory.models import (
    IMPLEMENTATION_STATUSES,
    TRANSFER_MODES,
    VALUE_GRADES,
    InventoryItem,
)
from shuanglian.inventory.review import STAGE_LEVEL, STATUS_LABELS, review_item
from shuanglian.inventory.schemas import SelfAssessmentIn
from shuanglian.inventory.service import EDITABLE_STATUSES, list_items, save_self_assessment
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
from shuanglian.web.forms import form_errors, form_status, form_text, invalid_fields
from shuanglian.web.imports import (
    finish_import,
    imports_href,
    imports_page,
    render_import_result,
    workbook_response,
)
from shuanglian.web.templating import render
from shuanglian.web.uploads import WORKBOOK_SUFFIXES, received_file

router = APIRouter(include_in_schema=False)

ASSESSMENT_IMPORT_FIELDS = ("file",)


@router.get("/workspace/institution/items", response_class=HTMLResponse)
def inventory_items_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    status: Annotated[str | None, Query(max_length=30)] = None,
) -> HTMLResponse:
    """The inventory queue: items by status (self-assessment to do, reviews waiting)."""
    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    status = status if status in STATUS_LABELS else None
    items = list_items(session, actor=user, status=status, limit=200)
    patents = patent_service.patents_by_id(session, ids=[i.patent_id for i in items])
    return render(
        request,
        "workspace/items.html",
        {"items": items, "patents": patents, "labels": STATUS_LABELS, "status": status},
    )


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
    return render(
        request,
        "workspace/item.html",
        {
            "item": item,
            "patent": patent_service.get_patent(session, patent_id=item.patent_id),
            "label": STATUS_LABELS.get(item.status, item.status),
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
async def inventory_assessment_submit(
    request: Request, session: SessionDep, user: CurrentUser, item_id: IdPath
) -> Response:
    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    _managed_item(session, user, item_id)  # 404 for another institution's item
    form = await request.form()
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
async def inventory_review_submit(
    request: Request, session: SessionDep, user: CurrentUser, item_id: IdPath
) -> Response:
    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    _managed_item(session, user, item_id)
    form = await request.form()
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
    try:
        with received_file(file, settings=settings, allowed=WORKBOOK_SUFFIXES) as path:
            report = import_assessment_workbook(
                session, actor=user, path=path, submit=submit, dry_run=dry_run
            )
            filename = path.name
    except DomainError as exc:
        errors = form_errors(
            session, exc, default="file", fields=ASSESSMENT_IMPORT_FIELDS, prefix="assess-"
        )
        return imports_page(
            request,
            session,
            user,
            institution_id,
            errors=errors,
            form={"assess-dry_run": dry_run, "assess-submit": submit},
            status_code=form_status(exc),
        )
    finish_import(session, report)
    assert user is not None
    return render_import_result(
        request,
        settings=settings,
        user_id=user.id,
        report=report,
        title=("导入自评表结果", "Self-assessment import"),
        filename=filename,
        back=imports_href(institution_id),
    )
