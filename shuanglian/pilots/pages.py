"""HTML pages of pilot platforms: the public list (filters, ranked by province), a platform
with its booking form, the manager's own platform with its bookings, and one booking."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from shuanglian.accounts import permissions as perm
from shuanglian.errors import DomainError, NotFound
from shuanglian.pilots import service
from shuanglian.pilots.models import LEVELS, SERVICES
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, PageDep, SessionDep
from shuanglian.web.forms import FormDep, form_text
from shuanglian.web.templating import render
from shuanglian.workflow import available_actions

router = APIRouter(include_in_schema=False)


def _ctx(**kw: Any) -> dict[str, Any]:
    return {
        "levels": LEVELS,
        "services": SERVICES,
        "booking_states": service.BOOKING_STATES,
        "unfence": service.unfence,
        **kw,
    }


def _date(raw: str, field: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise DomainError(f"日期格式应为 YYYY-MM-DD ({field})", field=field) from None


def _int(raw: str, field: str) -> int:
    if not raw.strip().isdigit():
        raise DomainError(f"须为正整数 ({field} must be a whole number)", field=field)
    return int(raw.strip())


@router.get("/pilots", response_class=HTMLResponse)
def pilots_page(
    request: Request,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    field: Annotated[str | None, Query(max_length=20)] = None,
    province: Annotated[str | None, Query(max_length=50)] = None,
    level: Annotated[str | None, Query(max_length=20)] = None,
    service_: Annotated[str | None, Query(alias="service", max_length=20)] = None,
) -> HTMLResponse:
    params = {
        "q": q or "",
        "field": field or "",
        "province": province or "",
        "level": level if level in LEVELS else "",
        "service": service_ if service_ in SERVICES else "",
    }
    result = service.search_platforms(
        session,
        q=q,
        field=field,
        province=province,
        level=params["level"] or None,
        service=params["service"] or None,
        offset=page.offset,
        limit=page.per_page,
    )
    return render(
        request,
        "pilots/list.html",
        _ctx(
            items=result.items,
            params=params,
            provinces=service.platforms_by_province(session),
            **page.context(result.total),
        ),
    )


@router.get("/pilots/{platform_id:int}", response_class=HTMLResponse)
def platform_page(
    request: Request, session: SessionDep, user: CurrentUser, platform_id: IdPath
) -> HTMLResponse:
    p = service.get_platform(session, platform_id=platform_id)
    rating = service.platform_rating(session, platform_id=p.id)
    manages = user is not None and (
        user.role == perm.ADMIN or service.managed_platform_id(session, user) == p.id
    )
    return render(
        request,
        "pilots/detail.html",
        _ctx(
            p=p, rating=rating, manages=manages, form={}, errors={}, today=date.today().isoformat()
        ),
    )


@router.post("/pilots/{platform_id:int}/book", response_class=HTMLResponse, dependencies=[CsrfDep])
def book_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, platform_id: IdPath
) -> Response:
    p = service.get_platform(session, platform_id=platform_id)
    try:
        challenge = form_text(form, "challenge_id").strip()
        booking = service.request_booking(
            session,
            actor=user,
            platform_id=p.id,
            data=service.BookingInput(
                title=form_text(form, "title"),
                service=form_text(form, "service"),
                quantity=_int(form_text(form, "quantity") or "1", "quantity"),
                start_on=_date(form_text(form, "start_on"), "start_on"),
                end_on=_date(form_text(form, "end_on"), "end_on"),
                description=form_text(form, "description"),
                challenge_id=int(challenge) if challenge.isdigit() else None,
                deal_ref=form_text(form, "deal_ref") or None,
            ),
        )
    except DomainError as exc:
        session.rollback()
        if exc.status in (401, 403):
            raise
        rating = service.platform_rating(session, platform_id=p.id)
        return render(
            request,
            "pilots/detail.html",
            _ctx(
                p=p,
                rating=rating,
                manages=False,
                form={k: form_text(form, k) for k in form},
                errors={exc.field or "title": exc.message},
                today=date.today().isoformat(),
            ),
            status_code=422,
        )
    session.commit()
    return RedirectResponse(f"/pilots/bookings/{booking.id}", status_code=303)


def _platform_input(form: FormData) -> service.PlatformInput:
    return service.PlatformInput(
        name=form_text(form, "name"),
        operator=form_text(form, "operator"),
        level=form_text(form, "level"),
        province=form_text(form, "province"),
        city=form_text(form, "city") or None,
        industries=form_text(form, "industries").replace("，", ",").replace("、", ",").split(","),
        ipc_classes=[
            c
            for c in form_text(form, "ipc_classes").replace("，", ",").replace("、", ",").split(",")
            if c.strip()
        ],
        services=[s for s in form.getlist("services") if isinstance(s, str)],
        equipment=form_text(form, "equipment"),
        capacity=_int(form_text(form, "capacity") or "1", "capacity"),
        fees=form_text(form, "fees"),
        description=form_text(form, "description"),
        contact_name=form_text(form, "contact_name") or None,
        contact_phone=form_text(form, "contact_phone") or None,
        contact_email=form_text(form, "contact_email") or None,
        open_booking=form_text(form, "open_booking") == "on",
    )


@router.get("/pilots/mine", response_class=HTMLResponse)
def my_platform_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    user = perm.require_role(user, perm.PILOT_PLATFORM)
    pid = service.managed_platform_id(session, user)
    if pid is None:
        raise NotFound(
            "您的账号尚未关联中试平台，请联系管理员 (your account is not linked to a platform)"
        )
    return _mine(request, session, user, pid, form=None, errors={})


def _mine(
    request: Request,
    session: Any,
    user: Any,
    pid: int,
    *,
    form: dict[str, Any] | None,
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    p = service.get_platform(session, platform_id=pid)
    bookings = service.list_bookings(session, actor=user, platform_id=p.id)
    actions = {
        b.id: available_actions(session, machine=service.BOOKING_MACHINE, obj=b, actor=user)
        for b in bookings
    }
    if form is None:
        form = {
            "name": p.name,
            "operator": p.operator,
            "level": p.level,
            "province": p.province,
            "city": p.city or "",
            "industries": ",".join(service.unfence(p.industries)),
            "ipc_classes": ",".join(service.unfence(p.ipc_classes)),
            "services": service.unfence(p.services),
            "equipment": p.equipment,
            "capacity": str(p.capacity),
            "fees": p.fees,
            "description": p.description,
            "contact_name": p.contact_name or "",
            "contact_phone": p.contact_phone or "",
            "contact_email": p.contact_email or "",
            "open_booking": "on" if p.open_booking else "",
        }
    return render(
        request,
        "pilots/mine.html",
        _ctx(p=p, bookings=bookings, actions=actions, form=form, errors=errors),
        status_code=status_code,
    )


@router.post("/pilots/{platform_id:int}/edit", response_class=HTMLResponse, dependencies=[CsrfDep])
def edit_platform_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, platform_id: IdPath
) -> Response:
    service.require_platform_manager(session, user, platform_id)
    try:
        service.update_platform(
            session, actor=user, platform_id=platform_id, data=_platform_input(form)
        )
    except DomainError as exc:
        session.rollback()
        echo: dict[str, Any] = {k: form_text(form, k) for k in form}
        echo["services"] = [s for s in form.getlist("services") if isinstance(s, str)]
        return _mine(
            request,
            session,
            user,
            platform_id,
            form=echo,
            errors={exc.field or "name": exc.message},
            status_code=422,
        )
    session.commit()
    return RedirectResponse(f"/pilots/{platform_id}", status_code=303)


@router.get("/pilots/bookings/{booking_id:int}", response_class=HTMLResponse)
def booking_page(
    request: Request, session: SessionDep, user: CurrentUser, booking_id: IdPath
) -> HTMLResponse:
    b = service.get_booking(session, actor=user, booking_id=booking_id)
    actions = available_actions(session, machine=service.BOOKING_MACHINE, obj=b, actor=user)
    return render(
        request,
        "pilots/booking.html",
        _ctx(b=b, actions=actions, requester=user is not None and user.id == b.requester_id),
    )


@router.post("/pilots/bookings/{booking_id:int}/action", dependencies=[CsrfDep])
def booking_action_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, booking_id: IdPath
) -> Response:
    start, end = form_text(form, "start_on"), form_text(form, "end_on")
    service.act_on_booking(
        session,
        actor=user,
        booking_id=booking_id,
        action=form_text(form, "action"),
        reason=form_text(form, "reason") or None,
        report=form_text(form, "report") or None,
        start_on=_date(start, "start_on") if start else None,
        end_on=_date(end, "end_on") if end else None,
    )
    session.commit()
    back = form_text(form, "back")
    return RedirectResponse(
        "/pilots/mine" if back == "mine" else f"/pilots/bookings/{booking_id}", status_code=303
    )


@router.post("/pilots/bookings/{booking_id:int}/rating", dependencies=[CsrfDep])
def booking_rating_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, booking_id: IdPath
) -> Response:
    service.rate_booking(
        session,
        actor=user,
        booking_id=booking_id,
        rating=_int(form_text(form, "rating"), "rating"),
        comment=form_text(form, "comment") or None,
    )
    session.commit()
    return RedirectResponse(f"/pilots/bookings/{booking_id}", status_code=303)
