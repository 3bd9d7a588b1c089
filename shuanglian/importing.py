"""The report every importer returns; the CLI prints it as JSON with `--json`.

A file of a million bad rows must not become a million objects in memory or a 180 MB answer:
the report keeps the first `ERRORS_KEPT` row errors, counts all of them, and writes the ones
after that, as they come, to a temporary CSV file (`overflow`) that the web copies into the
downloadable error list. The temporary file disappears when closed or collected.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

# Row errors a report holds in memory (and an API answer carries); the rest go to disk.
ERRORS_KEPT = 200


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
    # The first ERRORS_KEPT row errors; `error_count` says how many there were in all.
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    dry_run: bool = False
    # Rows left alone on purpose (a pre-filled template row nobody filled in): not errors.
    skipped: int = 0
    # Rows kept, but worth a second look (applicants not naming the institution ...).
    warnings: list[RowError] = field(default_factory=list)
    # Where the uploader downloads every error as CSV (web uploads with errors; else None).
    errors_csv: str | None = None

    def __post_init__(self) -> None:
        # Not a dataclass field, so API answers and `as_dict` never carry it.
        self._overflow: IO[str] | None = None

    def warn(self, row: int, field_name: str, message: str) -> None:
        """Note a row that was kept but deserves a second look (bounded like errors)."""
        if len(self.warnings) < ERRORS_KEPT:
            self.warnings.append(RowError(row=row, field=field_name, message=message))

    def reject(self, row: int, field_name: str, message: str) -> None:
        """Count a rejected row and note why."""
        self.rejected += 1
        self.add_error(row, field_name, message)

    def add_error(self, row: int, field_name: str, message: str) -> None:
        """Note one more error of a row (a row may have several; `reject` counts the row)."""
        self.error_count += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append(RowError(row=row, field=field_name, message=message))
            return
        if self._overflow is None:
            self._overflow = tempfile.TemporaryFile(  # noqa: SIM115 - lives as long as the report
                "w+", encoding="utf-8", newline=""
            )
        csv.writer(self._overflow).writerow([row, field_name, message])

    def all_errors(self) -> Iterator[RowError]:
        """Every error: the kept ones, then the overflow read back from disk, one at a time."""
        yield from self.errors
        if self._overflow is None:
            return
        self._overflow.flush()
        self._overflow.seek(0)
        for row, field_name, message in csv.reader(self._overflow):
            yield RowError(row=int(row), field=field_name, message=message)
        self._overflow.seek(0, 2)

    def close(self) -> None:
        """Delete the overflow file now (it would go when the report is collected anyway)."""
        if self._overflow is not None:
            self._overflow.close()
            self._overflow = None

    def as_dict(self) -> dict[str, object]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in self.errors],
            "error_count": self.error_count,
            "dry_run": self.dry_run,
            "skipped": self.skipped,
            "warnings": [
                {"row": w.row, "field": w.field, "message": w.message} for w in self.warnings
            ],
        }


def _shown(value: Any) -> str:
    text = "（空）" if value is None or value == "" else f"“{str(value)[:40]}”"
    return text


# The bounds every request body and row has (web.schemas: SafeStr, Money, Percent, Measure),
# said so a person knows what to change; `{…}` are the pydantic error's context values.
BOUND_MESSAGES = {
    "string_pattern_mismatch": "含无效字符 (invalid characters)",
    "string_unicode": "含无效字符 (invalid characters)",
    "decimal_max_digits": "数字过大或位数过多，最多 {max_digits} 位 (at most {max_digits} digits)",
    "decimal_whole_digits": "数字过大，整数部分最多 {whole_digits} 位 (number too large)",
    "decimal_max_places": "最多 {decimal_places} 位小数 (at most {decimal_places} decimal places)",
    "finite_number": "须为有限的数字 (must be a finite number)",
}


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
    if kind in BOUND_MESSAGES:
        return BOUND_MESSAGES[kind].format(**ctx)
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
