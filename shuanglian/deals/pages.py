"""HTML pages of the deal pipeline: a manager's board, deal lists for institutions and
enterprises, a deal's page with its timeline, "start a deal" (prefilled from a push with
intent or an inquiry), the managers' registry and the open-licence notices.

Handlers read the form, call one service, commit and redirect; a refused step comes back as
the service's sentence on the same page.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from shuanglian.accounts.permissions import require_login
from shuanglian.deals import contracts, managers, open_licences, pipeline, schemas
from shuanglian.deals.contracts import format_wan
from shuanglian.deals.models import Deal
from shuanglian.errors import DomainError
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, IdQuery, SessionDep
from shuanglian.web.forms import FormDep, form_text
from shuanglian.web.templating import render
from shuanglian.workflow import available_actions

router = APIRouter(include_in_schema=False)


def _helpers() -> dict[str, Any]:
    return {
        "wan": format_wan,
        "stages": pipeline.STAGES,
        "vocab": schemas,
        "lbl": schemas.label,
        "today": pipeline.today_in_china(),
    }


def _date(raw: str, field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise DomainError("日期格式应为 YYYY-MM-DD (date as YYYY-MM-DD)", field=field) from None


@router.get("/deals/board", response_class=HTMLResponse)
def board_page(
    request: Request, session: SessionDep, user: CurrentUser, manager_id: IdQuery = None
) -> HTMLResponse:
    board = pipeline.manager_board(session, actor=user, manager_id=manager_id)
    record = managers.track_record(session, manager_id=board.manager.id)
    return render(request, "deals/board.html", {"board": board, "record": record, **_helpers()})


@router.get("/deals", response_class=HTMLResponse)
def deals_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    stage: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    items, total = pipeline.list_deals(session, actor=user, stage=stage or None, limit=200)
    return render(
        request,
        "deals/list.html",
        {"items": items, "total": total, "stage": stage or "", **_helpers()},
    )


@router.get("/deals/new", response_class=HTMLResponse)
def new_deal_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    push_id: IdQuery = None,
    inquiry_id: IdQuery = None,
    listing_id: IdQuery = None,
) -> HTMLResponse:
    form = pipeline.prefill_deal(
        session, actor=user, push_id=push_id, inquiry_id=inquiry_id, listing_id=listing_id
    )
    return _new_form(request, form, {})


def _new_form(
    request: Request, form: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    values = {k: ("" if v is None else v) for k, v in form.items()}
    values["patent_ids"] = ",".join(str(p) for p in form.get("patent_ids") or [])
    return render(
        request,
        "deals/new.html",
        {"form": values, "errors": errors, **_helpers()},
        status_code=status_code,
    )


def _int_or_none(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if raw.isdigit() else None


@router.post("/deals", response_class=HTMLResponse, dependencies=[CsrfDep])
def create_deal_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    raw = {k: form_text(form, k) for k in form if k != "csrf_token"}
    data: dict[str, Any] = {
        "title": raw.get("title", ""),
        "source": raw.get("source") or "manual",
        "note": raw.get("note") or None,
        "patent_ids": [int(p) for p in raw.get("patent_ids", "").split(",") if p.strip().isdigit()],
    }
    for key in (
        "institution_id",
        "enterprise_id",
        "listing_id",
        "push_id",
        "inquiry_id",
        "challenge_id",
    ):
        data[key] = _int_or_none(raw.get(key, ""))
    try:
        if data["institution_id"] is None or data["enterprise_id"] is None:
            field = "institution_id" if data["institution_id"] is None else "enterprise_id"
            raise DomainError("请选择机构和企业 (institution and enterprise required)", field=field)
        deal = pipeline.create_deal(session, actor=user, data=data)
    except DomainError as exc:
        session.rollback()
        if exc.field is None:
            raise
        return _new_form(request, {**raw}, {exc.field: exc.message}, status_code=422)
    session.commit()
    return RedirectResponse(f"/deals/{deal.id}", status_code=303)


def _deal_page(
    request: Request,
    session: Any,
    user: Any,
    deal_id: int,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    log = pipeline.timeline(session, actor=user, deal_id=deal_id)
    deal = session.get(Deal, deal_id)
    actions = available_actions(session, machine=pipeline.DEAL_MACHINE, obj=deal, actor=user)
    suggestions = []
    if user.role in ("admin", "institution_staff") and deal.stage in pipeline.OPEN_STAGES:
        suggestions = managers.suggest_managers(session, actor=user, deal_id=deal_id)
    deal_contracts = contracts.list_contracts(session, actor=user, deal_id=deal_id)
    return render(
        request,
        "deals/detail.html",
        {
            "deal": deal,
            "log": log,
            "actions": actions,
            "next_actions": pipeline.next_actions(session, deal_id=deal_id),
            "services": pipeline.services(session, deal_id=deal_id),
            "documents": pipeline.documents(session, actor=user, deal_id=deal_id),
            "contracts": deal_contracts,
            "suggestions": suggestions,
            "errors": errors or {},
            **_helpers(),
        },
        status_code=status_code,
    )


@router.get("/deals/{deal_id}", response_class=HTMLResponse)
def deal_page(
    request: Request, session: SessionDep, user: CurrentUser, deal_id: IdPath
) -> HTMLResponse:
    require_login(user)
    return _deal_page(request, session, user, deal_id)


def _post(
    request: Request, form: FormData, session: Any, user: Any, deal_id: int, fn: Any
) -> Response:
    try:
        fn({k: form_text(form, k) for k in form})
    except DomainError as exc:
        session.rollback()
        if exc.field is None:
            raise
        return _deal_page(
            request, session, user, deal_id, errors={exc.field: exc.message}, status_code=422
        )
    session.commit()
    return RedirectResponse(f"/deals/{deal_id}", status_code=303)


@router.post("/deals/{deal_id}/move", response_class=HTMLResponse, dependencies=[CsrfDep])
def move_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, deal_id: IdPath
) -> Response:
    def run(f: dict[str, str]) -> None:
        pipeline.move_deal(
            session,
            actor=user,
            deal_id=deal_id,
            action=f.get("action", ""),
            on=_date(f.get("on", ""), "on"),
            note=f.get("note") or None,
            reason=f.get("reason") or None,
            pilot_booking_ref=f.get("pilot_booking_ref") or None,
        )

    return _post(request, form, session, user, deal_id, run)


@router.post("/deals/{deal_id}/next-actions", response_class=HTMLResponse, dependencies=[CsrfDep])
def next_action_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, deal_id: IdPath
) -> Response:
    def run(f: dict[str, str]) -> None:
        due = _date(f.get("due_on", ""), "due_on")
        if due is None:
            raise DomainError("请填写截止日期 (due date required)", field="due_on")
        pipeline.add_next_action(
            session, actor=user, deal_id=deal_id, title=f.get("title", ""), due_on=due
        )

    return _post(request, form, session, user, deal_id, run)


@router.post(
    "/deals/{deal_id}/next-actions/{action_id}/done",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def next_action_done_submit(
    request: Request,
    form: FormDep,
    session: SessionDep,
    user: CurrentUser,
    deal_id: IdPath,
    action_id: IdPath,
) -> Response:
    return _post(
        request,
        form,
        session,
        user,
        deal_id,
        lambda f: pipeline.complete_next_action(
            session, actor=user, deal_id=deal_id, action_id=action_id
        ),
    )


@router.post("/deals/{deal_id}/activities", response_class=HTMLResponse, dependencies=[CsrfDep])
def activity_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, deal_id: IdPath
) -> Response:
    return _post(
        request,
        form,
        session,
        user,
        deal_id,
        lambda f: pipeline.add_activity(
            session,
            actor=user,
            deal_id=deal_id,
            kind=f.get("kind", "note"),
            text=f.get("text", ""),
        ),
    )


@router.post("/deals/{deal_id}/manager", response_class=HTMLResponse, dependencies=[CsrfDep])
def assign_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, deal_id: IdPath
) -> Response:
    return _post(
        request,
        form,
        session,
        user,
        deal_id,
        lambda f: pipeline.assign_manager(
            session, actor=user, deal_id=deal_id, manager_id=_int_or_none(f.get("manager_id", ""))
        ),
    )


@router.get("/managers", response_class=HTMLResponse)
def managers_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    found = managers.list_managers(session)
    records = managers.track_records(session, manager_ids=[m.id for m in found])
    return render(
        request, "deals/managers.html", {"items": found, "records": records, **_helpers()}
    )


@router.get("/open-licences", response_class=HTMLResponse)
def open_licences_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    found = open_licences.list_open_licences(session, in_force_only=False)
    return render(
        request,
        "deals/open_licences.html",
        {"items": found, "terms": open_licences.terms_text, **_helpers()},
    )
