"""Monthly / quarterly reports: the dashboard of one scope as a PDF (Chinese, with charts and a
definitions page) and an Excel workbook (one sheet per table, definitions, per-patent lists).

Both are drawn from `service.build_dashboard`, so a report says what the page says. The PDF uses
reportlab's built-in CID font STSong-Light (as the card sheets do) and draws its charts with
reportlab.graphics; nothing is fetched or installed at run time.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as PdfTable
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.dashboard.service import Dashboard, build_dashboard
from shuanglian.dashboard.tables import Table
from shuanglian.deals.models import Contract
from shuanglian.enterprises.models import Enterprise
from shuanglian.figures import BY_KEY, Scope, period_rule, today_in_china
from shuanglian.inventory.models import COOPERATION_INTENTS, Feedback
from shuanglian.patents.models import PATENT_TYPE_ZH, Institution, Patent
from shuanglian.supermarket.cards import _register_font

# Per-patent sheets stop here: an Excel sheet holds ~1M rows, a national pool more than that.
MAX_PATENT_ROWS = 100_000
CHART_TABLES = ("funnel", "by_province", "by_institution", "by_month", "by_industry")
PALETTE = [colors.HexColor(c) for c in ("#1f6feb", "#e8590c", "#2f9e44", "#ae3ec9", "#f59f00")]


def scope_title(session: Session, scope: Scope, *, lang: str = "zh") -> str:
    """ "甲大学 · 江苏 · 2026年11月" — who and when a report covers (in English on an
    English page: "All institutions · Jiangsu · 2026-11")."""
    en = lang == "en"
    parts = []
    if scope.institution_id is not None:
        name = session.scalar(
            select(Institution.name).where(Institution.id == scope.institution_id)
        )
        parts.append(name or f"机构 {scope.institution_id}")
    else:
        parts.append("All institutions" if en else "全平台")
    if scope.region is not None:
        parts.append(scope.region.name_en if en else scope.region.name)
    if scope.period is not None:
        parts.append(scope.period.key if en else scope.period.label)
    else:
        parts.append("All time" if en else "累计（截至今日）")
    return " · ".join(parts)


def report_data(session: Session, *, scope: Scope, today: date | None = None) -> dict[str, Any]:
    """The report as plain data (`shuanglian report --json`)."""
    board = build_dashboard(session, scope=scope, today=today)
    return {
        "scope": {
            "institution_id": scope.institution_id,
            "region": scope.region.code if scope.region else None,
            "period": scope.period.key if scope.period else None,
            "title": scope_title(session, scope),
        },
        "figures": {k: _json(v) for k, v in board.cards.items()},
        "tables": {
            k: {"columns": t.headings(), "rows": [[_json(v) for v in r] for r in t.rows]}
            for k, t in board.tables.items()
        },
    }


def _json(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# --------------------------------------------------------------------------- PDF


def _styles() -> dict[str, ParagraphStyle]:
    font = _register_font()
    return {
        "h1": ParagraphStyle("h1", fontName=font, fontSize=18, leading=24, spaceAfter=6),
        "h2": ParagraphStyle("h2", fontName=font, fontSize=13, leading=18, spaceBefore=8),
        "p": ParagraphStyle("p", fontName=font, fontSize=9, leading=13),
        "small": ParagraphStyle(
            "s", fontName=font, fontSize=7.5, leading=10, textColor=colors.grey
        ),
    }


def _pdf_table(rows: list[list[str]], widths: list[float] | None = None) -> PdfTable:
    table = PdfTable(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), _register_font(), 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e7eef9")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b8c4")),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _chart(table: Table, width: float = 170 * mm, height: float = 70 * mm) -> Drawing | None:
    """A reportlab.graphics drawing of the table's chart series (top 15 categories)."""
    rows = table.rows[:15]
    if not rows:
        return None
    index = {c.key: i for i, c in enumerate(table.columns)}
    keys = [k for k in table.chart_series() if k in index]
    data = [[float(r[index[k]] or 0) for r in rows] for k in keys]
    if not any(any(v for v in series) for series in data):
        return None
    font = _register_font()
    names = [str(r[0])[:12] for r in rows]
    drawing = Drawing(width, height)
    chart: Any
    if table.chart == "line":
        chart = HorizontalLineChart()
    elif table.chart == "funnel":
        chart = HorizontalBarChart()
        names, data = names[::-1], [series[::-1] for series in data]
    else:
        chart = VerticalBarChart()
    chart.x, chart.y = 40, 30
    chart.width, chart.height = width - 60, height - 45
    chart.data = data
    chart.categoryAxis.categoryNames = names
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 6
    chart.valueAxis.valueMin = 0
    if table.chart not in ("line", "funnel"):
        chart.categoryAxis.labels.angle = 30
        chart.categoryAxis.labels.boxAnchor = "ne"
    for i in range(len(data)):
        if table.chart == "line":
            chart.lines[i].strokeColor = PALETTE[i % len(PALETTE)]
        else:
            chart.bars[i].fillColor = PALETTE[i % len(PALETTE)]
    drawing.add(chart)
    legend = "  ".join(f"■ {table.columns[index[k]].label}" for k in keys)
    drawing.add(String(40, height - 10, legend, fontName=font, fontSize=7))
    return drawing


def report_pdf(session: Session, *, scope: Scope, today: date | None = None) -> bytes:
    """The report as an A4 PDF: figures, charts with their tables, a definitions page."""
    today = today or today_in_china()
    board = build_dashboard(session, scope=scope, today=today)
    st = _styles()
    title = scope_title(session, scope)
    story: list[Any] = [
        Paragraph("科技成果转化数据报告", st["h1"]),
        Paragraph(title, st["h2"]),
        Paragraph(f"生成于 {datetime.now():%Y-%m-%d %H:%M}；统计口径见末页“指标定义”。",
                  st["small"]),
        Spacer(1, 4 * mm),
        Paragraph("核心指标", st["h2"]),
    ]  # fmt: skip
    cells = [[BY_KEY[k].label, _fmt(v)] for k, v in board.cards.items()]
    half = (len(cells) + 1) // 2
    left, right = cells[:half], cells[half:] + [["", ""]] * (half - len(cells[half:]))
    story.append(
        _pdf_table(
            [["指标", "数值", "指标", "数值"]] + [a + b for a, b in zip(left, right, strict=True)],
            [55 * mm, 30 * mm, 55 * mm, 30 * mm],
        )  # fmt: skip
    )
    for key, table in board.tables.items():
        story.append(Paragraph(table.title, st["h2"]))
        if table.note:
            story.append(Paragraph(table.note, st["small"]))
        if key in CHART_TABLES:
            drawing = _chart(table)
            if drawing is not None:
                story.append(drawing)
        rows = [table.headings()] + [[_fmt(v) for v in r] for r in table.rows[:40]]
        if len(rows) == 1:
            rows.append(["（无数据）"] + [""] * (len(table.columns) - 1))
        story.append(_pdf_table(rows))
        if len(table.rows) > 40:
            story.append(
                Paragraph(
                    f"仅列前 40 行，共 {len(table.rows)} 行；完整数据见 Excel 版。", st["small"]
                )
            )
    story += [PageBreak(), Paragraph("指标定义", st["h1"])]
    defs = [["指标", "定义", "按期统计"]]
    for key in board.cards:
        f = BY_KEY[key]
        defs.append([f.label, Paragraph(f.definition, st["p"]), period_rule(f)])
    story.append(_pdf_table(defs, [40 * mm, 110 * mm, 22 * mm]))
    story.append(Spacer(1, 3 * mm))
    story.append(
        Paragraph(
            "“已转化”指统计期内在平台上签订技术合同（转让、许可、开放许可、作价入股）的专利，"
            "不含平台外的历史转让、许可记录。期末存量指标统计截至统计期末的数量，"
            "期内发生指标统计统计期内发生的数量；时间按北京时间。",
            st["p"],
        )
    )
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
        bottomMargin=15 * mm, title=f"科技成果转化数据报告 {title}", author="shuanglian",
    )  # fmt: skip
    doc.build(story)
    return out.getvalue()


# --------------------------------------------------------------------------- Excel


def _sheet_name(text: str, used: set[str]) -> str:
    name = "".join(ch for ch in text if ch not in "[]:*?/\\")[:31]
    base, n = name, 2
    while name in used:
        name = f"{base[:28]}({n})"
        n += 1
    used.add(name)
    return name


def _patent_lists(session: Session, scope: Scope) -> list[tuple[str, list[str], Any]]:
    """Per-patent lists: patents signed in the scope, patents with a cooperation intent."""
    inst_filter = []
    if scope.institution_id is not None:
        inst_filter.append(Patent.institution_id == scope.institution_id)
    if scope.region is not None:
        ids = select(Institution.id).where(Institution.region.like(scope.region.short + "%"))
        inst_filter.append(Patent.institution_id.in_(ids))
    from shuanglian.figures import in_range

    period = scope.period
    signed = (
        select(Patent.application_number, Patent.title, Patent.patent_type, Institution.name,
               Enterprise.name, Contract.kind, Contract.signed_on, Contract.amount)
        .join(Contract, Contract.patent_id == Patent.id)
        .join(Enterprise, Enterprise.id == Contract.enterprise_id)
        .outerjoin(Institution, Institution.id == Patent.institution_id)
        .where(*inst_filter,
               *(in_range(Contract.signed_on, period.start, period.end) if period else []))
        .order_by(Contract.signed_on, Contract.id)
        .limit(MAX_PATENT_ROWS)
    )  # fmt: skip
    intents = (
        select(Patent.application_number, Patent.title, Patent.patent_type, Institution.name,
               func.count(Feedback.id), func.max(Feedback.created_at))
        .join(Feedback, Feedback.patent_id == Patent.id)
        .outerjoin(Institution, Institution.id == Patent.institution_id)
        .where(Feedback.intent.in_(COOPERATION_INTENTS), *inst_filter,
               *(in_range(Feedback.created_at, period.start, period.end) if period else []))
        .group_by(Patent.id, Patent.application_number, Patent.title, Patent.patent_type,
                  Institution.name)
        .order_by(Patent.id)
        .limit(MAX_PATENT_ROWS)
    )  # fmt: skip
    return [
        ("签约专利", ["申请号", "名称", "类型", "机构", "企业", "合同类型", "签约日期",
                      "金额（万元）"], session.execute(signed)),
        ("有合作意向的专利", ["申请号", "名称", "类型", "机构", "意向企业数", "最近反馈"],
         session.execute(intents)),
    ]  # fmt: skip


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, Decimal):
        return float(value)
    return value


def report_xlsx(session: Session, *, scope: Scope, today: date | None = None) -> bytes:
    """The report as a workbook: 核心指标, one sheet per table, per-patent lists, 指标定义."""
    board: Dashboard = build_dashboard(session, scope=scope, today=today)
    wb = Workbook(write_only=True)
    used: set[str] = set()
    ws = wb.create_sheet(_sheet_name("核心指标", used))
    ws.append([scope_title(session, scope)])
    ws.append(["指标", "数值", "按期统计"])
    for key, value in board.cards.items():
        ws.append([BY_KEY[key].label, _cell(value), period_rule(BY_KEY[key])])
    for table in board.tables.values():
        ws = wb.create_sheet(_sheet_name(table.title, used))
        ws.append(table.headings())
        for row in table.rows:
            ws.append([_cell(v) for v in row])
        if table.note:
            ws.append([])
            ws.append([table.note])
    for name, headings, rows in _patent_lists(session, scope):
        ws = wb.create_sheet(_sheet_name(name, used))
        ws.append(headings)
        for row in rows:
            values = list(row)
            values[2] = PATENT_TYPE_ZH.get(values[2] or "", values[2])
            ws.append([_cell(v) for v in values])
    ws = wb.create_sheet(_sheet_name("指标定义", used))
    ws.append(["指标", "Figure", "定义", "Definition", "按期统计"])
    for key in board.cards:
        f = BY_KEY[key]
        ws.append([f.label, f.label_en, f.definition, f.definition_en, period_rule(f)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def table_xlsx(table: Table, *, lang: str = "zh") -> bytes:
    """One dashboard table as a workbook (a chart's Excel download)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_name(table.title_in(lang), set()))
    ws.append(table.headings(lang))
    for row in table.rows_in(lang):
        ws.append([_cell(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
