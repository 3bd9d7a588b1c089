"""HTML pages for a technology manager's profile: the manager keeps their own at /managers/me,
an admin keeps anyone's at /managers/{id}/edit. The track record is not on the form: it is
computed from the manager's deals and contracts (managers.track_records).

Handlers parse the form, call `managers.save_manager` and redirect (the request commits); a
refused form comes back with the message under its field (formkit.error_map).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from shuanglian.accounts.permissions import ADMIN, TECH_MANAGER, require_login
from shuanglian.deals import managers
from shuanglian.deals.formkit import blanks_to_none, error_map, page_context, read_form
from shuanglian.deals.models import Manager
from shuanglian.errors import DomainError, PermissionDenied
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, SessionDep
from shuanglian.web.forms import FormDep
from shuanglian.web.templating import render

router = APIRouter(include_in_schema=False)

TEXT_FIELDS = (
    "name",
    "organisation",
    "certification_level",
    "certified_by",
    "phone",
    "email",
    "bio",
)
LIST_FIELDS = ("ipc_fields", "industry_fields", "languages")
SHOWN = (*TEXT_FIELDS, *LIST_FIELDS)
_SEPARATORS = re.compile(r"[,，、;；\s]+")


def _values_of(manager: Manager) -> dict[str, str]:
    values = {k: getattr(manager, k) or "" for k in TEXT_FIELDS}
    values.update({k: "、".join(getattr(manager, k) or []) for k in LIST_FIELDS})
    return values


def profile_input(values: dict[str, str], user_id: int, institution_id: int | None) -> Any:
    """The service's input from the form: lists typed with commas, 、 or spaces."""
    data: dict[str, Any] = {"user_id": user_id, "institution_id": institution_id}
    data.update({k: v for k, v in blanks_to_none(values, TEXT_FIELDS).items() if v is not None})
    for key in LIST_FIELDS:
        items = [p for p in _SEPARATORS.split(values.get(key, "")) if p]
        if items or key != "languages":
            data[key] = items
    return data


def _form_page(
    request: Request,
    manager: Manager | None,
    action: str,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "deals/manager_form.html",
        {"m": manager, "action": action, "form": values, "errors": errors, **page_context()},
        status_code=status_code,
    )


def _own_profile(session: Any, user: Any) -> tuple[Any, Manager | None]:
    actor = require_login(user)
    if actor.role != TECH_MANAGER:
        raise PermissionDenied(
            "只有技术经理人可以维护个人档案 (only technology managers keep a profile here)"
        )
    return actor, session.scalar(select(Manager).where(Manager.user_id == actor.id))


def _editable(session: Any, user: Any, manager_id: int) -> Manager:
    actor = require_login(user)
    manager = managers.get_manager(session, manager_id=manager_id)
    if actor.role != ADMIN and manager.user_id != actor.id:
        raise PermissionDenied("只能维护自己的档案 (only your own profile)")
    return manager


def _submit(
    request: Request,
    session: Any,
    user: Any,
    values: dict[str, str],
    manager: Manager | None,
    user_id: int,
    institution_id: int | None,
    action: str,
) -> Response:
    try:
        saved = managers.save_manager(
            session,
            actor=user,
            data=profile_input(values, user_id, institution_id),
            manager_id=manager.id if manager is not None else None,
        )
    except DomainError as exc:
        session.rollback()
        if isinstance(exc, PermissionDenied) or exc.status == 404:
            raise
        return _form_page(request, manager, action, values, error_map(exc, SHOWN), 422)
    return RedirectResponse(f"/managers#manager-{saved.id}", status_code=303)


@router.get("/managers/me", response_class=HTMLResponse)
def my_profile_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    actor, manager = _own_profile(session, user)
    if manager is not None:
        values = _values_of(manager)
    else:
        values = {"name": actor.display_name or actor.username, "languages": "zh"}
        values["email"] = actor.email or ""
    return _form_page(request, manager, "/managers/me", values, {})


@router.post("/managers/me", response_class=HTMLResponse, dependencies=[CsrfDep])
def my_profile_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    actor, manager = _own_profile(session, user)
    institution_id = manager.institution_id if manager is not None else actor.institution_id
    values = read_form(form)
    return _submit(
        request, session, actor, values, manager, actor.id, institution_id, "/managers/me"
    )


@router.get("/managers/{manager_id}/edit", response_class=HTMLResponse)
def edit_profile_page(
    request: Request, session: SessionDep, user: CurrentUser, manager_id: IdPath
) -> HTMLResponse:
    manager = _editable(session, user, manager_id)
    return _form_page(request, manager, f"/managers/{manager.id}/edit", _values_of(manager), {})


@router.post("/managers/{manager_id}/edit", response_class=HTMLResponse, dependencies=[CsrfDep])
def edit_profile_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, manager_id: IdPath
) -> Response:
    manager = _editable(session, user, manager_id)
    values = read_form(form)
    action = f"/managers/{manager.id}/edit"
    return _submit(
        request, session, user, values, manager, manager.user_id, manager.institution_id, action
    )
