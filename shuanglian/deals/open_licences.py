"""Open licences (开放许可, Patent Law arts. 50–52): declare, take by notice, withdraw.

An institution declares the fee and term; the declaration shows in the supermarket with a
badge and its terms. Any enterprise takes a licence by written notice with its payment: the
platform records a 开放许可 contract and renders the licence as a Chinese PDF. A withdrawal is
published too and leaves licences already granted in force (art. 51).
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import require_enterprise, require_institution
from shuanglian.audit import record_audit, snapshot
from shuanglian.deals import access
from shuanglian.deals.contracts import check_patent_for, create_contract, format_wan
from shuanglian.deals.models import Contract, OpenLicence, Payment
from shuanglian.deals.schemas import (
    CONTRACT_SUBTYPES,
    OpenLicenceIn,
    TakeLicenceIn,
    parse,
)
from shuanglian.errors import DomainError, NotFound
from shuanglian.notifications import notify
from shuanglian.patents.models import PATENT_TYPE_ZH, Patent
from shuanglian.supermarket.service import publish_open_licence_terms, today_in_china

NEEDS_EVALUATION = ("utility_model", "design")  # art. 50: 专利权评价报告


def terms_text(ol: OpenLicence) -> str:
    """The declaration's terms in one sentence, as published."""
    if ol.fee_mode == "lump_sum":
        fee = f"许可使用费 {format_wan(ol.fee_amount)}（一次性）"
    else:
        fee = f"按销售额 {Decimal(ol.royalty_rate or 0).normalize():f}% 提成"
    report = f"；专利权评价报告 {ol.evaluation_report_ref}" if ol.evaluation_report else ""
    return (
        f"开放许可（{ol.declared_on.isoformat()} 声明）：{fee}，{ol.payment_method}，"
        f"许可期限 {ol.term_years} 年，普通许可{report}。书面通知并付费即获得许可。"
    )


def declare_open_licence(
    session: Session, *, actor: User | None, data: OpenLicenceIn | dict[str, Any]
) -> OpenLicence:
    """Declare a patent open for licence and publish the terms in the supermarket."""
    data = parse(OpenLicenceIn, data)
    patent = session.get(Patent, data.patent_id)
    if patent is None or patent.institution_id is None:
        raise DomainError("专利不存在 (patent not found)", field="patent_id")
    require_institution(actor, patent.institution_id)
    today = data.declared_on or today_in_china()
    check_patent_for(
        session,
        patent=patent,
        kind="open_licence",
        subtype="ordinary",
        signed_on=today,
        valid_until=None,
    )
    if patent.patent_type in NEEDS_EVALUATION and not (
        data.evaluation_report and data.evaluation_report_ref
    ):
        raise DomainError(
            f"{PATENT_TYPE_ZH[patent.patent_type]}专利声明开放许可须提供专利权评价报告 "
            "(a utility model or design needs a patent evaluation report)",
            field="evaluation_report_ref",
        )
    if session.scalar(
        select(OpenLicence.id).where(
            OpenLicence.patent_id == patent.id, OpenLicence.status == "in_force"
        )
    ):
        raise DomainError("该专利已有实施中的开放许可声明 (already declared)", field="patent_id")
    exclusive = session.scalar(
        select(Contract.number).where(
            Contract.patent_id == patent.id,
            Contract.kind == "licence",
            Contract.subtype.in_(("exclusive", "sole")),
            Contract.status == "in_force",
            (Contract.valid_until.is_(None)) | (Contract.valid_until >= today),
        )
    )
    if exclusive:
        raise DomainError(
            f"该专利有有效的独占或排他许可合同 {exclusive}，不能声明开放许可 "
            "(an exclusive or sole licence is in force)",
            field="patent_id",
        )
    ol = OpenLicence(
        patent_id=patent.id,
        institution_id=patent.institution_id,
        fee_mode=data.fee_mode,
        fee_amount=data.fee_amount,
        royalty_rate=data.royalty_rate,
        payment_method=data.payment_method,
        term_years=data.term_years,
        evaluation_report=data.evaluation_report,
        evaluation_report_ref=data.evaluation_report_ref,
        declared_on=today,
        status="in_force",
        created_by_id=getattr(actor, "id", None),
    )
    session.add(ol)
    session.flush()
    listings = publish_open_licence_terms(
        session,
        patent_id=patent.id,
        terms=terms_text(ol),
        in_force=True,
        fee=ol.fee_amount if ol.fee_mode == "lump_sum" else None,
    )
    ol.listing_id = listings[0].id if listings else None
    record_audit(
        session, actor=actor, action="open_licence.declare", subject=ol, detail=snapshot(ol)
    )
    return ol


def withdraw_open_licence(
    session: Session, *, actor: User | None, licence_id: int, note: str | None = None
) -> OpenLicence:
    """Withdraw a declaration; licences already taken stay valid, and their holders are told."""
    ol = get_open_licence(session, licence_id=licence_id)
    require_institution(actor, ol.institution_id)
    if ol.status != "in_force":
        raise DomainError("该声明已撤回 (already withdrawn)", field="status")
    ol.status = "withdrawn"
    ol.withdrawn_on = today_in_china()
    ol.withdrawal_note = (note or "").strip() or None
    notice = (
        f"开放许可声明已于 {ol.withdrawn_on.isoformat()} 撤回；撤回前已获得的许可继续有效。"
        + (f"（{ol.withdrawal_note}）" if ol.withdrawal_note else "")
    )
    notice_en = (
        f"The open licence declaration was withdrawn on {ol.withdrawn_on.isoformat()}; "
        "licences taken before the withdrawal remain valid."
        + (f" ({ol.withdrawal_note})" if ol.withdrawal_note else "")
    )
    publish_open_licence_terms(session, patent_id=ol.patent_id, terms=notice, in_force=False)
    holders = holders_of(session, licence_id=ol.id)
    from shuanglian.accounts.permissions import ENTERPRISE_USER

    users = session.scalars(
        select(User.id).where(
            User.role == ENTERPRISE_USER,
            User.enterprise_id.in_([c.enterprise_id for c in holders] or [-1]),
        )
    )
    notify(
        session,
        user_ids=list(users),
        kind="open_licence.withdrawn",
        title="开放许可声明已撤回，您已获得的许可继续有效",
        title_en="An open licence declaration was withdrawn; the licence you took remains valid",
        body=notice,
        body_en=notice_en,
        link="/open-licences",
    )
    record_audit(
        session, actor=actor, action="open_licence.withdraw", subject=ol, detail={"note": note}
    )
    session.flush()
    return ol


def get_open_licence(session: Session, *, licence_id: int) -> OpenLicence:
    """One declaration (public: declarations are published)."""
    ol = session.get(OpenLicence, licence_id)
    if ol is None:
        raise NotFound("开放许可声明不存在 (open licence not found)")
    return ol


def list_open_licences(session: Session, *, in_force_only: bool = True) -> list[OpenLicence]:
    """Published declarations, newest first."""
    stmt = select(OpenLicence).order_by(OpenLicence.id.desc())
    if in_force_only:
        stmt = stmt.where(OpenLicence.status == "in_force")
    return list(session.scalars(stmt))


def holders_of(session: Session, *, licence_id: int) -> list[Contract]:
    """The open-licence contracts granted under a declaration."""
    stmt = select(Contract).where(Contract.open_licence_id == licence_id).order_by(Contract.id)
    return list(session.scalars(stmt))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def take_open_licence(
    session: Session,
    *,
    actor: User | None,
    licence_id: int,
    data: TakeLicenceIn | dict[str, Any],
) -> Contract:
    """An enterprise takes the licence by written notice and payment: a 开放许可 contract."""
    data = parse(TakeLicenceIn, data)
    require_enterprise(actor, data.enterprise_id)
    ol = get_open_licence(session, licence_id=licence_id)
    if ol.status != "in_force":
        raise DomainError("该开放许可声明已撤回 (the declaration was withdrawn)", field="status")
    if data.notice_on < ol.declared_on or data.notice_on > today_in_china():
        raise DomainError(
            "通知日期须在声明日之后且不晚于今天 (notice date out of range)", field="notice_on"
        )
    if ol.fee_mode == "lump_sum" and data.paid_amount < (ol.fee_amount or 0):
        raise DomainError(
            f"付款金额须不少于许可使用费 {format_wan(ol.fee_amount)} (payment below the fee)",
            field="paid_amount",
        )
    held = session.scalar(
        select(Contract.number).where(
            Contract.open_licence_id == ol.id,
            Contract.enterprise_id == data.enterprise_id,
            Contract.valid_until >= data.notice_on,
        )
    )
    if held:
        raise DomainError(
            f"本企业已获得该许可（{held}）(licence already held)", field="enterprise_id"
        )
    patent = session.get(Patent, ol.patent_id)
    assert patent is not None
    until = _add_years(data.notice_on, ol.term_years)
    if patent.expiry_date is not None and until > patent.expiry_date:
        until = patent.expiry_date  # a licence cannot outlast the patent
    contract = create_contract(
        session,
        actor=actor,
        open_licence_id=ol.id,
        notice_text=data.notice,
        data={
            "kind": "open_licence",
            "subtype": "ordinary",
            "title": f"开放许可：{patent.title}",
            "institution_id": ol.institution_id,
            "enterprise_id": data.enterprise_id,
            "patent_id": patent.id,
            "listing_id": ol.listing_id,
            "signed_on": data.notice_on,
            "valid_from": data.notice_on,
            "valid_until": until,
            "amount": ol.fee_amount if ol.fee_mode == "lump_sum" else data.paid_amount,
            "technical_income": ol.fee_amount if ol.fee_mode == "lump_sum" else data.paid_amount,
            "payment_mode": "lump_sum" if ol.fee_mode == "lump_sum" else "royalty",
            "royalty_rate": ol.royalty_rate,
            "buyer_region_code": data.buyer_region_code,
            "ip_type": patent.patent_type,
        },
    )
    contract.payments.append(
        Payment(
            contract_id=contract.id,
            received_on=data.notice_on,
            amount=data.paid_amount,
            reference=data.payment_reference,
        )
    )
    session.flush()
    staff = session.scalars(
        select(User.id).where(
            User.role == "institution_staff", User.institution_id == ol.institution_id
        )
    )
    notify(
        session,
        user_ids=list(staff),
        kind="open_licence.taken",
        title=f"企业已获得开放许可：{patent.title}",
        title_en=f"An enterprise has taken an open licence: {patent.title}",
        body=f"合同 {contract.number}，付款 {format_wan(data.paid_amount)}",
        body_en=f"Contract {contract.number}, paid {format_wan(data.paid_amount, 'en')}",
        link=f"/contracts/{contract.id}",
    )
    record_audit(
        session,
        actor=actor,
        action="open_licence.take",
        subject=ol,
        detail={"contract": contract.number, "enterprise": data.enterprise_id},
    )
    return contract


# --------------------------------------------------------------------------- the licence PDF


def licence_pdf(session: Session, *, actor: User | None, contract_id: int) -> bytes:
    """The open-licence document in Chinese: parties, patent, terms, date and number."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from shuanglian.supermarket.cards import _register_font, wrap_text

    contract = access.require_contract_view(session, actor, contract_id)
    if contract.kind != "open_licence" or contract.open_licence_id is None:
        raise NotFound("该合同不是开放许可 (not an open licence)")
    ol = get_open_licence(session, licence_id=contract.open_licence_id)
    patent = contract.patent
    assert patent is not None
    font = _register_font()
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4)
    canvas.setTitle(f"专利开放许可证 {contract.number}")
    width, height = A4
    y = height - 30 * mm
    canvas.setFont(font, 20)
    canvas.drawCentredString(width / 2, y, "专利开放许可证")
    y -= 9 * mm
    canvas.setFont(font, 11)
    canvas.drawCentredString(width / 2, y, f"编号：{contract.number}")
    y -= 14 * mm
    paid = sum((p.amount for p in contract.payments), Decimal(0))
    fee = (
        format_wan(ol.fee_amount)
        if ol.fee_mode == "lump_sum"
        else f"按销售额 {Decimal(ol.royalty_rate or 0).normalize():f}% 提成"
    )
    lines = [
        ("许可人（专利权人）", contract.institution.name),
        ("被许可人", contract.enterprise.name),
        ("专利名称", patent.title),
        ("专利号 / 申请号", patent.application_number),
        ("专利类型", PATENT_TYPE_ZH.get(patent.patent_type or "", patent.patent_type or "")),
        ("许可类型", CONTRACT_SUBTYPES["open_licence"]["ordinary"][0]),
        ("开放许可声明日", ol.declared_on.isoformat()),
        ("许可使用费", fee),
        ("支付方式", ol.payment_method),
        ("许可期限", f"{contract.valid_from} 至 {contract.valid_until}"),
        ("书面通知日期", contract.signed_on.isoformat()),
        (
            "已付金额",
            f"{format_wan(paid)}（{', '.join(p.reference or '' for p in contract.payments)}）",
        ),
    ]
    if ol.evaluation_report:
        lines.append(("专利权评价报告", ol.evaluation_report_ref or ""))
    for name, value in lines:
        canvas.setFont(font, 11)
        canvas.drawString(25 * mm, y, f"{name}：")
        wrapped = wrap_text(str(value), size=11, width=width - 85 * mm, max_lines=3)
        for i, part in enumerate(wrapped):
            canvas.drawString(65 * mm, y - i * 6 * mm, part)
        y -= max(1, len(wrapped)) * 6 * mm + 3 * mm
    y -= 6 * mm
    body = (
        "依据《中华人民共和国专利法》第五十条至第五十二条，被许可人以书面方式通知专利权人并"
        "依照公告的许可使用费支付方式、标准支付许可使用费后，即获得本专利的普通实施许可。"
        "专利权人撤回开放许可声明的，不影响在先给予的开放许可的效力。"
    )
    for part in wrap_text(body, size=10.5, width=width - 50 * mm, max_lines=8):
        canvas.setFont(font, 10.5)
        canvas.drawString(25 * mm, y, part)
        y -= 6 * mm
    y -= 10 * mm
    canvas.drawString(25 * mm, y, f"许可人：{contract.institution.name}")
    canvas.drawString(110 * mm, y, f"被许可人：{contract.enterprise.name}"[:40])
    y -= 8 * mm
    canvas.drawString(25 * mm, y, f"生成日期：{today_in_china().isoformat()}（双链平台）")
    canvas.showPage()
    canvas.save()
    return buf.getvalue()
