"""JSON routes for the signed-in user, API tokens and (for admins) users."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from shuanglian.accounts import permissions as perm
from shuanglian.accounts import service
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, SessionDep
from shuanglian.web.schemas import ERROR_RESPONSES, ListResponse

router = APIRouter(tags=["accounts"], responses=ERROR_RESPONSES)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str | None = None
    role: str
    institution_id: int | None = None
    enterprise_id: int | None = None
    college: str | None = None
    is_active: bool


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class TokenIssued(TokenRead):
    token: str = Field(description="shown once; send as `Authorization: Bearer <token>`")


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
    session.commit()
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
    session.commit()


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
