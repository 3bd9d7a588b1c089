"""`/admin/orgs`: the organisations an administrator keeps — institutions with their colleges
and reviewers, and enterprises added by hand.

Appointing reviewers lives here because a new institution is useless until someone can review:
staff submitting self-assessments would otherwise meet 需由单位审核人审核 with nobody able to.
Every form calls one service (`patents.institutions`, `inventory.service`,
`enterprises.records`) and every change is in the audit log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.accounts.service import institution_staff
from shuanglian.enterprises.records import create_enterprise
from shuanglian.enterprises.service import recent_enterprises
from shuanglian.errors import DomainError
from shuanglian.inventory import service as inventory
from shuanglian.inventory.models import REVIEW_LEVELS
from shuanglian.patents.institutions import (
    INSTITUTION_KINDS,
    create_institution,
    update_institution,
)
from shuanglian.patents.service import get_institution, list_institutions
from shuanglian.web.deps import MAX_ID, CsrfDep, CurrentUser, IdPath, SessionDep, optional_int
from shuanglian.web.forms import FormDep, form_errors, form_status, form_text
from shuanglian.web.templating import render

router = APIRouter(include_in_schema=False)


def _form(posted: FormData) -> dict[str, str]:
    """Every field of the posted form as text (refused forms echo them back)."""
    return {k: form_text(posted, k) for k in posted}


def _orgs_page(
    request: Request,
    session: Any,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/orgs.html",
        {
            "institutions": list_institutions(session, limit=500),
            "enterprises": recent_enterprises(session, limit=50),
            "kinds": INSTITUTION_KINDS,
            "errors": errors or {},
            "form": form or {},
            "flashes": [message] if message else [],
        },
        status_code=status_code,
    )


@router.get("/admin/orgs", response_class=HTMLResponse)
def admin_orgs(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    """Institutions (add; open one to edit it) and enterprises (add one by hand)."""
    perm.require_role(user, perm.ADMIN)
    return _orgs_page(request, session)


@router.post("/admin/orgs/institutions", response_class=HTMLResponse, dependencies=[CsrfDep])
def admin_create_institution(
    request: Request, posted: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    actor = perm.require_role(user, perm.ADMIN)
    form = _form(posted)
    try:
        inst = create_institution(
            session,
            actor=actor,
            name=form.get("name", ""),
            kind=form.get("kind", "university"),
            region=form.get("region"),
        )
    except DomainError as exc:
        errors = form_errors(
            session, exc, default="name", fields=("name", "kind", "region"), prefix="inst-"
        )
        return _orgs_page(
            request,
            session,
            errors=errors,
            form={f"inst-{k}": v for k, v in form.items()},
            status_code=form_status(exc),
        )
    return RedirectResponse(f"/admin/orgs/institutions/{inst.id}", status_code=303)


@router.post("/admin/orgs/enterprises", response_class=HTMLResponse, dependencies=[CsrfDep])
def admin_create_enterprise(
    request: Request, posted: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    actor = perm.require_role(user, perm.ADMIN)
    form = _form(posted)
    try:
        ent = create_enterprise(
            session,
            actor=actor,
            name=form.get("name", ""),
            credit_code=form.get("credit_code"),
            industry_code=form.get("industry_code"),
            province=form.get("province"),
            business_scope=form.get("business_scope"),
        )
    except DomainError as exc:
        fields = ("name", "credit_code", "industry_code", "province", "business_scope")
        errors = form_errors(session, exc, default="name", fields=fields, prefix="ent-")
        return _orgs_page(
            request,
            session,
            errors=errors,
            form={f"ent-{k}": v for k, v in form.items()},
            status_code=form_status(exc),
        )
    return _orgs_page(request, session, message=f"已新增企业“{ent.name}” (enterprise added)")


# --------------------------------------------------------------------------- one institution


def _institution_page(
    request: Request,
    session: Any,
    institution_id: int,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    institution = get_institution(session, institution_id=institution_id)
    return render(
        request,
        "admin/institution.html",
        {
            "institution": institution,
            "kinds": INSTITUTION_KINDS,
            "colleges": inventory.list_colleges(session, institution_id=institution.id),
            "reviewers": inventory.list_reviewers(session, institution_id=institution.id),
            "staff": institution_staff(session, institution_id=institution.id),
            "levels": REVIEW_LEVELS,
            "errors": errors or {},
            "form": form or {},
            "flashes": [message] if message else [],
        },
        status_code=status_code,
    )


@router.get("/admin/orgs/institutions/{institution_id}", response_class=HTMLResponse)
def admin_institution(
    request: Request, session: SessionDep, user: CurrentUser, institution_id: IdPath
) -> HTMLResponse:
    """One institution: its name and kind, colleges, and who reviews at which level."""
    perm.require_role(user, perm.ADMIN)
    return _institution_page(request, session, institution_id)


def _refused(
    request: Request,
    session: Any,
    institution_id: int,
    exc: DomainError,
    *,
    prefix: str,
    fields: tuple[str, ...],
    form: dict[str, str],
) -> HTMLResponse:
    errors = form_errors(session, exc, default=fields[0], fields=fields, prefix=prefix)
    return _institution_page(
        request,
        session,
        institution_id,
        errors=errors,
        form={f"{prefix}{k}": v for k, v in form.items()},
        status_code=form_status(exc),
    )


def _back(institution_id: int, anchor: str) -> Response:
    return RedirectResponse(f"/admin/orgs/institutions/{institution_id}#{anchor}", status_code=303)


@router.post(
    "/admin/orgs/institutions/{institution_id}",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def admin_update_institution(
    request: Request,
    posted: FormDep,
    session: SessionDep,
    user: CurrentUser,
    institution_id: IdPath,
) -> Response:
    actor = perm.require_role(user, perm.ADMIN)
    form = _form(posted)
    try:
        update_institution(
            session,
            actor=actor,
            institution_id=institution_id,
            name=form.get("name", ""),
            kind=form.get("kind", ""),
            region=form.get("region"),
        )
    except DomainError as exc:
        return _refused(
            request, session, institution_id, exc, prefix="edit-",
            fields=("name", "kind", "region"), form=form,
        )  # fmt: skip
    return _back(institution_id, "details")


@router.post(
    "/admin/orgs/institutions/{institution_id}/colleges",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def admin_create_college(
    request: Request,
    posted: FormDep,
    session: SessionDep,
    user: CurrentUser,
    institution_id: IdPath,
) -> Response:
    actor = perm.require_role(user, perm.ADMIN)
    form = _form(posted)
    try:
        inventory.create_college(
            session, actor=actor, institution_id=institution_id, name=form.get("name", "")
        )
    except DomainError as exc:
        return _refused(
            request, session, institution_id, exc, prefix="college-", fields=("name",), form=form
        )
    return _back(institution_id, "colleges")


@router.post(
    "/admin/orgs/colleges/{college_id}", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def admin_rename_college(
    request: Request, posted: FormDep, session: SessionDep, user: CurrentUser, college_id: IdPath
) -> Response:
    actor = perm.require_role(user, perm.ADMIN)
    form = _form(posted)
    institution_id = optional_int(
        form.get("institution_id"), field="institution_id", low=1, high=MAX_ID
    )
    try:
        college = inventory.rename_college(
            session, actor=actor, college_id=college_id, name=form.get("name", "")
        )
    except DomainError as exc:
        return _refused(
            request, session, institution_id or 0, exc, prefix=f"college{college_id}-",
            fields=("name",), form=form,
        )  # fmt: skip
    return _back(college.institution_id, "colleges")


@router.post(
    "/admin/orgs/institutions/{institution_id}/reviewers",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def admin_assign_reviewer(
    request: Request,
    posted: FormDep,
    session: SessionDep,
    user: CurrentUser,
    institution_id: IdPath,
) -> Response:
    """指定审核人: a staff member of the institution, at institution or college level."""
    actor: User = perm.require_role(user, perm.ADMIN)
    form = _form(posted)
    try:
        user_id = optional_int(form.get("user_id"), field="user_id", low=1, high=MAX_ID)
        if user_id is None:
            raise DomainError("请选择审核人 (choose a person)", field="user_id")
        level = form.get("level", "")
        college_id = optional_int(form.get("college_id"), field="college_id", low=1, high=MAX_ID)
        if level == "college" and college_id is None:
            raise DomainError("院系审核人须选择院系 (choose the college)", field="college_id")
        inventory.assign_reviewer(
            session,
            actor=actor,
            user_id=user_id,
            institution_id=institution_id,
            level=level,
            college_id=college_id if level == "college" else None,
        )
    except DomainError as exc:
        return _refused(
            request, session, institution_id, exc, prefix="rev-",
            fields=("user_id", "level", "college_id"), form=form,
        )  # fmt: skip
    return _back(institution_id, "reviewers")


@router.post(
    "/admin/orgs/reviewers/{assignment_id}/remove",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def admin_remove_reviewer(
    request: Request, session: SessionDep, user: CurrentUser, assignment_id: IdPath
) -> Response:
    actor = perm.require_role(user, perm.ADMIN)
    row = inventory.remove_reviewer(session, actor=actor, assignment_id=assignment_id)
    return _back(row.institution_id, "reviewers")
