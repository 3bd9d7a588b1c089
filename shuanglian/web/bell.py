"""The notification bell: a count in the header of every page, the list page and its API.

The header's count is read through `notifications.unread_for(user)`, a template global: the
signed-in user object is bound to the request's session, so the count needs no extra
dependency in every route (anonymous pages never query). The page and the API give each
notification's title and body in the request's language (`?lang=`, the cookie), as stored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from shuanglian import notifications
from shuanglian.accounts import permissions as perm
from shuanglian.web.deps import CsrfDep, CurrentUser, DbId, LangDep, PageDep, SessionDep
from shuanglian.web.forms import FormDep
from shuanglian.web.schemas import ERROR_RESPONSES, ListResponse
from shuanglian.web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["notifications"], responses=ERROR_RESPONSES)


class NotificationOut(BaseModel):
    """One notification; `title` and `body` in the request's language (`?lang=en`: English
    where stored, Chinese for messages written before English was stored)."""

    id: int
    kind: str
    title: str
    body: str | None
    link: str | None
    created_at: object
    read: bool


class ReadIn(BaseModel):
    ids: Annotated[list[DbId] | None, Field(max_length=500)] = None


def _out(n: notifications.Notification, lang: str) -> NotificationOut:
    return NotificationOut(
        id=n.id,
        kind=n.kind,
        title=n.title_in(lang),
        body=n.body_in(lang),
        link=n.link,
        created_at=n.created_at,
        read=n.read_at is not None,
    )


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request, session: SessionDep, user: CurrentUser, page: PageDep
) -> HTMLResponse:
    user = perm.require_login(user)
    items, total = notifications.list_notifications(
        session, user_id=user.id, offset=page.offset, limit=page.per_page
    )
    return render(request, "notifications.html", {"items": items, **page.context(total)})


@router.post("/notifications/read", dependencies=[CsrfDep])
def notifications_read(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    user = perm.require_login(user)
    raw = form.get("id")
    ids = [int(raw)] if isinstance(raw, str) and raw.isdigit() else None
    notifications.mark_read(session, user_id=user.id, notification_ids=ids)
    target = form.get("next")
    link = (
        target
        if isinstance(target, str) and target.startswith("/") and not target.startswith("//")
        else "/notifications"
    )
    return RedirectResponse(link, status_code=303)


@api_router.get(
    "/notifications",
    response_model=ListResponse[NotificationOut],
    summary="我的通知 / my notifications",
)
def notifications_api(
    session: SessionDep, user: CurrentUser, page: PageDep, lang: LangDep
) -> ListResponse[NotificationOut]:
    user = perm.require_login(user)
    items, total = notifications.list_notifications(
        session, user_id=user.id, offset=page.offset, limit=page.per_page
    )
    return ListResponse(
        items=[_out(n, lang) for n in items], total=total, offset=page.offset, limit=page.per_page
    )


@api_router.post(
    "/notifications/read", dependencies=[CsrfDep], summary="标为已读 / mark notifications read"
)
def notifications_read_api(session: SessionDep, user: CurrentUser, body: ReadIn) -> dict[str, int]:
    user = perm.require_login(user)
    count = notifications.mark_read(session, user_id=user.id, notification_ids=body.ids)
    return {"marked": count, "unread": notifications.unread_count(session, user_id=user.id)}
