"""Import enterprises (registration exports) and their technical demands from CSV or .xlsx.

Each row is validated on its own: a bad row is reported with its row number, the column as
written in the file's header and the reason, and the good rows are kept. A file that cannot be
read at all (missing columns, wrong type) raises ImportFailed before anything is written, and
an error during writing rolls the whole import back (see `service.upsert_*`).

Decisions about dirty registration data (the 2002 sample has all of these):

* Cells with U+FFFD (GBK text once decoded as UTF-8, then saved) cannot be recovered. A garbled
  企业名称 rejects the row; any other garbled cell — typically 企业类型, where a city name in GBK
  has landed — is dropped (stored empty) rather than stored as noise.
* A 15-digit pre-2015 registration number (工商注册号) in the credit-code column is accepted when
  its GS15-2006 check digit is right; the enterprise is stored without a credit code and matched
  by its exact name on re-import. Anything else that is not a valid 18-character code rejects
  the row (that is how the rows whose columns are shifted get caught).
* The same enterprise twice in one file (the sample has one credit code under two provinces):
  the first row is kept; a later identical row counts as unchanged, a contradicting one is
  rejected naming the row it contradicts. So re-importing a file changes nothing, and every
  row is counted exactly once in the report.
* 13-digit and other legacy numbers without a check digit are rejected: nothing can tell a
  typo from a real number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.audit import record_import
from shuanglian.config import DEFAULT_IMPORT_BATCH_SIZE
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.enterprises.service import RowRecord, upsert_demands, upsert_enterprises
from shuanglian.enterprises.validators import (
    parse_budget,
    parse_registered_capital,
    validate_credit_code,
    validate_industry_code,
    validate_registration_number,
)
from shuanglian.errors import ImportFailed
from shuanglian.importing import ImportReport
from shuanglian.tabular import find_columns, read_records, read_table, require_columns
from shuanglian.text.dates import parse_date

REPLACEMENT_CHAR = "\ufffd"

ENTERPRISE_REQUIRED: dict[str, tuple[str, ...]] = {
    "name": ("企业名称", "公司名称", "企业(机构)名称", "单位名称", "名称", "name", "company"),
}
ENTERPRISE_OPTIONAL: dict[str, tuple[str, ...]] = {
    "credit_code": (
        "统一社会信用代码",
        "社会信用代码",
        "信用代码",
        "统一信用代码",
        "credit_code",
        "uscc",
    ),
    "founded_on": ("注册日期", "成立日期", "注册时间", "成立时间", "founded_on", "founded"),
    "enterprise_type": ("企业类型", "公司类型", "企业(机构)类型", "类型", "enterprise_type"),
    "legal_representative": ("法人代表", "法定代表人", "法人", "legal_representative"),
    "registered_capital": ("注册资金", "注册资本", "registered_capital", "capital"),
    "business_scope": ("经营范围", "business_scope", "scope"),
    "province": ("所在省份", "省份", "所属省份", "省", "province"),
    "city": ("地区", "城市", "所在城市", "所属城市", "市", "city"),
    "address": ("注册地址", "地址", "住所", "企业地址", "address"),
    "industry_code": ("行业代码", "国民经济行业代码", "行业分类代码", "industry_code"),
    "size": ("企业规模", "规模", "size"),
}
# Free-text fields stored as written (no extra parsing beyond cleaning).
_ENTERPRISE_TEXT = (
    "enterprise_type",
    "legal_representative",
    "business_scope",
    "province",
    "city",
    "address",
    "size",
)

DEMAND_REF: dict[str, tuple[str, ...]] = {
    "credit_code": ("统一社会信用代码", "社会信用代码", "信用代码", "credit_code"),
    "enterprise_name": ("企业名称", "公司名称", "企业", "enterprise", "company"),
}
DEMAND_REQUIRED: dict[str, tuple[str, ...]] = {
    "title": ("需求名称", "需求标题", "标题", "需求", "title", "name"),
}
DEMAND_OPTIONAL: dict[str, tuple[str, ...]] = {
    "description": ("需求描述", "需求内容", "描述", "内容", "description", "context"),
    "industry_code": ("行业代码", "国民经济行业代码", "industry_code"),
    # GB/T 4754 names as platforms write them (制造业, 制造业——医药制造业); codes work too.
    "industry_name": ("所属行业", "行业分类", "行业", "classification"),
    "modes": ("合作方式", "合作模式", "cooperationMethod", "modes"),
    # The validity window as posted: 2020-01-13 10:49:39 至 2021-01-13 10:49:41.
    "window": ("有效期", "需求有效期", "有效期限", "time"),
    "budget": ("预算(万元)", "预算金额(万元)", "预算", "budget"),
    "deadline": ("截止日期", "截止时间", "deadline"),
    "region": ("地区", "所在地区", "region"),
}


class RowRejected(Exception):
    """A row cannot be imported; carries the file's column name and the reason."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


# --------------------------------------------------------------------------- enterprises


def import_enterprises(
    session: Session,
    *,
    path: Path,
    dry_run: bool = False,
    batch_size: int | None = None,
    actor: User | None = None,
) -> ImportReport:
    """Import a registration export (CSV/xlsx); bad rows are reported, good rows upserted."""
    path = Path(path)
    header, rows = read_table(path)
    try:
        columns = require_columns(header, ENTERPRISE_REQUIRED)
        columns.update(find_columns(header, ENTERPRISE_OPTIONAL))
        report = ImportReport(dry_run=dry_run)
        records = _enterprise_records(rows, columns, report, source=path.name)
        upsert_enterprises(
            session,
            records=records,
            dry_run=dry_run,
            report=report,
            batch_size=batch_size or DEFAULT_IMPORT_BATCH_SIZE,
        )
        record_import(session, actor=actor, kind="enterprises", files=path, report=report)
        return report
    finally:
        _close(rows)


def _close(rows: Iterable[object]) -> None:
    # read_table's rows are a generator holding the file open; close it even when the import
    # stops early (missing columns, a failed batch).
    close = getattr(rows, "close", None)
    if close is not None:
        close()


def _enterprise_records(
    rows: Iterable[tuple[int, dict[str, str]]],
    columns: dict[str, str],
    report: ImportReport,
    *,
    source: str,
) -> Iterator[RowRecord]:
    for number, cells in rows:
        try:
            values = parse_enterprise_row(cells, columns)
        except RowRejected as exc:
            report.reject(number, exc.column, exc.message)
            continue
        values["source_file"] = source
        values["source_row"] = number
        key_column = columns["credit_code"] if values.get("credit_code") else columns["name"]
        yield RowRecord(row=number, values=values, key_column=key_column)


def parse_enterprise_row(cells: dict[str, str], columns: dict[str, str]) -> dict[str, Any]:
    """Validated column values for one enterprise row; RowRejected names column and reason."""
    name_col = columns["name"]
    name = cells.get(name_col, "").strip()
    if not name:
        raise RowRejected(name_col, "企业名称为空（enterprise name is empty）")
    if REPLACEMENT_CHAR in name:
        raise RowRejected(
            name_col, "企业名称是乱码，请检查文件编码（garbled name: check the file's encoding）"
        )
    values: dict[str, Any] = {"name": name}
    _check_length(values, "name", name_col)

    if "credit_code" in columns:
        values["credit_code"] = _credit_code(cells, columns["credit_code"])
    if "founded_on" in columns:
        values["founded_on"] = _date(cells, columns["founded_on"])
    if "registered_capital" in columns:
        column = columns["registered_capital"]
        try:
            amount, currency = parse_registered_capital(cells.get(column, ""))
        except ValueError as exc:
            raise RowRejected(column, str(exc)) from exc
        values["registered_capital"] = amount
        values["capital_currency"] = currency
    if "industry_code" in columns:
        values["industry_code"] = _industry(cells, columns["industry_code"])
    for field in _ENTERPRISE_TEXT:
        if field in columns:
            values[field] = _text(cells, columns[field])
            _check_length(values, field, columns[field])
    return values


def _credit_code(cells: dict[str, str], column: str) -> str | None:
    raw = cells.get(column, "").strip()
    if not raw:
        return None
    digits = raw.replace(" ", "")
    if len(digits) == 15 and digits.isdigit():
        try:
            validate_registration_number(digits)
        except ValueError as exc:
            raise RowRejected(column, str(exc)) from exc
        return None
    try:
        return validate_credit_code(raw)
    except ValueError as exc:
        raise RowRejected(column, str(exc)) from exc


def _date(cells: dict[str, str], column: str) -> date | None:
    try:
        return parse_date(cells.get(column, ""))
    except ValueError as exc:
        raise RowRejected(column, str(exc)) from exc


def _industry(cells: dict[str, str], column: str) -> str | None:
    try:
        return validate_industry_code(cells.get(column, ""))
    except ValueError as exc:
        raise RowRejected(column, str(exc)) from exc


def _text(cells: dict[str, str], column: str) -> str | None:
    value = cells.get(column, "").strip()
    if not value or REPLACEMENT_CHAR in value:
        return None
    return value


def _check_length(values: dict[str, Any], field: str, column: str, model: Any = Enterprise) -> None:
    value = values.get(field)
    limit = _column_length(model, field)
    if value is not None and limit is not None and len(value) > limit:
        raise RowRejected(
            column,
            f"内容过长：最多 {limit} 个字符，实际 {len(value)}"
            f"（too long: at most {limit} characters, got {len(value)}）",
        )


@lru_cache(maxsize=64)
def _column_length(model: Any, field: str) -> int | None:
    # PostgreSQL refuses an over-long VARCHAR and would fail the whole import; checking the
    # model's declared length turns that into a row error instead.
    return getattr(model.__table__.c[field].type, "length", None)


# --------------------------------------------------------------------------- demands


def import_demands(
    session: Session,
    *,
    path: Path,
    enterprise: str | None = None,
    dry_run: bool = False,
    batch_size: int | None = None,
    actor: User | None = None,
) -> ImportReport:
    """Import technical demands (CSV, xlsx or JSON Lines); each row names its enterprise by
    credit code or exact name, or falls back to `enterprise` (created if new) — a platform's
    export of posted demands often names none."""
    path = Path(path)
    header, rows = read_records(path)
    try:
        ref_columns = find_columns(header, DEMAND_REF)
        if not ref_columns and not (enterprise and enterprise.strip()):
            raise ImportFailed(
                "缺少必需的列：企业名称 / 统一社会信用代码（需要其中之一），"
                "或用 --enterprise 指定企业"
                "（missing required column: enterprise name or credit code; or give --enterprise）"
            )
        columns = {**ref_columns, **require_columns(header, DEMAND_REQUIRED)}
        columns.update(find_columns(header, DEMAND_OPTIONAL))
        size = batch_size or DEFAULT_IMPORT_BATCH_SIZE
        report = ImportReport(dry_run=dry_run)
        # A dry run writes and rolls back (as `upsert_demands` does), the fallback enterprise too.
        trial = session.begin_nested() if dry_run else None
        try:
            fallback = (
                _fallback_enterprise(session, enterprise.strip())
                if enterprise and enterprise.strip()
                else None
            )
            records = _demand_records(
                session, rows, columns, report, source=path.name, size=size, fallback=fallback
            )
            upsert_demands(
                session, records=records, dry_run=dry_run, report=report, batch_size=size
            )
        finally:
            if trial is not None:
                trial.rollback()
        # Rows are rejected in two passes (parsing, then enterprise lookup per chunk); a person
        # reads the errors in file order.
        report.errors.sort(key=lambda error: error.row)
        record_import(session, actor=actor, kind="demands", files=path, report=report)
        return report
    finally:
        _close(rows)


def _fallback_enterprise(session: Session, name: str) -> int:
    """The id of the enterprise named by --enterprise, created (name only) if new."""
    from shuanglian.enterprises.service import enterprise_search_text

    found = session.scalar(
        select(Enterprise.id).where(Enterprise.name == name).order_by(Enterprise.id)
    )
    if found is not None:
        return int(found)
    created = Enterprise(name=name, search_text=enterprise_search_text(name, None))
    session.add(created)
    session.flush()
    return created.id


def _demand_records(
    session: Session,
    rows: Iterable[tuple[int, dict[str, str]]],
    columns: dict[str, str],
    report: ImportReport,
    *,
    source: str,
    size: int,
    fallback: int | None = None,
) -> Iterator[RowRecord]:
    # Rows are parsed one by one, but enterprises are resolved a chunk at a time: two queries
    # per chunk instead of one per row.
    chunk: list[tuple[int, dict[str, Any], str | None, str | None]] = []
    for number, cells in rows:
        try:
            values, code, name = parse_demand_row(cells, columns, has_fallback=fallback is not None)
        except RowRejected as exc:
            report.reject(number, exc.column, exc.message)
            continue
        chunk.append((number, values, code, name))
        if len(chunk) >= size:
            yield from _resolve_enterprises(session, chunk, columns, report, source, fallback)
            chunk = []
    if chunk:
        yield from _resolve_enterprises(session, chunk, columns, report, source, fallback)


def parse_demand_row(
    cells: dict[str, str], columns: dict[str, str], *, has_fallback: bool = False
) -> tuple[dict[str, Any], str | None, str | None]:
    """(validated demand values, credit code, enterprise name) for one row."""
    code = None
    if "credit_code" in columns:
        raw = cells.get(columns["credit_code"], "").strip()
        if raw:
            try:
                code = validate_credit_code(raw)
            except ValueError as exc:
                raise RowRejected(columns["credit_code"], str(exc)) from exc
    name = cells.get(columns["enterprise_name"], "").strip() if "enterprise_name" in columns else ""
    if not code and not name and not has_fallback:
        column = columns.get("enterprise_name") or columns["credit_code"]
        raise RowRejected(
            column, "未填写企业名称或统一社会信用代码（enterprise name or credit code is required）"
        )
    title_col = columns["title"]
    title = cells.get(title_col, "").strip()
    if not title:
        raise RowRejected(title_col, "需求标题为空（demand title is empty）")
    values: dict[str, Any] = {"title": title}
    _check_length(values, "title", title_col, Demand)
    if "description" in columns:
        values["description"] = _text(cells, columns["description"])
    if "industry_code" in columns:
        values["industry_code"] = _industry(cells, columns["industry_code"])
    if "industry_name" in columns and not values.get("industry_code"):
        values["industry_code"] = _industry_by_name(cells, columns["industry_name"])
    if "modes" in columns:
        from shuanglian.supermarket.importers import modes_from_cooperation

        values["modes"] = "," + "".join(
            f"{m}," for m in modes_from_cooperation(cells.get(columns["modes"], ""))
        )
    if "window" in columns:
        values["valid_from"], window_end = _window(cells, columns["window"])
        if window_end is not None and "deadline" not in columns:
            values["deadline"] = window_end
    if "budget" in columns:
        values["budget"] = _budget(cells, columns["budget"])
    if "deadline" in columns:
        values["deadline"] = _date(cells, columns["deadline"])
    if "region" in columns:
        values["region"] = _text(cells, columns["region"])
        _check_length(values, "region", columns["region"], Demand)
    return values, code, name or None


def _industry_by_name(cells: dict[str, str], column: str) -> str | None:
    """The bare code for a GB/T 4754 name or code; the most specific entry a name gives."""
    from shuanglian.reference.gbt4754 import industries_from_classification

    raw = cells.get(column, "").strip()
    if not raw:
        return None
    try:
        return validate_industry_code(raw)
    except ValueError:
        pass
    found = industries_from_classification(raw)
    if not found:
        raise RowRejected(
            column,
            f"无法识别的行业“{raw[:40]}”，应为 GB/T 4754-2017 的名称或代码，如 制造业 或 C38"
            "（unknown industry: give a GB/T 4754-2017 name or code）",
        )
    return found[0].code


_WINDOW_SPLIT = re.compile(r"\s*(?:至|到|~|～|—|--)\s*")


def _window(cells: dict[str, str], column: str) -> tuple[date | None, date | None]:
    """(first day, last day) of a validity window written `2020-01-1310:49:39.0至2021-01-13…`.

    Only the dates count; the posting platform glues the time of day to the date.
    """
    raw = cells.get(column, "").strip()
    if not raw:
        return None, None
    parts = _WINDOW_SPLIT.split(raw)
    if len(parts) != 2:
        raise RowRejected(
            column,
            f"有效期“{raw[:40]}”应写作 开始日期 至 结束日期（validity window: start 至 end）",
        )
    try:
        start, end = (parse_date(part.strip()[:10]) for part in parts)
    except ValueError as exc:
        raise RowRejected(column, str(exc)) from exc
    if start and end and end < start:
        raise RowRejected(column, "有效期结束早于开始（the window ends before it starts）")
    return start, end


def _budget(cells: dict[str, str], column: str) -> Any:
    try:
        return parse_budget(cells.get(column, ""))
    except ValueError as exc:
        raise RowRejected(column, str(exc)) from exc


def _resolve_enterprises(
    session: Session,
    chunk: list[tuple[int, dict[str, Any], str | None, str | None]],
    columns: dict[str, str],
    report: ImportReport,
    source: str,
    fallback: int | None = None,
) -> Iterator[RowRecord]:
    codes = {code for _, _, code, _ in chunk if code}
    names = {name for _, _, _, name in chunk if name}
    by_code: dict[str, int] = {}
    by_name: dict[str, int] = {}
    if codes:
        stmt = select(Enterprise.credit_code, Enterprise.id).where(
            Enterprise.credit_code.in_(codes)
        )
        by_code = {code: id_ for code, id_ in session.execute(stmt) if code}
    if names:
        named = select(Enterprise.name, Enterprise.id).where(Enterprise.name.in_(names))
        for stored_name, id_ in session.execute(named.order_by(Enterprise.id)):
            by_name.setdefault(stored_name, id_)
    for number, values, code, name in chunk:
        enterprise_id = (by_code.get(code) if code else None) or (
            by_name.get(name) if name else None
        )
        if enterprise_id is None and not code and not name:
            enterprise_id = fallback
        if enterprise_id is None:
            column = columns["credit_code"] if code else columns["enterprise_name"]
            shown = code or name
            report.reject(
                number,
                column,
                f"找不到企业“{shown}”，请先导入该企业（enterprise not found: import it first）",
            )
            continue
        yield RowRecord(
            row=number,
            values={
                **values,
                "enterprise_id": enterprise_id,
                "source_file": source,
                "source_row": number,
            },
            key_column=columns["title"],
        )


__all__ = [
    "ENTERPRISE_OPTIONAL",
    "ENTERPRISE_REQUIRED",
    "RowRejected",
    "import_demands",
    "import_enterprises",
    "parse_demand_row",
    "parse_enterprise_row",
]
