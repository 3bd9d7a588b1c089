"""Technology-contract registration (技术合同登记): the office's fields, as Excel and JSON.

Each row carries what the registration form asks for. A contract missing a required field is
not exported: the export is refused with the list of what each contract lacks, so the office
never receives a half-filled form.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import ADMIN, INSTITUTION_STAFF, require_login
from shuanglian.deals.models import Contract
from shuanglian.deals.schemas import (
    ASKS_EXPECTED,
    CONTRACT_KINDS,
    CONTRACT_SUBTYPES,
    IP_TYPES,
    PARTY_NATURES,
)
from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.spreadsheet import append_row

# (key, 表头, required) in the order of the registration form.
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("registration_number", "合同登记编号", False),
    ("contract_number", "平台合同编号", True),
    ("title", "项目名称", True),
    ("kind", "合同类型", True),
    ("subtype", "合同子类型", True),
    ("signed_on", "签订日期", True),
    ("valid_from", "合同有效期限（起）", True),
    ("valid_until", "合同有效期限（止）", True),
    ("buyer_name", "买方名称", True),
    ("buyer_credit_code", "买方统一社会信用代码", True),
    ("buyer_country", "买方国别", True),
    ("buyer_region_code", "买方行政区划代码", True),
    ("buyer_nature", "买方性质", True),
    ("seller_name", "卖方名称", True),
    ("seller_credit_code", "卖方统一社会信用代码", True),
    ("seller_country", "卖方国别", True),
    ("seller_region_code", "卖方行政区划代码", True),
    ("seller_nature", "卖方性质", True),
    ("tech_field", "技术领域", True),
    ("ip_type", "知识产权类型", True),
    ("amount", "合同成交额（万元）", True),
    ("technical_income", "技术交易额（万元）", True),
    ("expected_investment", "预计新增投入（万元）", False),
    ("expected_output", "预计新增产值（万元）", False),
)
HEADERS = {key: head for key, head, _ in COLUMNS}


def required_keys(kind: str) -> list[str]:
    """The fields a contract of `kind` must have to be registered."""
    keys = [key for key, _, required in COLUMNS if required]
    if kind in ASKS_EXPECTED:
        keys += ["expected_investment", "expected_output"]
    return keys


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value).quantize(Decimal('0.0001')):f}"


def registration_row(contract: Contract) -> dict[str, Any]:
    """One contract as the registration form's fields (Chinese names for coded values)."""
    return {
        "registration_number": contract.registration_number,
        "contract_number": contract.number,
        "title": contract.title,
        "kind": CONTRACT_KINDS[contract.kind][0],
        "subtype": CONTRACT_SUBTYPES[contract.kind].get(contract.subtype or "", ("", ""))[0]
        or None,
        "signed_on": contract.signed_on.isoformat(),
        "valid_from": contract.valid_from.isoformat() if contract.valid_from else None,
        "valid_until": contract.valid_until.isoformat() if contract.valid_until else None,
        "buyer_name": contract.enterprise.name,
        "buyer_credit_code": contract.buyer_credit_code,
        "buyer_country": contract.buyer_country,
        "buyer_region_code": contract.buyer_region_code,
        "buyer_nature": PARTY_NATURES[contract.buyer_nature][0] if contract.buyer_nature else None,
        "seller_name": contract.institution.name,
        "seller_credit_code": contract.seller_credit_code,
        "seller_country": contract.seller_country,
        "seller_region_code": contract.seller_region_code,
        "seller_nature": (
            PARTY_NATURES[contract.seller_nature][0] if contract.seller_nature else None
        ),
        "tech_field": contract.tech_field,
        "ip_type": IP_TYPES[contract.ip_type][0] if contract.ip_type else None,
        "amount": _amount(contract.amount),
        "technical_income": _amount(contract.technical_income),
        "expected_investment": _amount(contract.expected_investment),
        "expected_output": _amount(contract.expected_output),
    }


def missing_fields(contract: Contract) -> list[str]:
    """The registration form's required fields this contract lacks (their Chinese names)."""
    row = registration_row(contract)
    return [HEADERS[k] for k in required_keys(contract.kind) if row.get(k) in (None, "")]


def _contracts(
    session: Session,
    *,
    actor: User | None,
    contract_ids: list[int] | None,
    institution_id: int | None,
) -> list[Contract]:
    actor = require_login(actor)
    if actor.role not in (ADMIN, INSTITUTION_STAFF):
        raise PermissionDenied("登记导出仅限机构工作人员和管理员 (staff and admins only)")
    stmt = select(Contract).order_by(Contract.signed_on, Contract.id)
    if actor.role == INSTITUTION_STAFF:
        stmt = stmt.where(Contract.institution_id == actor.institution_id)
    elif institution_id is not None:
        stmt = stmt.where(Contract.institution_id == institution_id)
    if contract_ids is not None:
        stmt = stmt.where(Contract.id.in_(contract_ids))
    found = list(session.scalars(stmt))
    if contract_ids is not None and len(found) != len(set(contract_ids)):
        raise NotFound("部分合同不存在或不属于本机构 (contracts not found)")
    return found


def registration_rows(
    session: Session,
    *,
    actor: User | None,
    contract_ids: list[int] | None = None,
    institution_id: int | None = None,
) -> list[dict[str, Any]]:
    """Rows ready for the registration office; refused (listing what is missing) otherwise."""
    contracts = _contracts(
        session, actor=actor, contract_ids=contract_ids, institution_id=institution_id
    )
    problems = [
        f"{c.number}：{'、'.join(missing)}" for c in contracts if (missing := missing_fields(c))
    ]
    if problems:
        raise DomainError(
            "以下合同缺少登记必填项，未导出 (missing required registration fields): "
            + "；".join(problems),
            field="ids",
        )
    return [registration_row(c) for c in contracts]


def registration_json(rows: list[dict[str, Any]]) -> str:
    """The rows as JSON with the form's Chinese field names beside the keys."""
    return json.dumps(
        {"fields": [{"key": k, "name": h} for k, h, _ in COLUMNS], "contracts": rows},
        ensure_ascii=False,
        indent=1,
    )


def registration_xlsx(rows: list[dict[str, Any]]) -> bytes:
    """The rows as an Excel workbook, one contract per row, headers in Chinese."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "技术合同登记"
    append_row(ws, [head for _, head, _ in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_row(ws, [row.get(key) for key, _, _ in COLUMNS])
    for i, (_, head, _) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, len(head) * 2 + 2)
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
