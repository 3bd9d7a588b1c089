"""Contracts, their payment schedules and the payments received.

A contract is checked against the patent it concerns before it is stored: no licence on a
lapsed patent or beyond its expiry, and no exclusive or sole licence while an open-licence
declaration is in force (Patent Law art. 51: an open licence is available to anyone, which an
exclusive grant would contradict). A listing's public signed count and amount are sums over
these rows.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import ADMIN, INSTITUTION_STAFF, require_login
from shuanglian.audit import record_audit
from shuanglian.deals import access
from shuanglian.deals.models import (
    Contract,
    DealItem,
    InventorPayout,
    OpenLicence,
    Payment,
    ScheduledPayment,
)
from shuanglian.deals.pipeline import _log
from shuanglian.deals.schemas import (
    CONTRACT_KINDS,
    ContractIn,
    PaymentIn,
    parse,
)
from shuanglian.enterprises.models import Enterprise
from shuanglian.errors import DomainError, PermissionDenied
from shuanglian.inventory.pool import is_lapsed
from shuanglian.patents.models import Institution, Patent

PATENT_KINDS = ("transfer", "licence", "open_licence", "equity")
NATURE_OF_INSTITUTION = {"university": "university", "institute": "research_institute"}


def _require_issuer(session: Session, actor: User, institution_id: int) -> None:
    if actor.role == ADMIN:
        return
    if actor.role == INSTITUTION_STAFF and actor.institution_id == institution_id:
        return
    raise PermissionDenied("只能为本机构录入合同 (only your own institution's contracts)")


def check_patent_for(
    session: Session,
    *,
    patent: Patent,
    kind: str,
    subtype: str,
    signed_on: date,
    valid_until: date | None,
) -> None:
    """Refuse a contract the patent's state does not allow (lapsed, expired, open licence)."""
    if is_lapsed(patent.legal_status) or (patent.expiry_date and patent.expiry_date < signed_on):
        raise DomainError(
            f"专利 {patent.application_number} 已失效（{patent.legal_status or '已届满'}），"
            "不能签订该合同 (the patent has lapsed)",
            field="patent_id",
        )
    expiry = patent.expiry_date
    if kind in ("licence", "open_licence") and expiry and valid_until and valid_until > expiry:
        raise DomainError(
            f"许可期限不能超过专利期满日 {expiry.isoformat()} "
            "(licence term beyond the patent's expiry)",
            field="valid_until",
        )
    if kind == "licence" and subtype in ("exclusive", "sole"):
        declared = session.scalar(
            select(OpenLicence.id).where(
                OpenLicence.patent_id == patent.id, OpenLicence.status == "in_force"
            )
        )
        if declared is not None:
            raise DomainError(
                "该专利的开放许可声明正在实施，不能订立独占或排他许可 "
                "(an open-licence declaration is in force: no exclusive or sole licence)",
                field="subtype",
            )


def _new_number(session: Session, contract: Contract) -> str:
    return f"HT{contract.signed_on.year}{contract.id:06d}"


def create_contract(
    session: Session,
    *,
    actor: User | None,
    data: ContractIn | dict[str, Any],
    open_licence_id: int | None = None,
    notice_text: str | None = None,
) -> Contract:
    """Record a signed contract on a deal (or, for an institution, on its own)."""
    actor = require_login(actor)
    data = parse(ContractIn, data)
    if data.kind == "open_licence" and open_licence_id is None:
        raise DomainError(
            "开放许可合同由企业通过“获取开放许可”产生 (open licences are taken, not entered)",
            field="kind",
        )
    deal = None
    if data.deal_id is not None:
        deal = access.require_deal_work(session, actor, data.deal_id)
        institution_id, enterprise_id = deal.institution_id, deal.enterprise_id
        if data.patent_id is not None:
            on_deal = session.scalar(
                select(DealItem.id).where(
                    DealItem.deal_id == deal.id, DealItem.patent_id == data.patent_id
                )
            )
            if on_deal is None:
                raise DomainError(
                    "专利不在本洽谈项目中 (patent not on the deal)", field="patent_id"
                )
    else:
        if data.institution_id is None or data.enterprise_id is None:
            raise DomainError(
                "未关联洽谈项目时须给出机构和企业 (institution_id and enterprise_id required)",
                field="institution_id" if data.institution_id is None else "enterprise_id",
            )
        institution_id, enterprise_id = data.institution_id, data.enterprise_id
        if open_licence_id is None:
            _require_issuer(session, actor, institution_id)
    institution = session.get(Institution, institution_id)
    enterprise = session.get(Enterprise, enterprise_id)
    if institution is None:
        raise DomainError("机构不存在 (institution not found)", field="institution_id")
    if enterprise is None:
        raise DomainError("企业不存在 (enterprise not found)", field="enterprise_id")
    patent = session.get(Patent, data.patent_id) if data.patent_id else None
    if data.patent_id and patent is None:
        raise DomainError("专利不存在 (patent not found)", field="patent_id")
    if data.kind in PATENT_KINDS and data.kind != "equity" and patent is None:
        raise DomainError(
            f"{CONTRACT_KINDS[data.kind][0]}合同须关联专利 (patent_id required)", field="patent_id"
        )
    if patent is not None:
        if patent.institution_id != institution_id:
            raise DomainError(
                "专利不属于卖方机构 (patent of another institution)", field="patent_id"
            )
        if data.kind in PATENT_KINDS:
            check_patent_for(
                session,
                patent=patent,
                kind=data.kind,
                subtype=data.subtype,
                signed_on=data.signed_on,
                valid_until=data.valid_until,
            )
    listing_id = data.listing_id
    if listing_id is None and deal is not None:
        listing_id = next((i.listing_id for i in deal.items if i.listing_id), None)
    if listing_id is None and patent is not None:
        # The contract counts on the market card of the patent it concerns, if there is one.
        from shuanglian.supermarket.service import published_listings_for_patent

        cards = published_listings_for_patent(session, patent_id=patent.id)
        listing_id = cards[0].id if cards else None
    contract = Contract(
        number=f"tmp-{uuid.uuid4().hex[:20]}",
        deal_id=data.deal_id,
        open_licence_id=open_licence_id,
        kind=data.kind,
        subtype=data.subtype,
        title=data.title,
        institution_id=institution_id,
        enterprise_id=enterprise_id,
        patent_id=data.patent_id,
        listing_id=listing_id,
        signed_on=data.signed_on,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        amount=data.amount,
        technical_income=data.technical_income,
        payment_mode=data.payment_mode,
        royalty_rate=data.royalty_rate,
        royalty_minimum=data.royalty_minimum,
        details=data.details,
        registration_number=data.registration_number,
        seller_nature=data.seller_nature or NATURE_OF_INSTITUTION.get(institution.kind, "other"),
        buyer_nature=data.buyer_nature or "enterprise",
        seller_region_code=data.seller_region_code,
        buyer_region_code=data.buyer_region_code,
        seller_credit_code=data.seller_credit_code,
        buyer_credit_code=data.buyer_credit_code or enterprise.credit_code,
        seller_country=data.seller_country,
        buyer_country=data.buyer_country,
        tech_field=data.tech_field,
        ip_type=data.ip_type or (patent.patent_type if patent is not None else None),
        expected_investment=data.expected_investment,
        expected_output=data.expected_output,
        notice_text=notice_text,
        created_by_id=actor.id,
        schedule=[
            ScheduledPayment(due_on=r.due_on, amount=r.amount, note=r.note) for r in data.schedule
        ],
    )
    session.add(contract)
    session.flush()
    contract.number = _new_number(session, contract)
    session.flush()
    if deal is not None:
        _log(
            session,
            deal,
            actor,
            "system",
            f"录入合同 {contract.number}：{CONTRACT_KINDS[contract.kind][0]}，"
            f"{format_wan(contract.amount)}",
            data.signed_on,
        )
    record_audit(
        session,
        actor=actor,
        action="contract.create",
        subject=contract,
        detail={"kind": contract.kind, "amount": contract.amount, "deal": contract.deal_id},
    )
    return contract


def add_payment(
    session: Session, *, actor: User | None, contract_id: int, data: PaymentIn | dict[str, Any]
) -> Payment:
    """Record money received (date on or after the contract date)."""
    actor = require_login(actor)
    contract = access.require_contract_view(session, actor, contract_id)
    if contract.deal_id is not None:
        access.require_deal_work(session, actor, contract.deal_id)
    else:
        _require_issuer(session, actor, contract.institution_id)
    data = parse(PaymentIn, data)
    if data.received_on < contract.signed_on:
        raise DomainError(
            "付款日期不能早于合同签订日期 (payment date before contract date)", field="received_on"
        )
    payment = Payment(
        contract_id=contract.id,
        received_on=data.received_on,
        amount=data.amount,
        costs=data.costs,
        reference=data.reference,
    )
    contract.payments.append(payment)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="contract.payment",
        subject=contract,
        detail={"amount": data.amount, "on": data.received_on, "reference": data.reference},
    )
    return payment


def get_contract(session: Session, *, actor: User | None, contract_id: int) -> Contract:
    """One contract for its parties."""
    return access.require_contract_view(session, actor, contract_id)


def list_contracts(
    session: Session,
    *,
    actor: User | None,
    deal_id: int | None = None,
    kind: str | None = None,
    institution_id: int | None = None,
) -> list[Contract]:
    """Contracts the actor may see, newest first."""
    actor = require_login(actor)
    stmt = select(Contract).where(access.contracts_visible_to(session, actor))
    if deal_id is not None:
        stmt = stmt.where(Contract.deal_id == deal_id)
    if kind:
        stmt = stmt.where(Contract.kind == kind)
    if institution_id:
        stmt = stmt.where(Contract.institution_id == institution_id)
    return list(session.scalars(stmt.order_by(Contract.signed_on.desc(), Contract.id.desc())))


def received_total(contract: Contract) -> Decimal:
    """Money received so far (万元)."""
    return sum((p.amount for p in contract.payments), Decimal(0))


def signed_totals(session: Session) -> tuple[int, Decimal]:
    """Contracts recorded on the platform and their amount (万元): the big screen's figures."""
    n, amount = session.execute(
        select(func.count(Contract.id), func.coalesce(func.sum(Contract.amount), 0))
    ).one()
    return int(n), Decimal(amount or 0)


def format_wan(value: Decimal | None, lang: str = "zh") -> str:
    """An amount in 万元 as people read it: "12.5 万元", in English "12.5 × 10k CNY" (the
    catalogue's wording), exact to the yuan, no trailing 0s."""
    if value is None:
        return ""
    number = Decimal(value).quantize(Decimal("0.0001")).normalize()
    if number == number.to_integral():
        number = number.quantize(Decimal(1))
    return f"{number:,f} × 10k CNY" if lang == "en" else f"{number:,f} 万元"


# The contract's own fields a party may correct before money arrives (the parties, patent and
# type stay: changing those is a different contract).
EDITABLE_FIELDS = ("title", "amount", "signed_on", "valid_from", "valid_until")


def _require_contract_edit(session: Session, actor: User, contract_id: int) -> Contract:
    """The contract, if the actor may change it and nothing has been received under it yet."""
    contract = access.require_contract_view(session, actor, contract_id)
    if contract.deal_id is not None:
        access.require_deal_work(session, actor, contract.deal_id)
    else:
        _require_issuer(session, actor, contract.institution_id)
    if contract.kind == "open_licence":
        raise DomainError(
            "开放许可合同按声明条件订立，不能修改或删除 "
            "(open-licence contracts follow the declared terms and cannot be changed)"
        )
    paid_out = session.scalar(
        select(func.count(InventorPayout.id)).where(InventorPayout.contract_id == contract.id)
    )
    if contract.payments or paid_out:
        raise DomainError(
            "合同已有到账或发放记录，不能修改或删除 "
            "(payments recorded: the contract can no longer be changed or deleted)"
        )
    return contract


def may_edit_contract(session: Session, actor: User | None, contract: Contract) -> bool:
    """Whether the contract page offers editing and deletion to this person."""
    if actor is None:
        return False
    try:
        _require_contract_edit(session, actor, contract.id)
    except DomainError:
        return False
    return True


def update_contract(
    session: Session, *, actor: User | None, contract_id: int, data: dict[str, Any]
) -> Contract:
    """Correct a contract's title, amount, dates and schedule before any money is received,
    under the same checks as recording it (the whole contract is validated again)."""
    actor = require_login(actor)
    contract = _require_contract_edit(session, actor, contract_id)
    merged: dict[str, Any] = {
        name: getattr(contract, name)
        for name in ContractIn.model_fields
        if name != "schedule" and hasattr(contract, name)
    }
    merged["schedule"] = [
        {"due_on": r.due_on, "amount": r.amount, "note": r.note} for r in contract.schedule
    ]
    for key in (*EDITABLE_FIELDS, "schedule"):
        if key in data:
            merged[key] = data[key]
    checked = parse(ContractIn, {k: v for k, v in merged.items() if v is not None})
    patent = session.get(Patent, contract.patent_id) if contract.patent_id else None
    if patent is not None and contract.kind in PATENT_KINDS:
        check_patent_for(
            session,
            patent=patent,
            kind=contract.kind,
            subtype=checked.subtype,
            signed_on=checked.signed_on,
            valid_until=checked.valid_until,
        )
    before: dict[str, Any] = {k: getattr(contract, k) for k in EDITABLE_FIELDS}
    before["schedule"] = merged_schedule_of(contract)
    for key in EDITABLE_FIELDS:
        setattr(contract, key, getattr(checked, key))
    contract.schedule = [
        ScheduledPayment(due_on=r.due_on, amount=r.amount, note=r.note) for r in checked.schedule
    ]
    session.flush()
    after: dict[str, Any] = {k: getattr(contract, k) for k in EDITABLE_FIELDS}
    after["schedule"] = merged_schedule_of(contract)
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if contract.deal_id is not None and changed:
        deal = access.require_deal_work(session, actor, contract.deal_id)
        _log(session, deal, actor, "system", f"修改合同 {contract.number}")
    record_audit(
        session,
        actor=actor,
        action="contract.update",
        subject=contract,
        detail={"changed": changed},
        institution_id=contract.institution_id,
    )
    return contract


def merged_schedule_of(contract: Contract) -> list[dict[str, Any]]:
    """The schedule as plain values (for the audit trail's before and after)."""
    return [
        {"due_on": r.due_on.isoformat(), "amount": str(r.amount), "note": r.note}
        for r in contract.schedule
    ]


def delete_contract(session: Session, *, actor: User | None, contract_id: int) -> None:
    """Remove a contract recorded in error, while nothing has been received under it."""
    actor = require_login(actor)
    contract = _require_contract_edit(session, actor, contract_id)
    if contract.deal_id is not None:
        deal = access.require_deal_work(session, actor, contract.deal_id)
        _log(session, deal, actor, "system", f"删除合同 {contract.number}")
    record_audit(
        session,
        actor=actor,
        action="contract.delete",
        subject=contract,
        detail={
            "number": contract.number,
            "kind": contract.kind,
            "amount": contract.amount,
            "deal": contract.deal_id,
        },
        institution_id=contract.institution_id,
    )
    session.delete(contract)
    session.flush()
