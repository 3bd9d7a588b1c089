"""`/apply` (申请账号, public) and `/admin/applications` (the administrators' queue).

Every form calls one service of `accounts.applications`; a refusal shows the message beside
its field with what was typed kept (passwords excepted).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shuanglian.accounts import applications
from shuanglian.accounts import permissions as perm
from shuanglian.errors import DomainError, TooManyRequests
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, IdQuery, SessionDep, SettingsDep
from shuanglian.web.forms import FormDep, form_errors, form_status, form_text
from shuanglian.web.origin import site_url
from shuanglian.web.templating import render

router = APIRouter(include_in_schema=False)

FIELDS = (
    "company_name",
    "credit_code",
    "contact_name",
    "phone",
    "email",
    "username",
    "password",
    "password_confirm",
)


def _apply_page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    submitted: Any = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "accounts/apply.html",
        {"form": form or {}, "errors": errors or {}, "submitted": submitted},
        status_code=status_code,
    )


@router.get("/apply", response_class=HTMLResponse)
def apply_page(request: Request) -> HTMLResponse:
    return _apply_page(request)


@router.post("/apply", response_class=HTMLResponse, dependencies=[CsrfDep])
def apply_submit(request: Request, posted: FormDep, session: SessionDep) -> HTMLResponse:
    form = {name: form_text(posted, name) for name in FIELDS}
    client = request.client.host if request.client else "unknown"
    try:
        application = applications.submit_application(
            session,
            data=applications.ApplicationInput(**form),
            limits=applications.limits_for(request),
            client=client,
        )
    except DomainError as exc:
        echo = {k: v for k, v in form.items() if not k.startswith("password")}
        response = _apply_page(
            request,
            form=echo,
            errors=form_errors(session, exc, default="company_name"),
            status_code=form_status(exc),
        )
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return _apply_page(request, submitted=application)


def _queue(
    request: Request,
    session: Any,
    user: Any,
    *,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    pending = applications.list_applications(session, actor=user)
    return render(
        request,
        "admin/applications.html",
        {
            "pending": pending,
            "existing": {
                a.id: applications.enterprise_for_code(session, a.credit_code) for a in pending
            },
            "decided": applications.list_applications(session, actor=user, status="approved")[:20]
            + applications.list_applications(session, actor=user, status="rejected")[:20],
            "errors": errors or {},
            "flashes": [message] if message else [],
        },
        status_code=status_code,
    )


def _refused(
    request: Request, session: Any, admin: Any, errors: dict[str, str], exc: DomainError
) -> HTMLResponse:
    """The queue again with the refusal beside the application, or on top when the
    application has left the queue (decided meanwhile, by another admin or a reload)."""
    message = exc.message if exc.field == "decision" else None
    return _queue(
        request, session, admin, errors=errors, message=message, status_code=form_status(exc)
    )


@router.get("/admin/applications", response_class=HTMLResponse)
def admin_applications(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    decided: IdQuery = None,
) -> HTMLResponse:
    """Pending applications, oldest first, with approve and reject-with-reason; after a
    decision (redirected here, so a reload repeats nothing) a line says what was done."""
    perm.require_admin(user)
    message = None
    done = applications.decided_application(session, application_id=decided) if decided else None
    if done is not None and done.status == "approved":
        message = f"已批准“{done.company_name}”，账号 {done.username} 已创建 (approved)"
    elif done is not None and done.status == "rejected":
        message = f"已驳回“{done.company_name}”的申请 (rejected)"
    return _queue(request, session, user, message=message)


@router.post(
    "/admin/applications/{application_id:int}/approve",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def admin_approve_application(
    request: Request,
    posted: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    application_id: IdPath,
) -> Response:
    admin = perm.require_admin(user)
    try:
        applications.approve_application(
            session,
            actor=admin,
            application_id=application_id,
            settings=settings,
            login_url=f"{site_url(request)}/login",
        )
    except DomainError as exc:
        errors = form_errors(session, exc, default="decision", prefix=f"app-{application_id}-")
        return _refused(request, session, admin, errors, exc)
    return RedirectResponse(f"/admin/applications?decided={application_id}", status_code=303)


@router.post(
    "/admin/applications/{application_id:int}/reject",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def admin_reject_application(
    request: Request,
    posted: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    application_id: IdPath,
) -> Response:
    admin = perm.require_admin(user)
    try:
        applications.reject_application(
            session,
            actor=admin,
            application_id=application_id,
            reason=form_text(posted, "reason"),
            settings=settings,
            apply_url=f"{site_url(request)}/apply",
        )
    except DomainError as exc:
        errors = form_errors(session, exc, default="reason", prefix=f"app-{application_id}-")
        return _refused(request, session, admin, errors, exc)
    return RedirectResponse(f"/admin/applications?decided={application_id}", status_code=303)
