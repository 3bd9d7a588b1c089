"""JSON routes of the deal pipeline under /api/v1: managers, deals, contracts, open licences.

Each route parses input, calls one service (which checks who may), commits, and answers. A
deal's log, documents and amounts are served only to its parties (others get 404).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from shuanglian.deals import contracts, distribution, managers, open_licences, pipeline
from shuanglian.deals import registration as reg
from shuanglian.deals.models import Contract, Deal, Manager, OpenLicence
from shuanglian.deals.schemas import (
    MAX_DOCUMENT_BYTES,
    ContractIn,
    DealIn,
    DistributionRuleIn,
    ManagerIn,
    OpenLicenceIn,
    PaymentIn,
    PayoutIn,
    ServiceIn,
    TakeLicenceIn,
)
from shuanglian.errors import DomainError
from shuanglian.web.deps import CsrfDep, CurrentUser, DbId, IdPath, SessionDep
from shuanglian.web.schemas import (
    ERROR_RESPONSES,
    FILE_RESPONSES,
    PDF_RESPONSES,
    WORKBOOK_RESPONSES,
    SafeStr,
)

router = APIRouter(tags=["deals"], responses=ERROR_RESPONSES)
Writes = [CsrfDep]


def _manager(m: Manager, record: managers.TrackRecord | None = None) -> dict[str, Any]:
    out = {
        "id": m.id,
        "user_id": m.user_id,
        "name": m.name,
        "organisation": m.organisation,
        "institution_id": m.institution_id,
        "ipc_fields": m.ipc_fields,
        "industry_fields": m.industry_fields,
        "certification_level": m.certification_level,
        "certified_by": m.certified_by,
        "languages": m.languages,
        "active": m.active,
    }
    if record is not None:
        out["track_record"] = {
            "by_stage": record.by_stage,
            "deals": record.deals,
            "open_deals": record.open_deals,
            "contracts": record.contracts,
            "amount_wan": str(record.amount),
            "median_days_to_contract": record.median_days_to_contract,
        }
    return out


def _deal(d: Deal) -> dict[str, Any]:
    return {
        "id": d.id,
        "title": d.title,
        "stage": d.stage,
        "stage_label": pipeline.STAGES[d.stage][0],
        "stage_changed_on": d.stage_changed_on,
        "institution_id": d.institution_id,
        "enterprise_id": d.enterprise_id,
        "manager_id": d.manager_id,
        "source": d.source,
        "push_id": d.push_id,
        "inquiry_id": d.inquiry_id,
        "challenge_id": d.challenge_id,
        "closed_reason": d.closed_reason,
        "closed_note": d.closed_note,
        "pilot_booking_ref": d.pilot_booking_ref,
        "opened_on": d.opened_on,
        "patent_ids": [i.patent_id for i in d.items],
    }


def _contract(c: Contract) -> dict[str, Any]:
    return {
        "id": c.id,
        "number": c.number,
        "deal_id": c.deal_id,
        "open_licence_id": c.open_licence_id,
        "kind": c.kind,
        "subtype": c.subtype,
        "title": c.title,
        "institution_id": c.institution_id,
        "enterprise_id": c.enterprise_id,
        "patent_id": c.patent_id,
        "listing_id": c.listing_id,
        "signed_on": c.signed_on,
        "valid_from": c.valid_from,
        "valid_until": c.valid_until,
        "amount_wan": str(c.amount),
        "technical_income_wan": None if c.technical_income is None else str(c.technical_income),
        "payment_mode": c.payment_mode,
        "royalty_rate": None if c.royalty_rate is None else str(c.royalty_rate),
        "details": c.details,
        "status": c.status,
        "schedule": [{"due_on": s.due_on, "amount_wan": str(s.amount)} for s in c.schedule],
        "payments": [
            {"received_on": p.received_on, "amount_wan": str(p.amount), "reference": p.reference}
            for p in c.payments
        ],
    }


def _open_licence(o: OpenLicence) -> dict[str, Any]:
    return {
        "id": o.id,
        "patent_id": o.patent_id,
        "institution_id": o.institution_id,
        "listing_id": o.listing_id,
        "fee_mode": o.fee_mode,
        "fee_amount_wan": None if o.fee_amount is None else str(o.fee_amount),
        "royalty_rate": None if o.royalty_rate is None else str(o.royalty_rate),
        "payment_method": o.payment_method,
        "term_years": o.term_years,
        "evaluation_report": o.evaluation_report,
        "evaluation_report_ref": o.evaluation_report_ref,
        "status": o.status,
        "declared_on": o.declared_on,
        "withdrawn_on": o.withdrawn_on,
        "terms": open_licences.terms_text(o),
    }


# --------------------------------------------------------------------------- managers


@router.get("/managers", summary="技术经理人 / technology managers")
def list_managers_api(session: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    found = managers.list_managers(session)
    records = managers.track_records(session, manager_ids=[m.id for m in found])
    return [_manager(m, records[m.id]) for m in found]


@router.post("/managers", status_code=201, dependencies=Writes, summary="登记技术经理人")
def create_manager_api(session: SessionDep, user: CurrentUser, body: ManagerIn) -> dict[str, Any]:
    m = managers.save_manager(session, actor=user, data=body)
    return _manager(m)


@router.get("/managers/{manager_id}", summary="技术经理人档案与业绩 / profile and track record")
def get_manager_api(session: SessionDep, user: CurrentUser, manager_id: IdPath) -> dict[str, Any]:
    m = managers.get_manager(session, manager_id=manager_id)
    return _manager(m, managers.track_record(session, manager_id=m.id))


@router.get("/managers/{manager_id}/board", summary="技术经理人看板 / a manager's board")
def board_api(session: SessionDep, user: CurrentUser, manager_id: IdPath) -> dict[str, Any]:
    board = pipeline.manager_board(session, actor=user, manager_id=manager_id)

    def card(c: pipeline.BoardCard) -> dict[str, Any]:
        a = c.next_action
        return {
            **_deal(c.deal),
            "overdue": c.overdue,
            "days_in_stage": c.days_in_stage,
            "next_action": None if a is None else {"title": a.title, "due_on": a.due_on},
        }

    return {
        "manager": _manager(board.manager),
        "overdue": [card(c) for c in board.overdue],
        "columns": [{"stage": s, "deals": [card(c) for c in cards]} for s, cards in board.columns],
    }


# --------------------------------------------------------------------------- deals


@router.get("/deals", summary="我可见的洽谈项目 / deals visible to me")
def list_deals_api(
    session: SessionDep,
    user: CurrentUser,
    stage: Annotated[str | None, Query(max_length=20)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    items, total = pipeline.list_deals(session, actor=user, stage=stage, offset=offset, limit=limit)
    return {"items": [_deal(d) for d in items], "total": total, "offset": offset, "limit": limit}


@router.post("/deals", status_code=201, dependencies=Writes, summary="发起洽谈 / open a deal")
def create_deal_api(session: SessionDep, user: CurrentUser, body: DealIn) -> dict[str, Any]:
    deal = pipeline.create_deal(session, actor=user, data=body)
    return _deal(deal)


@router.get("/deals/{deal_id}", summary="洽谈项目 / one deal with its log")
def get_deal_api(session: SessionDep, user: CurrentUser, deal_id: IdPath) -> dict[str, Any]:
    log = pipeline.timeline(session, actor=user, deal_id=deal_id)
    deal = session.get(Deal, deal_id)
    assert deal is not None
    return {
        **_deal(deal),
        "timeline": [
            {
                "on": a.on,
                "kind": a.kind,
                "actor": a.actor_name,
                "from": a.from_stage,
                "to": a.to_stage,
                "text": a.text,
            }
            for a in log
        ],
        "next_actions": [
            {"id": a.id, "title": a.title, "due_on": a.due_on, "done_on": a.done_on}
            for a in pipeline.next_actions(session, deal_id=deal_id)
        ],
        "services": [
            {
                "id": s.id,
                "kind": s.kind,
                "status": s.status,
                "started_on": s.started_on,
                "finished_on": s.finished_on,
                "details": s.details,
            }
            for s in pipeline.services(session, deal_id=deal_id)
        ],
        "documents": [
            {"id": d.id, "kind": d.kind, "filename": d.filename, "size": d.size}
            for d in pipeline.documents(session, actor=user, deal_id=deal_id)
        ],
        "contracts": [
            _contract(c) for c in contracts.list_contracts(session, actor=user, deal_id=deal_id)
        ],
    }


class MoveIn(BaseModel):
    action: SafeStr = Field(max_length=40)
    on: date | None = None
    note: SafeStr | None = Field(default=None, max_length=5000)
    reason: SafeStr | None = Field(default=None, max_length=30)
    pilot_booking_ref: SafeStr | None = Field(default=None, max_length=100)


@router.post("/deals/{deal_id}/transitions", dependencies=Writes, summary="推进阶段 / move")
def move_deal_api(
    session: SessionDep, user: CurrentUser, deal_id: IdPath, body: MoveIn
) -> dict[str, Any]:
    deal = pipeline.move_deal(session, actor=user, deal_id=deal_id, **body.model_dump())
    return _deal(deal)


class AssignIn(BaseModel):
    manager_id: DbId | None


@router.post("/deals/{deal_id}/manager", dependencies=Writes, summary="指派技术经理人")
def assign_api(
    session: SessionDep, user: CurrentUser, deal_id: IdPath, body: AssignIn
) -> dict[str, Any]:
    deal = pipeline.assign_manager(session, actor=user, deal_id=deal_id, manager_id=body.manager_id)
    return _deal(deal)


@router.get("/deals/{deal_id}/manager-suggestions", summary="推荐技术经理人（附理由）")
def suggestions_api(session: SessionDep, user: CurrentUser, deal_id: IdPath) -> list[Any]:
    return [
        {
            "manager": _manager(s.manager),
            "score": s.score,
            "field_score": s.field_score,
            "open_deals": s.open_deals,
            "reasons": s.reasons,
        }
        for s in managers.suggest_managers(session, actor=user, deal_id=deal_id)
    ]


class ActivityIn(BaseModel):
    kind: SafeStr = Field(max_length=20)
    text: SafeStr = Field(max_length=5000)
    on: date | None = None


@router.post("/deals/{deal_id}/activities", status_code=201, dependencies=Writes)
def activity_api(
    session: SessionDep, user: CurrentUser, deal_id: IdPath, body: ActivityIn
) -> dict[str, Any]:
    row = pipeline.add_activity(session, actor=user, deal_id=deal_id, **body.model_dump())
    return {"id": row.id, "on": row.on, "kind": row.kind, "text": row.text}


class NextActionIn(BaseModel):
    title: SafeStr = Field(max_length=300)
    due_on: date
    assignee_id: DbId | None = None


@router.post("/deals/{deal_id}/next-actions", status_code=201, dependencies=Writes)
def next_action_api(
    session: SessionDep, user: CurrentUser, deal_id: IdPath, body: NextActionIn
) -> dict[str, Any]:
    row = pipeline.add_next_action(session, actor=user, deal_id=deal_id, **body.model_dump())
    return {"id": row.id, "title": row.title, "due_on": row.due_on}


@router.post("/deals/{deal_id}/next-actions/{action_id}/done", dependencies=Writes)
def next_action_done_api(
    session: SessionDep, user: CurrentUser, deal_id: IdPath, action_id: IdPath
) -> dict[str, Any]:
    row = pipeline.complete_next_action(session, actor=user, deal_id=deal_id, action_id=action_id)
    return {"id": row.id, "done_on": row.done_on}


@router.post("/deals/{deal_id}/services", status_code=201, dependencies=Writes)
def service_api(
    session: SessionDep, user: CurrentUser, deal_id: IdPath, body: ServiceIn
) -> dict[str, Any]:
    row = pipeline.add_service(session, actor=user, deal_id=deal_id, data=body)
    return {"id": row.id, "kind": row.kind, "status": row.status, "details": row.details}


@router.post("/deals/{deal_id}/documents", status_code=201, dependencies=Writes)
def document_api(
    session: SessionDep,
    user: CurrentUser,
    deal_id: IdPath,
    kind: Annotated[str, Form(max_length=30)],
    file: Annotated[UploadFile, File()],
) -> dict[str, Any]:
    content = file.file.read(MAX_DOCUMENT_BYTES + 1)
    doc = pipeline.add_document(
        session,
        actor=user,
        deal_id=deal_id,
        kind=kind,
        filename=file.filename or "",
        content=content,
    )
    return {"id": doc.id, "filename": doc.filename, "size": doc.size, "sha256": doc.sha256}


@router.get(
    "/deals/{deal_id}/documents/{document_id}",
    response_class=Response,
    responses=FILE_RESPONSES,
    summary="下载文件",
)
def document_download_api(
    session: SessionDep, user: CurrentUser, deal_id: IdPath, document_id: IdPath
) -> Response:
    doc = pipeline.get_document(session, actor=user, deal_id=deal_id, document_id=document_id)
    from urllib.parse import quote

    return Response(
        doc.content,
        media_type=doc.content_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.filename)}"},
    )


# --------------------------------------------------------------------------- contracts


@router.get("/contracts", summary="我可见的合同 / contracts visible to me")
def list_contracts_api(
    session: SessionDep,
    user: CurrentUser,
    kind: Annotated[str | None, Query(max_length=20)] = None,
) -> list[dict[str, Any]]:
    return [_contract(c) for c in contracts.list_contracts(session, actor=user, kind=kind)]


@router.post("/contracts", status_code=201, dependencies=Writes, summary="录入合同")
def create_contract_api(session: SessionDep, user: CurrentUser, body: ContractIn) -> dict[str, Any]:
    c = contracts.create_contract(session, actor=user, data=body)
    return _contract(c)


def _registration_ids(ids: str | None) -> list[int] | None:
    if not ids:
        return None
    try:
        return [int(x) for x in ids.split(",") if x.strip()]
    except ValueError:
        raise DomainError("ids 须为逗号分隔的数字 (comma-separated ids)", field="ids") from None


IdsQuery = Annotated[str | None, Query(max_length=2000, description="1,2,3; all when omitted")]


@router.get("/contracts/registration.json", summary="技术合同登记导出 (JSON)")
def registration_json_api(session: SessionDep, user: CurrentUser, ids: IdsQuery = None) -> Response:
    rows = reg.registration_rows(session, actor=user, contract_ids=_registration_ids(ids))
    return Response(reg.registration_json(rows), media_type="application/json")


@router.get(
    "/contracts/registration.xlsx",
    response_class=Response,
    responses=WORKBOOK_RESPONSES,
    summary="技术合同登记导出 (Excel)",
)
def registration_xlsx_api(session: SessionDep, user: CurrentUser, ids: IdsQuery = None) -> Response:
    rows = reg.registration_rows(session, actor=user, contract_ids=_registration_ids(ids))
    return Response(
        reg.registration_xlsx(rows),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="registration.xlsx"'},
    )


@router.get("/contracts/{contract_id}", summary="合同 / one contract")
def get_contract_api(session: SessionDep, user: CurrentUser, contract_id: IdPath) -> dict[str, Any]:
    return _contract(contracts.get_contract(session, actor=user, contract_id=contract_id))


@router.post("/contracts/{contract_id}/payments", status_code=201, dependencies=Writes)
def payment_api(
    session: SessionDep, user: CurrentUser, contract_id: IdPath, body: PaymentIn
) -> dict[str, Any]:
    p = contracts.add_payment(session, actor=user, contract_id=contract_id, data=body)
    return {"id": p.id, "received_on": p.received_on, "amount_wan": str(p.amount)}


@router.post("/contracts/{contract_id}/payouts", status_code=201, dependencies=Writes)
def payout_api(
    session: SessionDep, user: CurrentUser, contract_id: IdPath, body: PayoutIn
) -> dict[str, Any]:
    p = distribution.add_payout(session, actor=user, contract_id=contract_id, data=body)
    return {"id": p.id, "paid_on": p.paid_on, "amount_wan": str(p.amount)}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@router.get("/contracts/{contract_id}/distribution", summary="收益分配 / income distribution")
def distribution_api(session: SessionDep, user: CurrentUser, contract_id: IdPath) -> dict[str, Any]:
    d = distribution.distribution(session, actor=user, contract_id=contract_id)
    return {
        "rule": {
            "inventor_pct": str(d.rule.inventor_pct),
            "tto_pct": str(d.rule.tto_pct),
            "institution_pct": str(d.rule.institution_pct),
            "inventor_equity_pct": str(d.rule.inventor_equity_pct),
            "is_law_default": d.rule.is_default,
        },
        "payments": [
            {
                "received_on": p.received_on,
                "net_wan": str(p.net),
                "inventors_wan": str(p.inventors),
                "tto_wan": str(p.tto),
                "institution_wan": str(p.institution),
            }
            for p in d.payments
        ],
        "inventors_owed_wan": str(d.inventors_owed),
        "inventors_paid_wan": str(d.inventors_paid),
        "inventors_outstanding_wan": str(d.inventors_outstanding),
        "equity_pct": _money(d.equity_pct),
        "inventors_equity_pct": _money(d.inventors_equity_pct),
        "inventors_registered_capital_wan": _money(d.inventors_registered_capital),
    }


@router.get(
    "/contracts/{contract_id}/licence.pdf",
    response_class=Response,
    responses=PDF_RESPONSES,
    summary="开放许可证 PDF",
)
def licence_pdf_api(session: SessionDep, user: CurrentUser, contract_id: IdPath) -> Response:
    pdf = open_licences.licence_pdf(session, actor=user, contract_id=contract_id)
    return Response(pdf, media_type="application/pdf")


@router.put(
    "/institutions/{institution_id}/distribution-rule",
    dependencies=Writes,
    summary="收益分配规则 / distribution rule",
)
def rule_api(
    session: SessionDep, user: CurrentUser, institution_id: IdPath, body: DistributionRuleIn
) -> dict[str, Any]:
    row = distribution.set_rule(session, actor=user, institution_id=institution_id, data=body)
    return {"institution_id": row.institution_id, "inventor_pct": str(row.inventor_pct)}


# --------------------------------------------------------------------------- open licences


@router.get("/open-licences", summary="开放许可声明（公开）/ open-licence declarations")
def list_open_licences_api(
    session: SessionDep, include_withdrawn: bool = False
) -> list[dict[str, Any]]:
    found = open_licences.list_open_licences(session, in_force_only=not include_withdrawn)
    return [_open_licence(o) for o in found]


@router.post("/open-licences", status_code=201, dependencies=Writes, summary="声明开放许可")
def declare_api(session: SessionDep, user: CurrentUser, body: OpenLicenceIn) -> dict[str, Any]:
    o = open_licences.declare_open_licence(session, actor=user, data=body)
    return _open_licence(o)


@router.get("/open-licences/{licence_id}", summary="开放许可声明")
def get_open_licence_api(session: SessionDep, licence_id: IdPath) -> dict[str, Any]:
    return _open_licence(open_licences.get_open_licence(session, licence_id=licence_id))


@router.post("/open-licences/{licence_id}/take", status_code=201, dependencies=Writes)
def take_api(
    session: SessionDep, user: CurrentUser, licence_id: IdPath, body: TakeLicenceIn
) -> dict[str, Any]:
    c = open_licences.take_open_licence(session, actor=user, licence_id=licence_id, data=body)
    return _contract(c)


class WithdrawIn(BaseModel):
    note: SafeStr | None = Field(default=None, max_length=2000)


@router.post("/open-licences/{licence_id}/withdraw", dependencies=Writes)
def withdraw_api(
    session: SessionDep, user: CurrentUser, licence_id: IdPath, body: WithdrawIn
) -> dict[str, Any]:
    o = open_licences.withdraw_open_licence(
        session, actor=user, licence_id=licence_id, note=body.note
    )
    return _open_licence(o)
