"""HTML pages of pilot platforms: the public list (filters, ranked by province), a platform
with its booking form, the manager's own platform with its bookings, and one booking."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as FormFile

from shuanglian.accounts import permissions as perm
from shuanglian.attachments import MAX_ATTACHMENT_BYTES
from shuanglian.challenges.api import file_response
from shuanglian.errors import DomainError, NotFound
from shuanglian.pilots import service
from shuanglian.pilots.importers import import_pilots
from shuanglian.pilots.models import LEVELS, SERVICES
from shuanglian.web.deps import (
    CsrfDep,
    CurrentUser,
    IdPath,
    IdQuery,
    PageDep,
    SessionDep,
    SettingsDep,
)
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
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    platform_id: IdPath,
    challenge_id: IdQuery = None,
    listing_id: IdQuery = None,
    deal_id: IdQuery = None,
) -> HTMLResponse:
    """A platform; `challenge_id`, `listing_id` or `deal_id` (from a suggestion's "book"
    link) prefill the booking form with what the booking will serve."""
    p = service.get_platform(session, platform_id=platform_id)
    rating = service.platform_rating(session, platform_id=p.id)
    manages = user is not None and (
        user.role == perm.ADMIN or service.managed_platform_id(session, user) == p.id
    )
    form = {
        k: str(v)
        for k, v in (
            ("challenge_id", challenge_id),
            ("listing_id", listing_id),
            ("deal_id", deal_id),
        )
        if v is not None
    }
    return render(
        request,
        "pilots/detail.html",
        _ctx(
            p=p,
            rating=rating,
            manages=manages,
            form=form,
            errors={},
            today=date.today().isoformat(),
        ),
    )


def _opt_id(form: FormData, name: str) -> int | None:
    raw = form_text(form, name).strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise DomainError(f"编号须为正整数 ({name} must be a whole number)", field=name)
    return int(raw)


@router.post("/pilots/{platform_id:int}/book", response_class=HTMLResponse, dependencies=[CsrfDep])
def book_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, platform_id: IdPath
) -> Response:
    p = service.get_platform(session, platform_id=platform_id)
    try:
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
                challenge_id=_opt_id(form, "challenge_id"),
                listing_id=_opt_id(form, "listing_id"),
                deal_id=_opt_id(form, "deal_id"),
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
        form = _platform_values(p)
    return render(
        request,
        "pilots/mine.html",
        _ctx(p=p, bookings=bookings, actions=actions, form=form, errors=errors),
        status_code=status_code,
    )


def _platform_values(p: Any) -> dict[str, Any]:
    """A stored platform as the form's values."""
    return {
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


def _form_echo(form: FormData) -> dict[str, Any]:
    echo: dict[str, Any] = {k: form_text(form, k) for k in form}
    echo["services"] = [s for s in form.getlist("services") if isinstance(s, str)]
    return echo


def _editor(
    request: Request,
    p: Any,
    form: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    """The admin's form for a new platform (`p` None) or an existing one."""
    action = f"/pilots/{p.id}/edit" if p is not None else "/pilots/new"
    return render(
        request,
        "pilots/edit.html",
        _ctx(p=p, form=form, errors=errors, form_action=action, back="edit" if p else None),
        status_code=status_code,
    )


@router.get("/pilots/new", response_class=HTMLResponse)
def new_platform_page(request: Request, user: CurrentUser) -> HTMLResponse:
    perm.require_role(user, perm.ADMIN)
    return _editor(
        request,
        None,
        {"level": "provincial", "services": ["pilot"], "capacity": "1", "open_booking": "on"},
        {},
    )


@router.post("/pilots/new", response_class=HTMLResponse, dependencies=[CsrfDep])
def new_platform_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    perm.require_role(user, perm.ADMIN)
    try:
        p = service.create_platform(session, actor=user, data=_platform_input(form))
    except DomainError as exc:
        session.rollback()
        if exc.status in (401, 403):
            raise
        return _editor(
            request, None, _form_echo(form), {exc.field or "name": exc.message}, status_code=422
        )
    return RedirectResponse(f"/pilots/{p.id}", status_code=303)


@router.get("/pilots/{platform_id:int}/edit", response_class=HTMLResponse)
def edit_platform_page(
    request: Request, session: SessionDep, user: CurrentUser, platform_id: IdPath
) -> HTMLResponse:
    service.require_platform_manager(session, user, platform_id)
    p = service.get_platform(session, platform_id=platform_id)
    return _editor(request, p, _platform_values(p), {})


@router.get("/admin/pilots", response_class=HTMLResponse)
def admin_pilots_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    perm.require_role(user, perm.ADMIN)
    return _admin(request, session, page, q=q or "", errors={})


def _admin(
    request: Request,
    session: Any,
    page: Any,
    *,
    q: str,
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    result = service.search_platforms(session, q=q or None, offset=page.offset, limit=page.per_page)
    return render(
        request,
        "pilots/admin.html",
        _ctx(items=result.items, q=q, errors=errors, **page.context(result.total)),
        status_code=status_code,
    )


@router.post("/admin/pilots/upload", response_class=HTMLResponse, dependencies=[CsrfDep])
def admin_pilots_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    page: PageDep,
    file: Annotated[UploadFile | None, File()] = None,
    dry_run: Annotated[bool, Form()] = False,
) -> Response:
    """The pilots spreadsheet: good rows saved (or only checked), bad rows reported by row."""
    from shuanglian.web.imports import finish_import, render_import_result
    from shuanglian.web.uploads import WORKBOOK_SUFFIXES, received_file

    admin = perm.require_role(user, perm.ADMIN)
    try:
        with received_file(file, settings=settings, allowed=WORKBOOK_SUFFIXES) as path:
            report = import_pilots(session, path=path, actor=admin, dry_run=dry_run)
            filename = path.name
    except DomainError as exc:
        session.rollback()
        status = exc.status if exc.status != 400 else 422
        return _admin(
            request, session, page, q="", errors={"file": exc.message}, status_code=status
        )
    finish_import(session, report)
    return render_import_result(
        request,
        settings=settings,
        user_id=admin.id,
        report=report,
        title=("导入中试平台结果", "Pilot platform import"),
        filename=filename,
        back="/admin/pilots",
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
        echo = _form_echo(form)
        if form_text(form, "back") == "edit":
            p = service.get_platform(session, platform_id=platform_id)
            errors = {exc.field or "name": exc.message}
            return _editor(request, p, echo, errors, status_code=422)
        return _mine(
            request,
            session,
            user,
            platform_id,
            form=echo,
            errors={exc.field or "name": exc.message},
            status_code=422,
        )
    return RedirectResponse(f"/pilots/{platform_id}", status_code=303)


@router.get("/pilots/bookings/{booking_id:int}", response_class=HTMLResponse)
def booking_page(
    request: Request, session: SessionDep, user: CurrentUser, booking_id: IdPath
) -> HTMLResponse:
    return _booking(request, session, user, booking_id)


def _booking(
    request: Request,
    session: Any,
    user: Any,
    booking_id: int,
    *,
    errors: dict[str, str] | None = None,
    echo: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    b = service.get_booking(session, actor=user, booking_id=booking_id)
    actions = available_actions(session, machine=service.BOOKING_MACHINE, obj=b, actor=user)
    manages = user is not None and (
        user.role == perm.ADMIN or service.managed_platform_id(session, user) == b.platform_id
    )
    return render(
        request,
        "pilots/booking.html",
        _ctx(
            b=b,
            actions=actions,
            requester=user is not None and user.id == b.requester_id,
            manages=manages,
            documents=service.booking_documents(session, actor=user, booking_id=b.id),
            deal_id=service.deal_id_of(b),
            errors=errors or {},
            echo=echo or {},
            max_mib=MAX_ATTACHMENT_BYTES // (1024 * 1024),
        ),
        status_code=status_code,
    )


def _uploads(form: FormData) -> list[tuple[str, bytes]]:
    """The form's chosen files as (name, bytes), each read to one byte past the limit so the
    service can refuse an over-large one (a synchronous read: handlers run in the thread pool)."""
    out = []
    for item in form.getlist("file"):
        if isinstance(item, FormFile) and item.filename:
            out.append((item.filename, item.file.read(MAX_ATTACHMENT_BYTES + 1)))
    return out


@router.post(
    "/pilots/bookings/{booking_id:int}/complete/upload",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def booking_complete_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, booking_id: IdPath
) -> Response:
    """Complete a booking with its outcome report and documents, in one step."""
    try:
        service.act_on_booking(
            session,
            actor=user,
            booking_id=booking_id,
            action="complete",
            report=form_text(form, "report") or None,
            documents=_uploads(form),
        )
    except DomainError as exc:
        session.rollback()
        if exc.status in (401, 403, 404):
            raise
        return _booking(
            request,
            session,
            user,
            booking_id,
            errors={exc.field or "report": exc.message},
            echo={"report": form_text(form, "report")},
            status_code=422,
        )
    return RedirectResponse(f"/pilots/bookings/{booking_id}", status_code=303)


@router.post(
    "/pilots/bookings/{booking_id:int}/files/upload",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def booking_file_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, booking_id: IdPath
) -> Response:
    """The platform adds outcome documents to a scheduled or completed booking."""
    try:
        files = _uploads(form)
        if not files:
            raise DomainError("请选择要上传的文件 (choose a file to upload)", field="file")
        for filename, data in files:
            service.attach_booking_document(
                session, actor=user, booking_id=booking_id, filename=filename, data=data
            )
    except DomainError as exc:
        session.rollback()
        if exc.status in (401, 403, 404):
            raise
        return _booking(
            request, session, user, booking_id, errors={"file": exc.message}, status_code=422
        )
    return RedirectResponse(f"/pilots/bookings/{booking_id}#documents", status_code=303)


@router.get("/pilots/bookings/files/{attachment_id:int}")
def booking_file_download(
    session: SessionDep, user: CurrentUser, attachment_id: IdPath
) -> Response:
    return file_response(
        service.readable_booking_document(session, actor=user, attachment_id=attachment_id)
    )


@router.post("/pilots/bookings/{booking_id:int}/action", dependencies=[CsrfDep])
def booking_action_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, booking_id: IdPath
) -> Response:
    start, end = form_text(form, "start_on"), form_text(form, "end_on")
    try:
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
    except DomainError as exc:
        session.rollback()
        if exc.status in (401, 403, 404) or exc.field is None:
            raise
        # A capacity clash or a missing reason: shown on the booking, next to its buttons.
        return _booking(
            request, session, user, booking_id, errors={exc.field: exc.message}, status_code=422
        )
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
    return RedirectResponse(f"/pilots/bookings/{booking_id}", status_code=303)
