"""HTML pages for patents: the public register (list, detail) and the institution workspace."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from shuanglian.accounts import permissions as perm
from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.patents import service as patent_service
from shuanglian.patents.api import search_patents
from shuanglian.patents.models import PATENT_TYPE_ZH, Institution, Patent
from shuanglian.web.deps import (
    MAX_ID,
    CsrfDep,
    CurrentUser,
    IdPath,
    IdQuery,
    PageDep,
    SessionDep,
    SettingsDep,
    optional_int,
)
from shuanglian.web.forms import form_text
from shuanglian.web.templating import render

router = APIRouter(include_in_schema=False)

PATENT_TYPE_EN = {"invention": "Invention", "utility_model": "Utility model", "design": "Design"}


@router.get("/patents", response_class=HTMLResponse)
def patents_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    institution: Annotated[str | None, Query(alias="institution_id", max_length=12)] = None,
) -> HTMLResponse:
    institution_id = optional_int(institution, field="institution_id", low=1, high=2**31 - 1)
    items, total = search_patents(
        session, q=q, institution_id=institution_id, offset=page.offset, limit=page.per_page
    )
    institutions = session.scalars(select(Institution).order_by(Institution.name).limit(500)).all()
    return render(
        request,
        "patents/list.html",
        {
            "items": items,
            **page.context(total),
            "q": q,
            "institution_id": institution_id,
            "institutions": institutions,
        },
    )


@router.get("/patents/{patent_id}", response_class=HTMLResponse)
def patent_page(
    request: Request, session: SessionDep, user: CurrentUser, patent_id: IdPath
) -> HTMLResponse:
    from shuanglian.supermarket.service import published_listings_for_patent

    patent = patent_service.get_patent(session, patent_id=patent_id)
    kind = patent.patent_type or ""
    type_label = (
        PATENT_TYPE_EN.get(kind, kind)
        if request.query_params.get("lang") == "en" or request.cookies.get("lang") == "en"
        else PATENT_TYPE_ZH.get(kind, kind)
    )
    return render(
        request,
        "patents/detail.html",
        {
            "patent": patent,
            "type_label": type_label,
            "listings": published_listings_for_patent(session, patent_id=patent.id),
        },
    )


# --------------------------------------------------------------------------- workspace


@router.get("/workspace/institution", response_class=HTMLResponse)
def institution_workspace(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    institution_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> HTMLResponse:
    """Staff see their own institution; an admin picks one with `?institution_id=`."""
    from shuanglian.inventory.pool import list_pool
    from shuanglian.inventory.service import batch_progress, list_batches
    from shuanglian.supermarket.service import inquiries_for_institution, listings_for_institution

    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    if user.role != perm.ADMIN:
        institution_id = user.institution_id
    institutions = (
        session.scalars(select(Institution).order_by(Institution.name).limit(500)).all()
        if user.role == perm.ADMIN
        else []
    )
    if institution_id is None:
        return render(
            request,
            "workspace/institution.html",
            {"institution": None, "institutions": institutions},
        )
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise NotFound(f"机构 {institution_id} 不存在 (institution not found)")
    perm.require_institution(user, institution.id)
    patents, patent_total = search_patents(session, institution_id=institution.id, limit=20)
    batches = list_batches(session, actor=user, institution_id=institution.id)
    progress = [batch_progress(session, actor=user, batch_id=b.id) for b in batches]
    pool = list_pool(session, actor=user, institution_id=institution.id, limit=50)
    listings = listings_for_institution(session, actor=user, institution_id=institution.id)
    listed = {lst.patent_id for lst in listings}
    return render(
        request,
        "workspace/institution.html",
        {
            "institution": institution,
            "institutions": institutions,
            "patents": patents,
            "patent_total": patent_total,
            "progress": progress,
            "pool": pool,
            "listings": listings,
            "listed": listed,
            "inquiries": inquiries_for_institution(
                session, actor=user, institution_id=institution.id
            ),
        },
    )


# --------------------------------------------------------------------------- inventory screens


@router.get("/workspace/institution/items", response_class=HTMLResponse)
def inventory_items_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    status: Annotated[str | None, Query(max_length=30)] = None,
) -> HTMLResponse:
    """The inventory queue: items by status (self-assessment to do, reviews waiting)."""
    from shuanglian.inventory.review import STATUS_LABELS
    from shuanglian.inventory.service import list_items

    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    status = status if status in STATUS_LABELS else None
    items = list_items(session, actor=user, status=status, limit=200)
    patents = {
        p.id: p
        for p in session.scalars(select(Patent).where(Patent.id.in_([i.patent_id for i in items])))
    }
    return render(
        request,
        "workspace/items.html",
        {"items": items, "patents": patents, "labels": STATUS_LABELS, "status": status},
    )


def _managed_item(session: Any, user: Any, item_id: int) -> Any:
    """The inventory item if this user manages its institution; NotFound otherwise (no leak)."""
    from shuanglian.inventory.models import InventoryItem

    item = session.get(InventoryItem, item_id)
    if item is None or not perm.can_manage_institution(user, item.institution_id):
        raise NotFound(f"盘点条目 {item_id} 不存在 (inventory item not found)")
    return item


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
    from shuanglian.inventory.access import review_levels
    from shuanglian.inventory.models import (
        IMPLEMENTATION_STATUSES,
        TRANSFER_MODES,
        VALUE_GRADES,
    )
    from shuanglian.inventory.review import STAGE_LEVEL, STATUS_LABELS
    from shuanglian.inventory.service import EDITABLE_STATUSES

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
            "patent": session.get(Patent, item.patent_id),
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


@router.post(
    "/workspace/institution/items/{item_id}/assessment",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
async def inventory_assessment_submit(
    request: Request, session: SessionDep, user: CurrentUser, item_id: IdPath
) -> Response:
    from pydantic import ValidationError

    from shuanglian.inventory.schemas import SelfAssessmentIn
    from shuanglian.inventory.service import save_self_assessment

    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    _managed_item(session, user, item_id)  # 404 for another institution's item
    form = await request.form()
    echo = {k: form_text(form, k) for k in form}
    try:
        data = SelfAssessmentIn(
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
        save_self_assessment(
            session, actor=user, item_id=item_id, data=data, submit=echo.get("action") == "submit"
        )
    except ValidationError as exc:
        session.rollback()
        errors: dict[str, str] = {}
        for err in exc.errors():
            field = str(err["loc"][0]) if err.get("loc") else "value_reason"
            errors.setdefault(field, str(err.get("msg", "")).removeprefix("Value error, "))
        return _item_page(
            request, session, user, item_id, errors=errors, form=echo, status_code=422
        )
    except ValueError:
        session.rollback()
        return _item_page(
            request,
            session,
            user,
            item_id,
            form=echo,
            status_code=422,
            errors={"trl": "技术成熟度须为 1–9 的整数 (TRL 1–9)"},
        )
    except DomainError as exc:
        session.rollback()
        return _item_page(
            request,
            session,
            user,
            item_id,
            form=echo,
            status_code=422,
            errors={exc.field or "value_reason": exc.message},
        )
    session.commit()
    return RedirectResponse(f"/workspace/institution/items/{item_id}", status_code=303)


@router.post(
    "/workspace/institution/items/{item_id}/review",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
async def inventory_review_submit(
    request: Request, session: SessionDep, user: CurrentUser, item_id: IdPath
) -> Response:
    from shuanglian.inventory.review import review_item

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
        session.rollback()
        return _item_page(
            request, session, user, item_id, status_code=422, errors={"decision": exc.message}
        )
    session.commit()
    return RedirectResponse(f"/workspace/institution/items/{item_id}", status_code=303)


# --------------------------------------------------------------------------- imports (uploads)

PATENT_IMPORT_FIELDS = ("file", "format")
ASSESSMENT_IMPORT_FIELDS = ("file",)


def _imports_page(
    request: Request,
    session: Any,
    user: Any,
    institution_id: int | None,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """导入与自评表: the patent upload, the self-assessment template per batch and its upload."""
    from shuanglian.inventory.service import batch_progress, list_batches
    from shuanglian.patents.workspace import UPLOAD_FORMATS, workspace_institution

    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    institutions = (
        session.scalars(select(Institution).order_by(Institution.name).limit(500)).all()
        if user.role == perm.ADMIN
        else []
    )
    context: dict[str, Any] = {
        "institution": None,
        "institutions": institutions,
        "errors": errors or {},
        "form": form or {},
        "formats": UPLOAD_FORMATS,
        "max_upload_mb": request.app.state.settings.max_upload_mb,
        "max_upload_bytes": request.app.state.settings.max_upload_bytes,
    }
    if user.role == perm.ADMIN and institution_id is None:
        # No form on the chooser page to show a refusal beside: it goes on top instead.
        context["flashes"] = list((errors or {}).values())
        return render(request, "workspace/imports.html", context, status_code=status_code)
    institution = workspace_institution(session, actor=user, institution_id=institution_id)
    batches = list_batches(session, actor=user, institution_id=institution.id, limit=100)
    context["institution"] = institution
    context["progress"] = [batch_progress(session, actor=user, batch_id=b.id) for b in batches]
    return render(request, "workspace/imports.html", context, status_code=status_code)


def _refused_upload(
    request: Request,
    session: Any,
    user: Any,
    institution_id: int | None,
    exc: DomainError,
    *,
    prefix: str,
    fields: tuple[str, ...],
    form: dict[str, Any],
) -> HTMLResponse:
    """The imports page again, the refusal beside the field it concerns; nothing was kept.

    Refusals of the person (not allowed, not found) are no form error: they go on to the
    site's error page.
    """
    session.rollback()
    if isinstance(exc, PermissionDenied | NotFound):
        raise exc
    field = exc.field if exc.field in fields else "file"
    status = exc.status if exc.status != 400 else 422
    return _imports_page(
        request,
        session,
        user,
        institution_id,
        errors={f"{prefix}-{field}": exc.message},
        form=form,
        status_code=status,
    )


@router.get("/workspace/institution/imports", response_class=HTMLResponse)
def institution_imports_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    institution_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> HTMLResponse:
    """Upload forms of the institution workspace (staff: own institution; admin picks one)."""
    return _imports_page(request, session, user, institution_id)


@router.post(
    "/workspace/institution/patents/upload", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def institution_patents_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    file: Annotated[UploadFile | None, File()] = None,
    fmt: Annotated[str, Form(alias="format", max_length=20)] = "auto",
    dry_run: Annotated[bool, Form()] = False,
    institution: Annotated[str | None, Form(alias="institution_id", max_length=12)] = None,
) -> Response:
    """导入专利: the upload becomes the institution's patents; the report page follows."""
    from shuanglian.patents.workspace import import_institution_patents, workspace_institution
    from shuanglian.web.imports import finish_import, render_import_result
    from shuanglian.web.uploads import PATENT_SUFFIXES, received_file

    institution_id = optional_int(institution, field="institution_id", low=1, high=MAX_ID)
    # Who may import where is settled before the file is copied anywhere.
    workspace_institution(session, actor=user, institution_id=institution_id)
    try:
        with received_file(file, settings=settings, allowed=PATENT_SUFFIXES) as path:
            report = import_institution_patents(
                session,
                actor=user,
                institution_id=institution_id,
                path=path,
                fmt=fmt,
                dry_run=dry_run,
                batch_size=settings.import_batch_size,
            )
            filename = path.name
    except DomainError as exc:
        return _refused_upload(
            request,
            session,
            user,
            institution_id,
            exc,
            prefix="patents",
            fields=PATENT_IMPORT_FIELDS,
            form={"patents-format": fmt, "patents-dry_run": dry_run},
        )
    finish_import(session, report, engine=request.app.state.engine)
    assert user is not None
    return render_import_result(
        request,
        settings=settings,
        user_id=user.id,
        report=report,
        title=("导入专利结果", "Patent import"),
        filename=filename,
        back=_imports_href(institution_id),
    )


LISTING_IMPORT_FIELDS = ("file",)


@router.post(
    "/workspace/institution/listings/upload", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def institution_listings_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    file: Annotated[UploadFile | None, File()] = None,
    publish: Annotated[bool, Form()] = False,
    dry_run: Annotated[bool, Form()] = False,
    institution: Annotated[str | None, Form(alias="institution_id", max_length=12)] = None,
) -> Response:
    """导入科技成果: the institution's register becomes catalogue listings; the report follows."""
    from shuanglian.patents.workspace import workspace_institution
    from shuanglian.supermarket.importers import import_institution_listings
    from shuanglian.web.imports import finish_import, render_import_result
    from shuanglian.web.uploads import LISTING_SUFFIXES, received_file

    institution_id = optional_int(institution, field="institution_id", low=1, high=MAX_ID)
    workspace_institution(session, actor=user, institution_id=institution_id)
    try:
        with received_file(file, settings=settings, allowed=LISTING_SUFFIXES) as path:
            report = import_institution_listings(
                session,
                actor=user,
                institution_id=institution_id,
                path=path,
                publish=publish,
                dry_run=dry_run,
                batch_size=settings.import_batch_size,
            )
            filename = path.name
    except DomainError as exc:
        return _refused_upload(
            request,
            session,
            user,
            institution_id,
            exc,
            prefix="listings",
            fields=LISTING_IMPORT_FIELDS,
            form={"listings-publish": publish, "listings-dry_run": dry_run},
        )
    finish_import(session, report, engine=request.app.state.engine)
    assert user is not None
    return render_import_result(
        request,
        settings=settings,
        user_id=user.id,
        report=report,
        title=("导入科技成果结果", "Listing import"),
        filename=filename,
        back=_imports_href(institution_id),
    )


def _imports_href(institution_id: int | None) -> str:
    suffix = f"?institution_id={institution_id}" if institution_id is not None else ""
    return "/workspace/institution/imports" + suffix


@router.get("/workspace/institution/assessments/template.xlsx")
def institution_assessment_template(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    batch_id: IdQuery = None,
    institution_id: IdQuery = None,
) -> Response:
    """自评表模板: a batch's items awaiting self-assessment (all the institution's without one)."""
    from shuanglian.inventory.workspace import write_institution_assessment_template
    from shuanglian.web.imports import workbook_response

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
    from shuanglian.inventory.workspace import import_assessment_workbook
    from shuanglian.patents.workspace import workspace_institution
    from shuanglian.web.imports import finish_import, render_import_result
    from shuanglian.web.uploads import WORKBOOK_SUFFIXES, received_file

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
        return _refused_upload(
            request,
            session,
            user,
            institution_id,
            exc,
            prefix="assess",
            fields=ASSESSMENT_IMPORT_FIELDS,
            form={"assess-dry_run": dry_run, "assess-submit": submit},
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
        back=_imports_href(institution_id),
    )
