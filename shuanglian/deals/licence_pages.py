"""HTML pages for open licences (开放许可): an institution declares a patent open for licence,
an enterprise takes the licence by written notice and payment (and downloads the licence PDF
from the contract page), the institution withdraws the declaration.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shuanglian.accounts.permissions import (
    ADMIN,
    ENTERPRISE_USER,
    INSTITUTION_STAFF,
    require_login,
    require_role,
)
from shuanglian.deals import lookup, open_licences
from shuanglian.deals.formkit import blanks_to_none, error_map, page_context, read_form
from shuanglian.errors import DomainError, PermissionDenied
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, SessionDep
from shuanglian.web.forms import FormDep
from shuanglian.web.templating import render

router = APIRouter(include_in_schema=False)

DECLARE_FIELDS = (
    "fee_mode",
    "fee_amount",
    "royalty_rate",
    "payment_method",
    "term_years",
    "evaluation_report_ref",
    "declared_on",
)
TAKE_FIELDS = ("notice", "notice_on", "paid_amount", "payment_reference", "buyer_region_code")


def _refuse_or_show(exc: DomainError) -> None:
    """Permission and "not found" go to the error page; everything else back to the form."""
    if isinstance(exc, PermissionDenied) or exc.status == 404:
        raise exc


def _declare_form(
    request: Request,
    user: Any,
    values: dict[str, str],
    errors: dict[str, str],
    choices: list[lookup.Choice] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    scope = user.institution_id if user.role == INSTITUTION_STAFF else None
    return render(
        request,
        "deals/open_licence_new.html",
        {
            "form": values,
            "errors": errors,
            "choices": choices or [],
            "scope": scope,
            **page_context(),
        },
        status_code=status_code,
    )


@router.get("/open-licences/new", response_class=HTMLResponse)
def declare_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    actor = require_role(user, INSTITUTION_STAFF)
    values = {"fee_mode": "lump_sum", "term_years": "3", "payment_method": "银行转账"}
    return _declare_form(request, actor, values, {})


@router.post("/open-licences", response_class=HTMLResponse, dependencies=[CsrfDep])
def declare_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    actor = require_role(user, INSTITUTION_STAFF)
    values = read_form(form)
    scope = actor.institution_id if actor.role == INSTITUTION_STAFF else None
    try:
        patent_id = lookup.resolve_patent(
            session, values.get("patent_id", ""), field="patent_id", institution_id=scope
        )
        if patent_id is None:
            raise DomainError("请选择专利 (choose a patent)", field="patent_id")
        data: dict[str, Any] = {
            k: v for k, v in blanks_to_none(values, DECLARE_FIELDS).items() if v is not None
        }
        data["patent_id"] = patent_id
        data["evaluation_report"] = values.get("evaluation_report") == "1"
        ol = open_licences.declare_open_licence(session, actor=actor, data=data)
    except DomainError as exc:
        session.rollback()
        _refuse_or_show(exc)
        choices = exc.choices if isinstance(exc, lookup.Ambiguous) else None
        errors = error_map(exc, (*DECLARE_FIELDS, "patent_id"))
        return _declare_form(request, actor, values, errors, choices, 422)
    return RedirectResponse(f"/open-licences/{ol.id}", status_code=303)


def _licence_page(
    request: Request,
    session: Any,
    user: Any,
    licence_id: int,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ol = open_licences.get_open_licence(session, licence_id=licence_id)
    role = getattr(user, "role", None)
    owner = role == ADMIN or (
        role == INSTITUTION_STAFF and user.institution_id == ol.institution_id
    )
    may_take = ol.status == "in_force" and role in (ENTERPRISE_USER, ADMIN)
    values = form
    if values is None:
        values = {
            "notice": (
                f"本企业依据专利法第五十一条，书面通知{ol.institution.name}："
                f"接受专利 {ol.patent.application_number}《{ol.patent.title}》的开放许可声明"
                "所列条件，获得普通实施许可，并已支付许可使用费。"
            ),
            "notice_on": page_context()["today"].isoformat(),
            "paid_amount": f"{ol.fee_amount.normalize():f}" if ol.fee_amount is not None else "",
        }
    return render(
        request,
        "deals/open_licence.html",
        {
            "o": ol,
            "terms": open_licences.terms_text(ol),
            "holders": open_licences.holders_of(session, licence_id=ol.id) if owner else [],
            "owner": owner,
            "may_take": may_take,
            "form": values,
            "errors": errors or {},
            **page_context(),
        },
        status_code=status_code,
    )


@router.get("/open-licences/{licence_id}", response_class=HTMLResponse)
def licence_page(
    request: Request, session: SessionDep, user: CurrentUser, licence_id: IdPath
) -> HTMLResponse:
    return _licence_page(request, session, user, licence_id)


@router.post(
    "/open-licences/{licence_id}/take", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def take_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, licence_id: IdPath
) -> Response:
    actor = require_login(user)
    values = read_form(form)
    try:
        if actor.role == ADMIN:
            enterprise_id = lookup.resolve_enterprise(
                session, values.get("enterprise_id", ""), field="enterprise_id"
            )
        else:
            enterprise_id = actor.enterprise_id
        if enterprise_id is None:
            raise DomainError("请选择企业 (choose an enterprise)", field="enterprise_id")
        data: dict[str, Any] = {
            k: v for k, v in blanks_to_none(values, TAKE_FIELDS).items() if v is not None
        }
        data["enterprise_id"] = enterprise_id
        contract = open_licences.take_open_licence(
            session, actor=actor, licence_id=licence_id, data=data
        )
    except DomainError as exc:
        session.rollback()
        _refuse_or_show(exc)
        # The enterprise picker is shown to admins only; others see such a message on top.
        shown = (*TAKE_FIELDS, "enterprise_id") if actor.role == ADMIN else TAKE_FIELDS
        errors = error_map(exc, shown)
        return _licence_page(
            request, session, actor, licence_id, form=values, errors=errors, status_code=422
        )
    return RedirectResponse(f"/contracts/{contract.id}", status_code=303)


@router.post(
    "/open-licences/{licence_id}/withdraw", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def withdraw_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, licence_id: IdPath
) -> Response:
    values = read_form(form)
    try:
        open_licences.withdraw_open_licence(
            session, actor=user, licence_id=licence_id, note=values.get("withdraw.note") or None
        )
    except DomainError as exc:
        session.rollback()
        _refuse_or_show(exc)
        errors = error_map(exc, ("note",), prefix="withdraw.")
        return _licence_page(request, session, user, licence_id, errors=errors, status_code=422)
    return RedirectResponse(f"/open-licences/{licence_id}", status_code=303)
