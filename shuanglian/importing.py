"""The report every importer returns; the CLI prints it as JSON with `--json`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RowError:
    """One rejected row: `row` is the line / sheet row a person sees; `field` the file's header."""

    row: int
    field: str
    message: str


@dataclass
class ImportReport:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    # Rows left alone on purpose (a pre-filled template row nobody filled in): not errors.
    skipped: int = 0
    # Rows kept, but worth a second look (applicants not naming the institution ...).
    warnings: list[RowError] = field(default_factory=list)

    def warn(self, row: int, field_name: str, message: str) -> None:
        self.warnings.append(RowError(row=row, field=field_name, message=message))

    def reject(self, row: int, field_name: str, message: str) -> None:
        self.rejected += 1
        self.errors.append(RowError(row=row, field=field_name, message=message))

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        return {
            "inserted": data["inserted"],
            "updated": data["updated"],
            "unchanged": data["unchanged"],
            "rejected": data["rejected"],
            "errors": data["errors"],
            "dry_run": data["dry_run"],
            "skipped": data["skipped"],
            "warnings": data["warnings"],
        }


def _shown(value: Any) -> str:
    text = "（空）" if value is None or value == "" else f"“{str(value)[:40]}”"
    return text


def readable_error(err: Mapping[str, Any]) -> str:
    """One pydantic error as a sentence (zh, then English), never its machine type name.

    Users saw `格式不正确：'高' (int_parsing)` and `None (bool_type)`; the type names mean
    nothing to them. Validators' own messages (`value_error`) are already sentences.
    """
    kind = str(err.get("type", ""))
    got = _shown(err.get("input"))
    ctx = err.get("ctx") or {}
    if kind == "missing" or (kind.endswith("_type") and err.get("input") is None):
        return "必填项不能为空 (required)"
    if kind.startswith("int_"):
        return f"须为整数，填写的是{got} (must be a whole number)"
    if kind.startswith("float_") or kind.startswith("decimal_"):
        return f"须为数字，填写的是{got} (must be a number)"
    if kind.startswith("bool_"):
        return f"须填“是”或“否”，填写的是{got} (must be yes or no)"
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"须为日期（如 2024-05-01），填写的是{got} (must be a date)"
    if kind == "string_too_long":
        return f"最多 {ctx.get('max_length')} 个字 (at most {ctx.get('max_length')} characters)"
    if kind == "string_too_short":
        return "必填项不能为空 (required)"
    if kind in ("greater_than_equal", "greater_than"):
        return f"须不小于 {ctx.get('ge', ctx.get('gt'))}，填写的是{got} (too small)"
    if kind in ("less_than_equal", "less_than"):
        return f"须不大于 {ctx.get('le', ctx.get('lt'))}，填写的是{got} (too large)"
    if kind in ("literal_error", "enum"):
        return f"须为 {ctx.get('expected', '')} 之一，填写的是{got} (not one of the choices)"
    if kind == "value_error":
        return str(err.get("msg", "")).removeprefix("Value error, ")
    if kind.startswith(("string_", "list_")):
        return f"格式不对，填写的是{got} (wrong kind of value)"
    return f"填写的值无效：{got} (invalid value)"
