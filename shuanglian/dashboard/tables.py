"""A dashboard table: the one shape every view, chart, CSV/Excel download and report reads.

A chart is drawn from its table (never from other data), so the numbers under a chart, in the
download and in the PDF are the same numbers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

CHART_KINDS = ("bar", "line", "funnel", "map", "pie", None)
# A page shows at most this many rows of a table (and charts them); the download and the
# reports have every row. A national bureau's by-institution table has thousands of rows,
# which no chart can show and which made the page heavy to build.
PAGE_ROWS = 100


@dataclass
class Column:
    """One column: its key, zh/en heading, and whether it holds money (万元)."""

    key: str
    label: str
    label_en: str
    money: bool = False


@dataclass
class Table:
    """Rows of one breakdown; `chart` says how the page draws it (None: table only).

    The first column is the category (name of the institution, the month, the stage…); the
    chart plots `series` (column keys, default the first number column) against it.
    """

    key: str
    title: str
    title_en: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    chart: str | None = "bar"
    series: list[str] = field(default_factory=list)
    note: str = ""
    note_en: str = ""
    rows_en: list[list[Any]] | None = None  # when the category names differ in English
    extra: dict[str, Table] = field(default_factory=dict)  # a finer table built alongside

    def rows_in(self, lang: str = "zh") -> list[list[Any]]:
        return self.rows_en if lang == "en" and self.rows_en is not None else self.rows

    def headings(self, lang: str = "zh") -> list[str]:
        return [c.label_en if lang == "en" else c.label for c in self.columns]

    def title_in(self, lang: str = "zh") -> str:
        return self.title_en if lang == "en" else self.title

    def chart_series(self) -> list[str]:
        """The column keys the chart plots (the first numeric column when unset)."""
        if self.series:
            return self.series
        return [self.columns[1].key] if len(self.columns) > 1 else []

    def page_rows(self, lang: str = "zh") -> list[list[Any]]:
        """The rows a page shows (the first PAGE_ROWS; downloads have them all)."""
        return self.rows_in(lang)[:PAGE_ROWS]

    def chart_data(self, lang: str = "zh", limit: int | None = PAGE_ROWS) -> dict[str, Any]:
        """What the page's chart script reads (JSON in a data attribute): the first `limit`
        rows (None: all)."""
        index = {c.key: i for i, c in enumerate(self.columns)}
        keys = self.chart_series()
        rows = self.rows if limit is None else self.rows[:limit]
        names = self.rows_in(lang) if limit is None else self.rows_in(lang)[:limit]
        return {
            "kind": self.chart,
            "title": self.title_in(lang),
            # The map's shapes are named in Chinese: a map matches on the Chinese names.
            "categories": [str(r[0]) for r in (rows if self.chart == "map" else names)],
            "series": [
                {
                    "name": self.headings(lang)[index[k]],
                    "data": [_plain(r[index[k]]) for r in rows],
                }
                for k in keys
            ],
        }

    def to_csv(self, lang: str = "zh") -> str:
        """CSV with a BOM-less UTF-8 header row (Excel opens it through the .xlsx instead)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.headings(lang))
        for row in self.rows_in(lang):
            writer.writerow(["" if v is None else _plain(v) for v in row])
        return out.getvalue()


def _plain(value: Any) -> Any:
    """Decimals as floats for JSON and CSV (two places are kept by the query)."""
    if isinstance(value, Decimal):
        return float(value)
    return value
