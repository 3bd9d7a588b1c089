"""HTML pages of the deal pipeline: a manager's board, deal lists for institutions and
enterprises, a deal's page with its timeline, "start a deal" (prefilled from a push with
intent or an inquiry), the managers' registry and the open-licence notices.

Handlers read the form, call one service and redirect (the request commits); a refused step
comes back as the service's sentence on the same page.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from shuanglian.accounts.permissions import require_login
from shuanglian.deals import (
    access,
    contract_pages,
    contracts,
    licence_pages,
    lookup,
    manager_pages,
    managers,
    open_licences,
    pipeline,
    schemas,
)
from shuanglian.deals.formkit import error_map, page_context, read_form
from shuanglian.deals.models import Deal
from shuanglian.deals.schemas import MAX_DOCUMENT_BYTES, SERVICE_DETAILS, SERVICE_KINDS
from shuanglian.errors import DomainError, PermissionDenied
from shuanglian.pilots.service import deal_pilot_panel
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, IdQuery, SessionDep
from shuanglian.web.forms import FormDep, form_text
from shuanglian.web.templating import render
from shuanglian.workflow import available_actions

router = APIRouter(include_in_schema=False)
# The "new" and list routes of these come before `/open-licences/{id}` and the like.
router.include_router(contract_pages.router)
router.include_router(licence_pages.router)
router.include_router(manager_pages.router)


def _helpers() -> dict[str, Any]:
    return page_context()


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
    challenge_id: IdQuery = None,
    application_id: IdQuery = None,
) -> HTMLResponse:
    form = pipeline.prefill_deal(
        session,
        actor=user,
        push_id=push_id,
        inquiry_id=inquiry_id,
        listing_id=listing_id,
        challenge_id=challenge_id,
        application_id=application_id,
    )
    values = {k: ("" if v is None else str(v)) for k, v in form.items() if k != "patent_ids"}
    values["institution_id"] = lookup.label_for(session, "institution", form["institution_id"])
    values["enterprise_id"] = lookup.label_for(session, "enterprise", form.get("enterprise_id"))
    patents = [lookup.label_for(session, "patent", p) for p in form.get("patent_ids") or []]
    return _new_form(request, session, values, patents, {})


def _new_form(
    request: Request,
    session: Any,
    values: dict[str, str],
    patents: list[str],
    errors: dict[str, str],
    choices: dict[str, list[lookup.Choice]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The "start a deal" form: pickers for institution, enterprise and patents."""
    choices = dict(choices or {})
    if "patent_ids" not in choices:
        # Without JavaScript the patent list offers the institution's patents to pick from.
        try:
            inst = lookup.resolve_institution(
                session, values.get("institution_id", ""), field="institution_id"
            )
        except DomainError:
            inst = None
        if inst is not None:
            choices["patent_ids"] = lookup.search_patents(
                session, q="", institution_id=inst, limit=50
            )
    return render(
        request,
        "deals/new.html",
        {
            "form": values,
            "patents": patents + [""] * max(1, 3 - len(patents)),
            "errors": errors,
            "choices": choices,
            **_helpers(),
        },
        status_code=status_code,
    )


NEW_DEAL_FIELDS = ("title", "institution_id", "enterprise_id", "patent_ids", "listing_id")


@router.post("/deals", response_class=HTMLResponse, dependencies=[CsrfDep])
def create_deal_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    raw = read_form(form)
    entries = [form_text({"v": v}, "v").strip() for v in form.getlist("patent_ids")]
    entries = [e for e in entries if e]
    data: dict[str, Any] = {
        "title": raw.get("title", ""),
        "source": raw.get("source") or "manual",
        "note": raw.get("note") or None,
    }
    for key in ("listing_id", "push_id", "inquiry_id", "challenge_id"):
        data[key] = _int_or_none(raw.get(key, ""))
    try:
        inst = lookup.resolve_institution(
            session, raw.get("institution_id", ""), field="institution_id"
        )
        ent = lookup.resolve_enterprise(
            session, raw.get("enterprise_id", ""), field="enterprise_id"
        )
        if inst is None or ent is None:
            field = "institution_id" if inst is None else "enterprise_id"
            raise DomainError("请选择机构和企业 (institution and enterprise required)", field=field)
        patent_ids: list[int] = []
        for entry in entries:
            # Old forms and scripts send "12,13"; pickers send one "number title (#id)" each.
            ids = entry.split(",")
            parts = ids if all(p.strip().isdigit() for p in ids) else [entry]
            for part in parts:
                found = lookup.resolve_patent(
                    session, part, field="patent_ids", institution_id=inst
                )
                if found is not None:
                    patent_ids.append(found)
        data.update(institution_id=inst, enterprise_id=ent, patent_ids=patent_ids)
        deal = pipeline.create_deal(session, actor=user, data=data)
    except DomainError as exc:
        session.rollback()
        if isinstance(exc, PermissionDenied) or exc.status == 404:
            raise
        choices = {exc.field or "": exc.choices} if isinstance(exc, lookup.Ambiguous) else {}
        errors = error_map(exc, NEW_DEAL_FIELDS)
        return _new_form(request, session, raw, entries, errors, choices, status_code=422)
    return RedirectResponse(f"/deals/{deal.id}", status_code=303)


def _int_or_none(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) < 13 else None


def _deal_page(
    request: Request,
    session: Any,
    user: Any,
    deal_id: int,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    log = pipeline.timeline(session, actor=user, deal_id=deal_id)
    deal = session.get(Deal, deal_id)
    actions = available_actions(session, machine=pipeline.DEAL_MACHINE, obj=deal, actor=user)
    try:
        access.may_work(session, user, deal)
        may_work = True
    except PermissionDenied:
        may_work = False
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
            "may_work": may_work,
            "next_actions": pipeline.next_actions(session, deal_id=deal_id),
            "services": pipeline.services(session, deal_id=deal_id),
            "service_fields": SERVICE_FIELDS,
            "documents": pipeline.documents(session, actor=user, deal_id=deal_id),
            "max_document_bytes": MAX_DOCUMENT_BYTES,
            "document_types": " ".join(schemas.DOCUMENT_TYPES),
            "contracts": deal_contracts,
            "suggestions": suggestions,
            "pilot": deal_pilot_panel(session, actor=user, deal_id=deal_id, stage=deal.stage),
            "errors": errors or {},
            "open_forms": {key.partition(".")[0] for key in errors or {}},
            "form": form or {},
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


# Each service kind's own fields on the deal page: (name, zh, en, input type, required).
SERVICE_FIELDS: dict[str, list[tuple[str, str, str, str, bool]]] = {
    "valuation": [
        ("method", "评估方法", "Method", "text", True),
        ("amount", "评估值（万元）", "Value (10k CNY)", "decimal", True),
        ("appraiser", "评估机构", "Appraiser", "text", False),
        ("report_ref", "报告文号", "Report ref", "text", False),
    ],
    "company": [
        ("name", "公司名称", "Company name", "text", True),
        ("registered_capital", "注册资本（万元）", "Registered capital (10k CNY)", "decimal", True),
        ("credit_code", "统一社会信用代码（登记后）", "Credit code (once set up)", "text", False),
    ],
    "financing": [
        ("investor", "投资方", "Investor", "text", True),
        ("amount", "金额（万元）", "Amount (10k CNY)", "decimal", True),
        ("instrument", "方式（股权/可转债/贷款）", "Instrument (equity, loan…)", "text", True),
        ("round_name", "轮次", "Round", "text", False),
        ("on", "日期", "Date", "date", True),
    ],
    "pilot": [
        ("platform", "中试平台", "Pilot platform", "text", True),
        ("booking_ref", "预约编号", "Booking ref", "text", True),
    ],
    "subsidy": [
        ("programme", "项目/政策名称", "Programme", "text", True),
        ("authority", "主管部门", "Authority", "text", False),
        ("amount", "申报金额（万元）", "Amount (10k CNY)", "decimal", False),
    ],
}
SERVICE_COMMON = ("status", "started_on", "finished_on")
assert set(SERVICE_FIELDS) == set(SERVICE_KINDS) == set(SERVICE_DETAILS)


def _prefixed(raw: dict[str, str], prefix: str) -> dict[str, str]:
    return {k.removeprefix(prefix): v.strip() for k, v in raw.items() if k.startswith(prefix)}


def _deal_form_post(
    request: Request,
    form: FormData,
    session: Any,
    user: Any,
    deal_id: int,
    prefix: str,
    fields: Any,
    call: Any,
) -> Response:
    """Run one of the deal page's namespaced forms (inputs named `prefix + field`)."""
    raw = read_form(form)
    try:
        call(_prefixed(raw, prefix))
    except DomainError as exc:
        session.rollback()
        if isinstance(exc, PermissionDenied) or exc.status == 404:
            raise
        return _deal_page(
            request,
            session,
            user,
            deal_id,
            errors=error_map(exc, fields, prefix=prefix),
            form=raw,
            status_code=422,
        )
    return RedirectResponse(f"/deals/{deal_id}", status_code=303)


@router.post("/deals/{deal_id}/services", response_class=HTMLResponse, dependencies=[CsrfDep])
def service_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, deal_id: IdPath
) -> Response:
    kind = form_text(form, "kind")
    if kind not in SERVICE_KINDS:
        raise DomainError("服务类型无效 (invalid service kind)", field="kind")
    names = [f[0] for f in SERVICE_FIELDS[kind]]

    def run(values: dict[str, str]) -> None:
        data: dict[str, Any] = {"kind": kind, "status": values.get("status") or "in_progress"}
        for key in ("started_on", "finished_on"):
            if values.get(key):
                data[key] = values[key]
        data["details"] = {n: values[n] for n in names if values.get(n)}
        pipeline.add_service(session, actor=user, deal_id=deal_id, data=data)

    return _deal_form_post(
        request, form, session, user, deal_id, f"svc-{kind}.", (*SERVICE_COMMON, *names), run
    )


@router.post(
    "/deals/{deal_id}/services/{service_id}", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def service_update_submit(
    request: Request,
    form: FormDep,
    session: SessionDep,
    user: CurrentUser,
    deal_id: IdPath,
    service_id: IdPath,
) -> Response:
    def run(values: dict[str, str]) -> None:
        pipeline.update_service_status(
            session,
            actor=user,
            deal_id=deal_id,
            service_id=service_id,
            status=values.get("status", ""),
            finished_on=_date(values.get("finished_on", ""), "finished_on"),
            details={"credit_code": values["credit_code"]} if values.get("credit_code") else None,
        )

    fields = ("status", "finished_on", "credit_code")
    return _deal_form_post(
        request, form, session, user, deal_id, f"svcu-{service_id}.", fields, run
    )


@router.post(
    "/deals/{deal_id}/documents/upload", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def document_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, deal_id: IdPath
) -> Response:
    """Upload a file to the deal (the path ends in /upload: the larger upload limit applies)."""
    upload = form.get("doc.file")
    content = b""
    filename = ""
    if upload is not None and not isinstance(upload, str):
        content = upload.file.read(MAX_DOCUMENT_BYTES + 1)
        filename = upload.filename or ""
    kind = form_text(form, "doc.kind")
    try:
        pipeline.add_document(
            session, actor=user, deal_id=deal_id, kind=kind, filename=filename, content=content
        )
    except DomainError as exc:
        session.rollback()
        if isinstance(exc, PermissionDenied) or exc.status == 404:
            raise
        errors = error_map(exc, ("kind", "file"), prefix="doc.")
        values = {"doc.kind": kind}
        return _deal_page(
            request, session, user, deal_id, errors=errors, form=values, status_code=422
        )
    return RedirectResponse(f"/deals/{deal_id}#documents", status_code=303)


@router.get("/deals/lookup/{what}")
def lookup_json(
    session: SessionDep,
    user: CurrentUser,
    what: Annotated[str, Path(pattern="^(institutions|enterprises|patents)$")],
    q: Annotated[str, Query(max_length=100)] = "",
    institution_id: IdQuery = None,
) -> JSONResponse:
    """Picker options for the deal forms: `[{"id", "label"}]`, at most ten (signed-in users)."""
    require_login(user)
    if what == "institutions":
        found = lookup.search_institutions(session, q=q)
    elif what == "enterprises":
        found = lookup.search_enterprises(session, q=q)
    else:
        found = lookup.search_patents(session, q=q, institution_id=institution_id)
    return JSONResponse([{"id": c.id, "label": c.label} for c in found])


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
