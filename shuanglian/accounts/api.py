"""JSON routes for the signed-in user, API tokens and (for admins) users and the audit log.

Each route calls the service the matching page calls (`accounts.service`), which checks the
role; no response ever carries a password hash.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from shuanglian.accounts import audit_view, service
from shuanglian.accounts import permissions as perm
from shuanglian.accounts.schemas import (
    ActiveUpdate,
    AuditEventRead,
    PasswordChange,
    PasswordReset,
    TokenCreate,
    TokenIssued,
    TokenRead,
    UserCreate,
    UserRead,
)
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, LangDep, SessionDep, SettingsDep
from shuanglian.web.schemas import ERROR_RESPONSES, ListResponse
from shuanglian.web.security import log_in, web_session

router = APIRouter(tags=["accounts"], responses=ERROR_RESPONSES)


@router.get("/me", response_model=UserRead, summary="当前用户 / who am I")
def me_api(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(perm.require_login(user))


@router.get("/tokens", response_model=list[TokenRead], summary="我的 API 令牌 / my tokens")
def list_tokens_api(session: SessionDep, user: CurrentUser) -> list[TokenRead]:
    user = perm.require_login(user)
    return [TokenRead.model_validate(t) for t in service.list_api_tokens(session, user=user)]


@router.post(
    "/tokens",
    response_model=TokenIssued,
    status_code=201,
    dependencies=[CsrfDep],
    summary="创建 API 令牌 / issue a token",
)
def create_token_api(session: SessionDep, user: CurrentUser, body: TokenCreate) -> TokenIssued:
    user = perm.require_login(user)
    token, plain = service.create_api_token(session, user=user, name=body.name)
    return TokenIssued(token=plain, **TokenRead.model_validate(token).model_dump())


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    dependencies=[CsrfDep],
    summary="吊销令牌 / revoke a token",
)
def revoke_token_api(session: SessionDep, user: CurrentUser, token_id: IdPath) -> None:
    user = perm.require_login(user)
    service.revoke_api_token(session, user=user, token_id=token_id)


@router.get("/users", response_model=ListResponse[UserRead], summary="用户 / users (admin)")
def list_users_api(
    session: SessionDep,
    user: CurrentUser,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ListResponse[UserRead]:
    users, total = service.list_users(session, actor=user, offset=offset, limit=limit)
    return ListResponse[UserRead](
        items=[UserRead.model_validate(u) for u in users], total=total, offset=offset, limit=limit
    )


@router.post(
    "/me/password",
    response_model=UserRead,
    dependencies=[CsrfDep],
    summary="修改本人密码 / change my password",
)
def change_password_api(
    request: Request, session: SessionDep, user: CurrentUser, body: PasswordChange
) -> UserRead:
    user = perm.require_login(user)
    service.change_password(
        session,
        user=user,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    if getattr(request.state, "auth", None) == "cookie":
        # As on /account: every session and token ended; this browser gets a fresh session.
        log_in(request, user_id=user.id, key=web_session(request, session, user))
    return UserRead.model_validate(user)


@router.post(
    "/users",
    response_model=UserRead,
    status_code=201,
    dependencies=[CsrfDep],
    summary="创建用户 / create a user (admin)",
)
def create_user_api(session: SessionDep, user: CurrentUser, body: UserCreate) -> UserRead:
    created = service.create_user_as_admin(session, actor=user, **body.model_dump())
    return UserRead.model_validate(created)


@router.post(
    "/users/{user_id}/active",
    response_model=UserRead,
    dependencies=[CsrfDep],
    summary="启用或停用用户 / enable or disable a user (admin)",
)
def set_user_active_api(
    session: SessionDep, user: CurrentUser, user_id: IdPath, body: ActiveUpdate
) -> UserRead:
    target = service.set_user_active(session, actor=user, user_id=user_id, active=body.active)
    return UserRead.model_validate(target)


@router.post(
    "/users/{user_id}/reset",
    response_model=UserRead,
    dependencies=[CsrfDep],
    summary="重置用户密码 / reset a user's password (admin)",
)
def reset_password_api(
    session: SessionDep, user: CurrentUser, user_id: IdPath, body: PasswordReset
) -> UserRead:
    target = service.reset_password(
        session, actor=user, user_id=user_id, new_password=body.new_password
    )
    return UserRead.model_validate(target)


@router.get(
    "/audit",
    response_model=ListResponse[AuditEventRead],
    summary="审计日志 / audit log (admin: all; institution staff: own institution)",
)
def audit_api(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    lang: LangDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    username: Annotated[str | None, Query(max_length=80, description="actor; system")] = None,
    action: Annotated[
        str | None, Query(max_length=60, description="exact (user.login) or family (import)")
    ] = None,
    subject_type: Annotated[str | None, Query(max_length=60, description="e.g. patents")] = None,
    date_from: Annotated[date | None, Query(description="day (server time zone), included")] = None,
    date_to: Annotated[date | None, Query(description="day, included")] = None,
) -> ListResponse[AuditEventRead]:
    flt = audit_view.AuditFilter(
        username=username or None,
        action=action or None,
        subject_type=subject_type or None,
        date_from=date_from,
        date_to=date_to,
        timezone=settings.timezone,
    )
    rows, total = audit_view.list_audit_rows(
        session, actor=user, flt=flt, offset=offset, limit=limit, lang=lang
    )
    items = [
        AuditEventRead(
            id=r.entry.id,
            at=r.entry.at,
            user_id=r.entry.actor_id,
            username=r.entry.actor_name if r.entry.actor_id is not None else None,
            action=r.entry.action,
            action_label=r.action_label,
            subject_type=r.entry.subject_type,
            subject_id=r.entry.subject_id,
            subject=r.subject,
            link=r.link,
            institution_id=r.entry.institution_id,
            detail=r.entry.detail,
            detail_text=r.detail,
        )
        for r in rows
    ]
    return ListResponse[AuditEventRead](items=items, total=total, offset=offset, limit=limit)
