"""The verification report (验题报告): an A4 PDF in Chinese for a verified challenge.

Chinese text uses reportlab's built-in CID font STSong-Light, as the supermarket's card sheets
do, so no font file ships with the package. The report lists every run, so a failed run and
the re-run that passed are both on record.
"""

from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.challenges import service
from shuanglian.challenges.models import Application, Verification
from shuanglian.challenges.states import CHALLENGE_MACHINE
from shuanglian.errors import DomainError
from shuanglian.supermarket.cards import _register_font


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def verification_report_pdf(session: Session, *, actor: User | None, challenge_id: int) -> bytes:
    """The report of a challenge's verification runs, for its parties (bytes of a PDF)."""
    ch = service.get_challenge(session, challenge_id=challenge_id, actor=actor)
    runs = service.list_verifications(session, actor=actor, challenge_id=ch.id)
    if not runs:
        raise DomainError("尚无验题记录 (no verification recorded yet)", field="status")
    font = _register_font()
    base = ParagraphStyle("body", fontName=font, fontSize=10, leading=15)
    title = ParagraphStyle("title", parent=base, fontSize=18, leading=26, alignment=1)
    head = ParagraphStyle("head", parent=base, fontSize=12, leading=18, spaceBefore=8)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"验题报告 {ch.title}",
        author="双链 shuanglian",
    )
    final = runs[-1]
    team = session.get(Application, final.application_id) if final.application_id else None
    rows = [
        ["榜单", ch.title],
        ["发榜企业", service.enterprise_label(session, actor, ch)],
        ["揭榜团队", team.team_name if team else "—"],
        ["榜额（万元）", service._num(ch.budget)],
        ["交付期限", str(ch.delivery_deadline)],
        ["当前状态", CHALLENGE_MACHINE.state_label(ch.status)],
        ["最终结论", "通过" if final.verdict == "passed" else "未通过"],
    ]
    story: list = [Paragraph("验 题 报 告", title), Spacer(1, 4 * mm)]
    story.append(
        _table(
            [[Paragraph(_esc(a), base), Paragraph(_esc(b), base)] for a, b in rows],
            [35 * mm, 139 * mm],
        )
    )
    for ver in runs:
        story.append(Paragraph(_esc(_run_heading(ver)), head))
        data = [
            [
                Paragraph(h, base)
                for h in ("指标", "目标", "测量值", "结果", "日期", "地点", "验证人")
            ]
        ]
        for m in ver.measurements:
            ind = m.indicator
            data.append(
                [
                    Paragraph(_esc(ind.name), base),
                    Paragraph(_esc(service.requirement_text(ind)), base),
                    Paragraph(_esc(f"{service._num(m.value)} {ind.unit}"), base),
                    Paragraph("通过" if m.passed else "未通过", base),
                    Paragraph(str(m.measured_on), base),
                    Paragraph(_esc(m.place), base),
                    Paragraph(_esc(m.verifier), base),
                ]
            )
        widths = [30 * mm, 26 * mm, 26 * mm, 16 * mm, 22 * mm, 32 * mm, 22 * mm]
        story.append(_table(data, widths, header=True))
        if ver.note:
            story.append(Paragraph(_esc(f"说明：{ver.note}"), base))
    story.append(Spacer(1, 6 * mm))
    story.append(
        Paragraph(
            "本报告由双链平台根据录入的测量值生成；各指标按目标值与比较方式自动判定，"
            "全部指标达标方为通过。",
            base,
        )
    )
    doc.build(story)
    return out.getvalue()


def _run_heading(ver: Verification) -> str:
    verdict = "通过" if ver.verdict == "passed" else "未通过"
    return f"第 {ver.run} 次验题（{ver.recorded_at:%Y-%m-%d}）：{verdict}"


def _table(data: list, widths: list[float], *, header: bool = False) -> Table:
    table = Table(data, colWidths=widths)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")))
    table.setStyle(TableStyle(style))
    return table
