"""Income distribution (收益分配): each payment's split, and what the inventors are owed.

The institution's own rule applies; without one, the law's floor (Law on Promoting the
Transformation of Scientific and Technological Achievements, art. 45): at least 50 % of the net
income from a transfer or licence, and at least 50 % of the equity from 作价投资, go to the
people who made the achievement. Net income is a payment less its recorded costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import require_institution
from shuanglian.audit import record_audit, snapshot
from shuanglian.deals import access
from shuanglian.deals.models import Contract, DistributionRule, InventorPayout
from shuanglian.deals.schemas import DistributionRuleIn, PayoutIn, parse
from shuanglian.errors import DomainError

LAW_FLOOR = Decimal(50)
CENT = Decimal("0.0001")  # 万元 to the yuan


@dataclass(frozen=True)
class Rule:
    inventor_pct: Decimal
    tto_pct: Decimal
    institution_pct: Decimal
    inventor_equity_pct: Decimal
    is_default: bool  # the law's floor, the institution has configured nothing


LAW_RULE = Rule(LAW_FLOOR, Decimal(0), Decimal(100) - LAW_FLOOR, LAW_FLOOR, True)


def set_rule(
    session: Session,
    *,
    actor: User | None,
    institution_id: int,
    data: DistributionRuleIn | dict[str, Any],
) -> DistributionRule:
    """Configure an institution's distribution shares (its staff or an admin)."""
    require_institution(actor, institution_id)
    data = parse(DistributionRuleIn, data)
    row = session.scalar(
        select(DistributionRule).where(DistributionRule.institution_id == institution_id)
    )
    if row is None:
        row = DistributionRule(institution_id=institution_id)
        session.add(row)
    for key, value in data.model_dump().items():
        setattr(row, key, value)
    session.flush()
    record_audit(
        session, actor=actor, action="distribution.rule", subject=row, detail=snapshot(row)
    )
    return row


def rule_for(session: Session, *, institution_id: int) -> Rule:
    """The institution's rule, or the law's floor when it has none."""
    row = session.scalar(
        select(DistributionRule).where(DistributionRule.institution_id == institution_id)
    )
    if row is None:
        return LAW_RULE
    return Rule(
        Decimal(row.inventor_pct),
        Decimal(row.tto_pct),
        Decimal(row.institution_pct),
        Decimal(row.inventor_equity_pct),
        False,
    )


def rule_note(session: Session, *, institution_id: int) -> str:
    """The note the institution keeps with its rule (e.g. the document that set it), or ""."""
    note = session.scalar(
        select(DistributionRule.note).where(DistributionRule.institution_id == institution_id)
    )
    return note or ""


def list_payouts(session: Session, *, contract_id: int) -> list[InventorPayout]:
    """Payouts to the inventors' team under a contract, oldest first (callers checked access)."""
    stmt = (
        select(InventorPayout)
        .where(InventorPayout.contract_id == contract_id)
        .order_by(InventorPayout.paid_on, InventorPayout.id)
    )
    return list(session.scalars(stmt))


def _part(amount: Decimal, pct: Decimal) -> Decimal:
    return (amount * pct / 100).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class PaymentSplit:
    received_on: date
    reference: str | None
    amount: Decimal
    costs: Decimal
    net: Decimal
    inventors: Decimal
    tto: Decimal
    institution: Decimal


@dataclass
class Distribution:
    contract_id: int
    rule: Rule
    payments: list[PaymentSplit] = field(default_factory=list)
    net_total: Decimal = Decimal(0)
    inventors_owed: Decimal = Decimal(0)
    inventors_paid: Decimal = Decimal(0)
    inventors_outstanding: Decimal = Decimal(0)
    # 作价入股: the stake contributed and the inventors' part of it.
    equity_pct: Decimal | None = None
    inventors_equity_pct: Decimal | None = None
    inventors_registered_capital: Decimal | None = None
    inventors_shares: int | None = None


def distribution(session: Session, *, actor: User | None, contract_id: int) -> Distribution:
    """Each payment's split by the rule, the inventors' owed / paid / outstanding, and for an
    equity contribution the inventors' share of the stake."""
    contract = access.require_contract_view(session, actor, contract_id)
    return compute_distribution(session, contract)


def compute_distribution(session: Session, contract: Contract) -> Distribution:
    """The distribution of one contract (no permission check; callers have done it)."""
    rule = rule_for(session, institution_id=contract.institution_id)
    out = Distribution(contract_id=contract.id, rule=rule)
    for p in contract.payments:
        net = Decimal(p.amount) - Decimal(p.costs or 0)
        inventors = _part(net, rule.inventor_pct)
        tto = _part(net, rule.tto_pct)
        # The institution takes the remainder, so the three parts always add up to the net.
        out.payments.append(
            PaymentSplit(
                p.received_on,
                p.reference,
                p.amount,
                p.costs,
                net,
                inventors,
                tto,
                net - inventors - tto,
            )
        )
        out.net_total += net
        out.inventors_owed += inventors
    out.inventors_paid = sum(
        session.scalars(
            select(InventorPayout.amount).where(InventorPayout.contract_id == contract.id)
        ),
        Decimal(0),
    )
    out.inventors_outstanding = out.inventors_owed - out.inventors_paid
    if contract.kind == "equity":
        d = contract.details
        stake = Decimal(str(d["percentage"]))
        out.equity_pct = stake
        out.inventors_equity_pct = (stake * rule.inventor_equity_pct / 100).quantize(CENT)
        if d.get("registered_capital") is not None:
            out.inventors_registered_capital = _part(
                Decimal(str(d["registered_capital"])), rule.inventor_equity_pct
            )
        if d.get("shares") is not None:
            out.inventors_shares = int(
                (Decimal(d["shares"]) * rule.inventor_equity_pct / 100).to_integral_value(
                    rounding=ROUND_HALF_UP
                )
            )
    return out


def add_payout(
    session: Session, *, actor: User | None, contract_id: int, data: PayoutIn | dict[str, Any]
) -> InventorPayout:
    """Record a payout to the inventors' team; never more than is outstanding."""
    contract = access.require_contract_view(session, actor, contract_id)
    require_institution(actor, contract.institution_id)
    data = parse(PayoutIn, data)
    if data.paid_on < contract.signed_on:
        raise DomainError(
            "发放日期不能早于合同签订日期 (payout date before contract date)", field="paid_on"
        )
    current = compute_distribution(session, contract)
    if data.amount > current.inventors_outstanding:
        raise DomainError(
            f"发放金额超过应发未发的 {current.inventors_outstanding.normalize():f} 万元 "
            "(more than is outstanding)",
            field="amount",
        )
    row = InventorPayout(
        contract_id=contract.id, paid_on=data.paid_on, amount=data.amount, reference=data.reference
    )
    session.add(row)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="distribution.payout",
        subject=contract,
        detail={"amount": data.amount, "on": data.paid_on},
    )
    return row
