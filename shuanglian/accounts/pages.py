"""HTML pages for accounts: log in/out, own account (password, API tokens), admin users."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shuanglian.accounts import audit_view, service
from shuanglian.accounts import permissions as perm
from shuanglian.accounts.application_pages import router as applications_router
from shuanglian.accounts.models import ROLES, User
from shuanglian.accounts.orgs_pages import router as orgs_router
from shuanglian.clock import zone_label
from shuanglian.db import begin_writing
from shuanglian.errors import DomainError
from shuanglian.patents.service import list_institutions
from shuanglian.web.deps import (
    CsrfDep,
    CurrentUser,
    IdPath,
    LangDep,
    PageDep,
    SessionDep,
    SettingsDep,
)
from shuanglian.web.forms import FormDep, form_errors, form_status, form_text
from shuanglian.web.security import log_in, log_out, session_key, web_session
from shuanglian.web.templating import render

router = APIRouter(include_in_schema=False)
router.routes.extend(orgs_router.routes)  # /admin/orgs lives in its own module
router.routes.extend(applications_router.routes)  # /apply and /admin/applications too


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after login would help phishing."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _home_for(user: User) -> str:
    if user.role == perm.ENTERPRISE_USER:
        return "/workspace/enterprise"
    if user.role == perm.INSTITUTION_STAFF:
        return "/workspace/institution"
    if user.role == perm.ADMIN:
        return "/admin/users"
    return "/market"


_form_str = form_text


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request, user: CurrentUser, next: Annotated[str | None, Query(max_length=500)] = None
) -> HTMLResponse:
    return render(request, "accounts/login.html", {"next": _safe_next(next), "errors": {}})


@router.post("/login", response_class=HTMLResponse, dependencies=[CsrfDep])
async def login_submit(request: Request, session: SessionDep, form: FormDep) -> Response:
    """Check the password off the event loop, behind the hash gate and two rate limits.

    The handler stays `async` so that a login waiting for a free password check is a suspended
    coroutine, not a blocked thread; the database calls and the argon2 check run together in
    the gate's worker thread (`accounts.gate`). Failures count per client and name (5 in 5
    minutes) and per client across all names (`Settings.login_ip_max_failures`).
    """
    username = _form_str(form, "username").strip()
    password = _form_str(form, "password")
    target = _safe_next(_form_str(form, "next"))
    limiter = request.app.state.login_limiter
    per_client = request.app.state.login_ip_limiter
    client = request.client.host if request.client else "unknown"
    ctx: dict[str, Any] = {"next": target, "username": username}
    wait = max(limiter.retry_after(client, username), per_client.retry_after(client, ""))
    if wait:
        ctx["errors"] = {
            "username": f"尝试次数过多，请 {wait} 秒后再试 (too many attempts; retry in {wait} s)"
        }
        response = render(request, "accounts/login.html", ctx, status_code=429)
        response.headers["Retry-After"] = str(wait)
        return response

    def check() -> tuple[User, str] | None:
        # Read and check first (this request's session starts as a read, see
        # `web.deps.READ_FIRST_PATHS`), then take the write lock only for the audit entry
        # and the server-side session row.
        user = service.authenticate(session, username=username, password=password)
        if user is None:
            return None
        new_hash = service.upgraded_hash(user, password)
        begin_writing(session)
        service.record_login(session, user=user, new_hash=new_hash)
        return user, web_session(request, session, user)

    checked = await request.app.state.hash_gate.run(check)
    if checked is None:
        limiter.record(client, username)
        per_client.record(client, "")
        ctx["errors"] = {"password": "用户名或密码不正确 (wrong username or password)"}
        return render(request, "accounts/login.html", ctx, status_code=401)
    limiter.reset(client, username)
    user, key = checked
    log_in(request, user_id=user.id, key=key)
    return RedirectResponse(target if target != "/" else _home_for(user), status_code=303)


@router.post("/logout", dependencies=[CsrfDep])
def logout_submit(request: Request, session: SessionDep) -> Response:
    key = session_key(request)
    if key is not None:
        service.close_web_session(session, key=key)
    log_out(request)
    return RedirectResponse("/", status_code=303)


def _account_page(
    request: Request,
    session: Any,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    new_token: str | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "accounts/account.html",
        {
            "tokens": service.list_api_tokens(session, user=user),
            "errors": errors or {},
            "new_token": new_token,
            "flashes": [message] if message else [],
            "role_labels": perm.ROLE_LABELS,
        },
        status_code=status_code,
    )


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    user = perm.require_login(user)
    return _account_page(request, session, user)


@router.post("/account/password", response_class=HTMLResponse, dependencies=[CsrfDep])
def password_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    user = perm.require_login(user)
    new = _form_str(form, "new_password")
    if new != _form_str(form, "confirm_password"):
        return _account_page(
            request,
            session,
            user,
            errors={"confirm_password": "两次输入的新密码不一致 (passwords differ)"},
            status_code=422,
        )
    try:
        service.change_password(
            session,
            user=user,
            current_password=_form_str(form, "current_password"),
            new_password=new,
        )
    except DomainError as exc:
        return _account_page(
            request,
            session,
            user,
            errors=form_errors(session, exc, default="new_password"),
            status_code=form_status(exc),
        )
    # Every session and API token ended with the change; this browser gets a fresh session.
    log_in(request, user_id=user.id, key=web_session(request, session, user))
    return _account_page(request, session, user, message="密码已修改 (password changed)")


@router.post("/account/tokens", response_class=HTMLResponse, dependencies=[CsrfDep])
def token_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    user = perm.require_login(user)
    try:
        _, plain = service.create_api_token(session, user=user, name=_form_str(form, "name"))
    except DomainError as exc:
        errors = form_errors(session, exc, default="name", fields=("name",))
        return _account_page(request, session, user, errors=errors, status_code=form_status(exc))
    return _account_page(request, session, user, new_token=plain)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CsrfDep])
def token_revoke(session: SessionDep, user: CurrentUser, token_id: IdPath) -> Response:
    user = perm.require_login(user)
    service.revoke_api_token(session, user=user, token_id=token_id)
    return RedirectResponse("/account", status_code=303)


# --------------------------------------------------------------------------- admin


def _admin_users_page(
    request: Request,
    session: Any,
    actor: User,
    page: Any,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    users, total = service.list_users(session, actor=actor, offset=page.offset, limit=page.per_page)
    return render(
        request,
        "admin/users.html",
        {
            "users": users,
            **page.context(total),
            "roles": ROLES,
            "role_labels": perm.ROLE_LABELS,
            "institutions": list_institutions(session, limit=500),
            "errors": errors or {},
            "form": form or {},
            "flashes": [message] if message else [],
        },
        status_code=status_code,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def admin_users(
    request: Request, session: SessionDep, user: CurrentUser, page: PageDep
) -> HTMLResponse:
    actor = perm.require_role(user, perm.ADMIN)
    return _admin_users_page(request, session, actor, page)


@router.post("/admin/users", response_class=HTMLResponse, dependencies=[CsrfDep])
def admin_create_user(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, page: PageDep
) -> HTMLResponse:
    actor = perm.require_role(user, perm.ADMIN)
    fields = {
        k: _form_str(form, k)
        for k in (
            "username",
            "display_name",
            "email",
            "role",
            "institution_id",
            "enterprise_ref",
            "college",
        )
    }
    try:
        inst = fields["institution_id"]
        service.create_user_as_admin(
            session,
            actor=actor,
            username=fields["username"],
            password=_form_str(form, "password"),
            role=fields["role"],
            display_name=fields["display_name"],
            email=fields["email"],
            institution_id=int(inst) if inst.isdigit() else None,
            enterprise_ref=fields["enterprise_ref"] or None,
            college=fields["college"],
        )
    except DomainError as exc:
        return _admin_users_page(
            request,
            session,
            actor,
            page,
            form=fields,
            errors=form_errors(session, exc, default="username"),
            status_code=form_status(exc),
        )
    return _admin_users_page(
        request, session, actor, page, message=f"已创建用户 {fields['username']} (user created)"
    )


@router.post("/admin/users/{user_id}/reset", response_class=HTMLResponse, dependencies=[CsrfDep])
def admin_reset_password(
    request: Request,
    form: FormDep,
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    user_id: IdPath,
) -> HTMLResponse:
    actor = perm.require_role(user, perm.ADMIN)
    try:
        target = service.reset_password(
            session, actor=actor, user_id=user_id, new_password=_form_str(form, "new_password")
        )
    except DomainError as exc:
        errors = form_errors(session, exc, default=str(user_id), fields=(), prefix="reset-")
        return _admin_users_page(
            request, session, actor, page, errors=errors, status_code=form_status(exc)
        )
    return _admin_users_page(
        request, session, actor, page, message=f"已重置 {target.username} 的密码 (password reset)"
    )


@router.post("/admin/users/{user_id}/active", dependencies=[CsrfDep])
def admin_set_active(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, user_id: IdPath
) -> Response:
    actor = perm.require_role(user, perm.ADMIN)
    service.set_user_active(
        session, actor=actor, user_id=user_id, active=_form_str(form, "active") == "1"
    )
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/audit", response_class=HTMLResponse)
def admin_audit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    page: PageDep,
    lang: LangDep,
    username: Annotated[str | None, Query(max_length=80)] = None,
    action: Annotated[str | None, Query(max_length=60)] = None,
    subject_type: Annotated[str | None, Query(max_length=60)] = None,
    date_from: Annotated[str | None, Query(max_length=10)] = None,
    date_to: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse:
    flt = audit_view.AuditFilter(
        username=username or None,
        action=action or None,
        subject_type=subject_type or None,
        date_from=audit_view.parse_day(date_from, field="date_from"),
        date_to=audit_view.parse_day(date_to, field="date_to"),
        timezone=settings.timezone,
    )
    rows, total = audit_view.list_audit_rows(
        session, actor=user, flt=flt, offset=page.offset, limit=page.per_page, lang=lang
    )
    return render(
        request,
        "admin/audit.html",
        {
            "rows": rows,
            **page.context(total),
            "filter": flt,
            "zone_label": zone_label(settings.timezone, lang=lang),
            "actions": audit_view.action_choices(lang),
            "subject_types": audit_view.subject_type_choices(lang),
        },
    )


@router.get("/admin/reference", response_class=HTMLResponse)
def admin_reference(
    request: Request,
    user: CurrentUser,
    q: Annotated[str | None, Query(max_length=50)] = None,
) -> HTMLResponse:
    """Reference tables shipped with the platform: counts, and a GB/T 4754 lookup."""
    from shuanglian.reference import gbt4754, summary

    perm.require_role(user, perm.ADMIN)
    found = gbt4754.lookup_industries(q, limit=50) if q else []
    return render(
        request,
        "admin/reference.html",
        {
            "summary": summary(),
            "q": q or "",
            "found": found,
            "sections": gbt4754.industries_at_level("门类"),
        },
    )
