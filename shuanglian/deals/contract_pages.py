"""HTML pages for contracts: record a contract on a deal (the form shows the chosen type's own
fields), a contract's page with its schedule, payments received and income distribution,
the contracts list with what the inventors are owed and paid, and an institution's
distribution rule.

Handlers parse the form, call one service and redirect (the request commits); a refused form
comes back with each message under its field (formkit.error_map).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from shuanglian.accounts.permissions import ADMIN, ENTERPRISE_USER, require_login
from shuanglian.deals import access, contracts, distribution, lookup, open_licences, schemas
from shuanglian.deals.formkit import FORM, blanks_to_none, error_map, page_context, read_form
from shuanglian.errors import DomainError, PermissionDenied
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, SessionDep
from shuanglian.web.forms import FormDep
from shuanglian.web.templating import render

router = APIRouter(include_in_schema=False)

# Kinds a person records on a deal; 开放许可 contracts come from taking an open licence.
ENTERED_KINDS = [k for k in schemas.CONTRACT_KINDS if k != "open_licence"]
SCHEDULE_ROWS = 4
COMMON_FIELDS = (
    "title",
    "subtype",
    "patent_id",
    "signed_on",
    "valid_from",
    "valid_until",
    "amount",
    "technical_income",
    "payment_mode",
    "royalty_rate",
    "royalty_minimum",
    "registration_number",
    "seller_nature",
    "buyer_nature",
    "seller_region_code",
    "buyer_region_code",
    "seller_credit_code",
    "buyer_credit_code",
    "tech_field",
    "ip_type",
    "expected_investment",
    "expected_output",
)
# The fields particular to each type: (name, zh label, en label, input type, required).
DETAIL_FIELDS: dict[str, list[tuple[str, str, str, str, bool]]] = {
    "transfer": [],
    "licence": [
        ("field_of_use", "实施领域", "Field of use", "text", True),
        ("territory", "实施地域", "Territory", "text", True),
    ],
    "equity": [
        ("company_name", "被投资公司名称", "Company", "text", True),
        ("company_credit_code", "公司统一社会信用代码", "Company credit code", "text", False),
        ("valuation", "技术作价（万元）", "Valuation (10k CNY)", "decimal", True),
        ("registered_capital", "出资额（万元）", "Capital contributed (10k CNY)", "decimal", False),
        ("shares", "股数", "Shares", "integer", False),
        ("percentage", "持股比例（%）", "Stake (%)", "decimal", True),
        ("equity_date", "出资日期", "Date of contribution", "date", True),
        ("valuation_report_ref", "评估报告文号", "Valuation report ref", "text", True),
    ],
    "development": [("subject", "开发内容与成果", "Deliverables", "textarea", True)],
    "consulting": [("subject", "咨询事项", "Question", "textarea", True)],
    "service": [("subject", "服务内容", "Service", "textarea", True)],
}
PAYMENT_FIELDS = ("received_on", "amount", "costs", "reference")
PAYOUT_FIELDS = ("paid_on", "amount", "reference")
RULE_FIELDS = ("inventor_pct", "tto_pct", "institution_pct", "inventor_equity_pct", "note")


def _kind(raw: str | None) -> str:
    return raw if raw in ENTERED_KINDS else "transfer"


def _contract_form(
    request: Request,
    session: Any,
    user: Any,
    deal_id: int,
    kind: str,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    deal = access.require_deal_work(session, user, deal_id)
    rows = max(SCHEDULE_ROWS, 1 + max(_row_numbers(values) or [0]))
    return render(
        request,
        "deals/contract_new.html",
        {
            "deal": deal,
            "kind": kind,
            "kinds": ENTERED_KINDS,
            "detail_fields": DETAIL_FIELDS[kind],
            "asks_expected": kind in schemas.ASKS_EXPECTED,
            "form": values,
            "errors": errors,
            "schedule_rows": rows,
            **page_context(),
        },
        status_code=status_code,
    )


def _row_numbers(values: dict[str, str]) -> list[int]:
    found = set()
    for key in values:
        head, _, rest = key.partition("-")
        number = rest.partition("-")[0]
        if head == "schedule" and number.isdigit() and int(number) < 120:
            found.add(int(number))
    return sorted(found)


@router.get("/deals/{deal_id}/contracts/new", response_class=HTMLResponse)
def new_contract_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    deal_id: IdPath,
    kind: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    chosen = _kind(kind)
    deal = access.require_deal_work(session, user, deal_id)
    values = {
        "title": f"{schemas.CONTRACT_KINDS[chosen][0]}：{deal.title}"[:300],
        "signed_on": page_context()["today"].isoformat(),
        "patent_id": str(deal.items[0].patent_id) if deal.items else "",
    }
    return _contract_form(request, session, user, deal_id, chosen, values, {})


def contract_input(values: dict[str, str], kind: str, deal_id: int) -> dict[str, Any]:
    """The service's input from the form: blanks left out (so "required" names them), the
    schedule from its rows, the type's own fields under `details`."""
    data: dict[str, Any] = {"kind": kind, "deal_id": deal_id}
    data.update(blanks_to_none(values, COMMON_FIELDS))
    data["payment_mode"] = data["payment_mode"] or "lump_sum"
    schedule = []
    for n in _row_numbers(values):
        row = blanks_to_none(
            {k: values.get(f"schedule-{n}-{k}", "") for k in ("due_on", "amount", "note")},
            ("due_on", "amount", "note"),
        )
        if row["due_on"] or row["amount"]:
            schedule.append({k: v for k, v in row.items() if v is not None})
    data["schedule"] = schedule
    names = [f[0] for f in DETAIL_FIELDS[kind]]
    details = blanks_to_none({n: values.get(f"details.{n}", "") for n in names}, names)
    data["details"] = {k: v for k, v in details.items() if v is not None}
    return {k: v for k, v in data.items() if v is not None}


@router.post("/deals/{deal_id}/contracts", response_class=HTMLResponse, dependencies=[CsrfDep])
def create_contract_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, deal_id: IdPath
) -> Response:
    values = read_form(form)
    kind = _kind(values.get("kind"))
    try:
        contract = contracts.create_contract(
            session, actor=user, data=contract_input(values, kind, deal_id)
        )
    except DomainError as exc:
        session.rollback()
        if isinstance(exc, PermissionDenied) or exc.status == 404:
            raise
        shown = [*COMMON_FIELDS, "schedule", *(f"details.{f[0]}" for f in DETAIL_FIELDS[kind])]
        errors = error_map(exc, shown)
        return _contract_form(request, session, user, deal_id, kind, values, errors, 422)
    return RedirectResponse(f"/contracts/{contract.id}", status_code=303)


# --------------------------------------------------------------------------- one contract


def _contract_page(
    request: Request,
    session: Any,
    user: Any,
    contract_id: int,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    contract = contracts.get_contract(session, actor=user, contract_id=contract_id)
    dist = distribution.compute_distribution(session, contract)
    role = user.role
    may_record = role != ENTERPRISE_USER
    may_pay_out = role == ADMIN or (
        role == "institution_staff" and user.institution_id == contract.institution_id
    )
    detail_labels = {
        name: (zh, en) for name, zh, en, _t, _r in DETAIL_FIELDS.get(contract.kind, [])
    }
    return render(
        request,
        "deals/contract.html",
        {
            "c": contract,
            "dist": dist,
            "received": contracts.received_total(contract),
            "payouts": distribution.list_payouts(session, contract_id=contract.id),
            "detail_labels": detail_labels,
            "may_record": may_record,
            "may_pay_out": may_pay_out,
            "may_edit": contracts.may_edit_contract(session, user, contract),
            "form": form or {},
            "errors": errors or {},
            **page_context(),
        },
        status_code=status_code,
    )


@router.get("/contracts/{contract_id}", response_class=HTMLResponse)
def contract_page(
    request: Request, session: SessionDep, user: CurrentUser, contract_id: IdPath
) -> HTMLResponse:
    require_login(user)
    return _contract_page(request, session, user, contract_id)


def _contract_post(
    request: Request,
    form: FormData,
    session: Any,
    user: Any,
    contract_id: int,
    prefix: str,
    fields: tuple[str, ...],
    call: Any,
) -> Response:
    raw = read_form(form)
    plain = {k.removeprefix(prefix): v for k, v in raw.items() if k.startswith(prefix)}
    data = {k: v for k, v in blanks_to_none(plain, fields).items() if v is not None}
    try:
        call(data)
    except DomainError as exc:
        session.rollback()
        if isinstance(exc, PermissionDenied) or exc.status == 404:
            raise
        errors = error_map(exc, fields, prefix=prefix)
        return _contract_page(
            request, session, user, contract_id, form=raw, errors=errors, status_code=422
        )
    return RedirectResponse(f"/contracts/{contract_id}", status_code=303)


@router.post(
    "/contracts/{contract_id}/payments", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def payment_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, contract_id: IdPath
) -> Response:
    return _contract_post(
        request,
        form,
        session,
        user,
        contract_id,
        "pay.",
        PAYMENT_FIELDS,
        lambda data: contracts.add_payment(session, actor=user, contract_id=contract_id, data=data),
    )


@router.post(
    "/contracts/{contract_id}/payouts", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def payout_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, contract_id: IdPath
) -> Response:
    return _contract_post(
        request,
        form,
        session,
        user,
        contract_id,
        "out.",
        PAYOUT_FIELDS,
        lambda data: distribution.add_payout(
            session, actor=user, contract_id=contract_id, data=data
        ),
    )


@router.get("/contracts/{contract_id}/licence.pdf")
def licence_pdf_download(session: SessionDep, user: CurrentUser, contract_id: IdPath) -> Response:
    pdf = open_licences.licence_pdf(session, actor=user, contract_id=contract_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="open-licence-{contract_id}.pdf"'},
    )


# --------------------------------------------------------------------------- lists and rules


@router.get("/contracts", response_class=HTMLResponse)
def contracts_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    actor = require_login(user)
    found = contracts.list_contracts(session, actor=actor)
    rows = [
        (c, contracts.received_total(c), distribution.compute_distribution(session, c))
        for c in found
    ]
    rule = None
    if actor.institution_id is not None and actor.role == "institution_staff":
        rule = distribution.rule_for(session, institution_id=actor.institution_id)
    return render(request, "deals/contracts.html", {"rows": rows, "rule": rule, **page_context()})


def _rule_institution(session: Any, user: Any, raw: str | None) -> int:
    actor = require_login(user)
    if actor.role == ADMIN:
        ident = lookup.resolve_institution(session, raw or "", field="institution")
        if ident is None:
            raise DomainError("请选择机构 (choose an institution)", field="institution")
        return ident
    if actor.role != "institution_staff" or actor.institution_id is None:
        raise PermissionDenied("只有机构工作人员可以设置收益分配 (institution staff only)")
    return actor.institution_id


def _rule_page(
    request: Request,
    session: Any,
    user: Any,
    institution_id: int | None,
    values: dict[str, str] | None,
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    rule = None
    if institution_id is not None:
        rule = distribution.rule_for(session, institution_id=institution_id)
        if values is None:
            values = {
                "inventor_pct": f"{rule.inventor_pct.normalize():f}",
                "tto_pct": f"{rule.tto_pct.normalize():f}",
                "institution_pct": f"{rule.institution_pct.normalize():f}",
                "inventor_equity_pct": f"{rule.inventor_equity_pct.normalize():f}",
                "note": distribution.rule_note(session, institution_id=institution_id),
            }
    values = dict(values or {})
    values.setdefault("institution", lookup.label_for(session, "institution", institution_id))
    return render(
        request,
        "deals/distribution_rule.html",
        {
            "rule": rule,
            "form": values,
            "errors": errors,
            "law_floor": distribution.LAW_FLOOR,
            **page_context(),
        },
        status_code=status_code,
    )


@router.get("/distribution-rule", response_class=HTMLResponse)
def rule_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    institution: Annotated[str | None, Query(max_length=300)] = None,
) -> HTMLResponse:
    actor = require_login(user)
    ident: int | None = None
    errors: dict[str, str] = {}
    if actor.role != ADMIN or institution:
        try:
            ident = _rule_institution(session, actor, institution)
        except DomainError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            errors = error_map(exc, ("institution",))
    return _rule_page(request, session, actor, ident, None, errors)


@router.post("/distribution-rule", response_class=HTMLResponse, dependencies=[CsrfDep])
def rule_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    raw = read_form(form)
    ident: int | None = None
    try:
        ident = _rule_institution(session, user, raw.get("institution"))
        data = {k: v for k, v in blanks_to_none(raw, RULE_FIELDS).items() if v is not None}
        distribution.set_rule(session, actor=user, institution_id=ident, data=data)
    except DomainError as exc:
        session.rollback()
        if isinstance(exc, PermissionDenied) or exc.status == 404:
            raise
        errors = error_map(exc, (*RULE_FIELDS, "institution"))
        return _rule_page(request, session, user, ident, raw, errors, 422)
    suffix = f"?institution=%23{ident}" if getattr(user, "role", None) == ADMIN else ""
    return RedirectResponse(f"/distribution-rule{suffix}", status_code=303)


__all__ = ["FORM", "router"]


# --------------------------------------------------------------------------- edit and delete

EDIT_FIELDS = contracts.EDITABLE_FIELDS


def _edit_page(
    request: Request,
    session: Any,
    user: Any,
    contract_id: int,
    values: dict[str, str] | None,
    errors: dict[str, str],
    status_code: int = 200,
    *,
    locked: bool = False,
) -> HTMLResponse:
    contract = contracts.get_contract(session, actor=user, contract_id=contract_id)
    if values is None:
        values = {
            "title": contract.title,
            "amount": f"{contract.amount.normalize():f}",
            "signed_on": contract.signed_on.isoformat(),
            "valid_from": contract.valid_from.isoformat() if contract.valid_from else "",
            "valid_until": contract.valid_until.isoformat() if contract.valid_until else "",
        }
        for n, row in enumerate(contract.schedule):
            values[f"schedule-{n}-due_on"] = row.due_on.isoformat()
            values[f"schedule-{n}-amount"] = f"{row.amount.normalize():f}"
            values[f"schedule-{n}-note"] = row.note or ""
    rows = max(SCHEDULE_ROWS, 1 + max(_row_numbers(values) or [0]))
    return render(
        request,
        "deals/contract_edit.html",
        {
            "c": contract,
            "form": values,
            "errors": errors,
            "schedule_rows": rows,
            "locked": locked,
            **page_context(),
        },
        status_code=status_code,
    )


def _edit_refusal(exc: DomainError) -> None:
    """A refusal that is about the person or the contract, not the input, is not a form error."""
    if isinstance(exc, PermissionDenied) or exc.status == 404:
        raise exc


@router.get("/contracts/{contract_id}/edit", response_class=HTMLResponse)
def edit_contract_page(
    request: Request, session: SessionDep, user: CurrentUser, contract_id: IdPath
) -> HTMLResponse:
    actor = require_login(user)
    errors: dict[str, str] = {}
    contract = contracts.get_contract(session, actor=actor, contract_id=contract_id)
    try:
        contracts._require_contract_edit(session, actor, contract.id)
    except DomainError as exc:
        _edit_refusal(exc)
        errors = error_map(exc, ())
    return _edit_page(request, session, actor, contract_id, None, errors, locked=bool(errors))


@router.post("/contracts/{contract_id}/edit", response_class=HTMLResponse, dependencies=[CsrfDep])
def edit_contract_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, contract_id: IdPath
) -> Response:
    values = read_form(form)
    data = blanks_to_none(values, EDIT_FIELDS)
    data["schedule"] = contract_input(values, "transfer", 0)["schedule"]
    try:
        contracts.update_contract(session, actor=user, contract_id=contract_id, data=data)
    except DomainError as exc:
        session.rollback()
        _edit_refusal(exc)
        errors = error_map(exc, (*EDIT_FIELDS, "schedule"))
        return _edit_page(request, session, user, contract_id, values, errors, 422)
    return RedirectResponse(f"/contracts/{contract_id}", status_code=303)


@router.post("/contracts/{contract_id}/delete", response_class=HTMLResponse, dependencies=[CsrfDep])
def delete_contract_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, contract_id: IdPath
) -> Response:
    contract = contracts.get_contract(session, actor=user, contract_id=contract_id)
    back = f"/deals/{contract.deal_id}" if contract.deal_id else "/contracts"
    try:
        contracts.delete_contract(session, actor=user, contract_id=contract_id)
    except DomainError as exc:
        session.rollback()
        _edit_refusal(exc)
        errors = error_map(exc, ())
        return _edit_page(request, session, user, contract_id, None, errors, 422, locked=True)
    return RedirectResponse(back, status_code=303)
