"""Uploads that expand: a tiny workbook declaring millions of cells, a CSV of endless bad rows.

Before the limits, the workbook below (a few kilobytes) made openpyxl build millions of cells
in memory and the CSV's row errors all travelled in memory and in the answer. Each test here
measures the Python heap the request used (tracemalloc) against a bound far below what the
unbounded code needed, and looks at the answer a person gets.
"""

from __future__ import annotations

import csv
import io
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.errors import ImportFailed
from shuanglian.importing import ERRORS_KEPT, ImportReport
from shuanglian.tabular import TableLimits, TableTooLarge, read_table, table_limits
from tests.web.factories import csrf_of, login, make_institution, make_user
from tests.web.upload_helpers import XLSX, upload_leftovers

API = "/api/v1/patents/upload"
PAGE = "/workspace/institution/imports"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = b"</sheetData></worksheet>"


def workbook_with_sheet(write_rows: Callable[[io.BufferedIOBase], None]) -> bytes:
    """A minimal .xlsx whose one sheet's <sheetData> is what `write_rows` streams into it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_SHEET_HEAD)
            write_rows(sheet)  # type: ignore[arg-type]
            sheet.write(_SHEET_TAIL)
    return buffer.getvalue()


def one_row_of(cells: int) -> Callable[[io.BufferedIOBase], None]:
    def write(sheet: io.BufferedIOBase) -> None:
        sheet.write(b'<row r="1">')
        chunk = b"<c/>" * 100_000
        for _ in range(cells // 100_000):
            sheet.write(chunk)
        sheet.write(b"</row>")

    return write


def _staff(client: TestClient, session: Session) -> str:
    institution = make_institution(session)
    staff = make_user(session, "institution_staff", institution_id=institution.id)
    session.commit()
    login(client, staff)
    return csrf_of(client, PAGE)


def _peak_during(action: Callable[[], object]) -> tuple[object, int]:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_a_workbook_declaring_one_row_of_millions_of_cells_is_refused_in_bounded_memory(
    client: TestClient, db_session: Session, db_settings: Settings
) -> None:
    bomb = workbook_with_sheet(one_row_of(5_000_000))
    assert len(bomb) < 200_000  # 20 MB of sheet XML in a few kilobytes
    token = _staff(client, db_session)

    response, peak = _peak_during(
        lambda: client.post(
            API + "?dry_run=true",
            files={"file": ("bomb.xlsx", bomb, XLSX)},
            headers={"X-CSRF-Token": token},
        )
    )
    assert response.status_code == 413, response.text[:500]  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert "SHUANGLIAN_TABLE_MAX_COLUMNS" in body["error"]["message"]
    assert body["error"]["field"] == "file"
    # Openpyxl held every cell of the row (gigabytes); the scan holds a 256 KiB chunk.
    assert peak < 30 * 2**20, peak
    assert upload_leftovers(db_settings) == []


def test_a_csv_of_many_bad_rows_answers_the_first_errors_a_count_and_a_download(
    client: TestClient, db_session: Session, db_settings: Settings
) -> None:
    rows = 50_000
    content = ("申请号,专利名称\n" + "x,y\n" * rows).encode()
    token = _staff(client, db_session)

    response, peak = _peak_during(
        lambda: client.post(
            API + "?dry_run=true",
            files={"file": ("bad.csv", content, "text/csv")},
            headers={"X-CSRF-Token": token},
        )
    )
    assert response.status_code == 200, response.text[:500]  # type: ignore[attr-defined]
    report = response.json()  # type: ignore[attr-defined]
    assert report["rejected"] == rows and report["error_count"] == rows
    assert len(report["errors"]) == ERRORS_KEPT
    assert [e["row"] for e in report["errors"][:3]] == [2, 3, 4]
    assert len(response.content) < 100_000  # type: ignore[attr-defined]
    # 50,000 errors held as objects took ~25 MB (and their JSON ~10 MB more).
    assert peak < 12 * 2**20, peak
    # Every error is in the downloadable list, in file order.
    download = client.get(report["errors_csv"])
    assert download.status_code == 200
    listed = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert len(listed) == rows + 1
    assert listed[1][0] == "2" and listed[-1][0] == str(rows + 1)
    assert upload_leftovers(db_settings) == []


def test_an_upload_refused_halfway_leaves_no_scratch_folder(
    client: TestClient, db_session: Session, db_settings: Settings
) -> None:
    token = _staff(client, db_session)
    # Refused before the import (content), by the importer (columns), by a limit (rows).
    wide = ("申请号," + ",".join(f"c{i}" for i in range(2000)) + "\n").encode()
    for name, content in (
        ("fake.xlsx", b"not a workbook at all"),
        ("cols.csv", b"a,b\n1,2\n"),
        ("wide.csv", wide),
    ):
        response = client.post(
            API + "?dry_run=true",
            files={"file": (name, content, "text/csv")},
            headers={"X-CSRF-Token": token},
        )
        assert 400 <= response.status_code < 500, (name, response.text[:300])
        assert upload_leftovers(db_settings) == [], name


# --------------------------------------------------------------------------- the reader itself


def test_reader_refuses_each_kind_of_expansion(tmp_path: Path) -> None:
    small = TableLimits(max_part_bytes=2**20, max_columns=10, max_rows=5, max_cells=30)

    def rows_of(count: int, width: int) -> Callable[[io.BufferedIOBase], None]:
        def write(sheet: io.BufferedIOBase) -> None:
            for r in range(1, count + 1):
                cells = "".join(
                    f'<c r="{chr(64 + c)}{r}" t="inlineStr"><is><t>v</t></is></c>'
                    for c in range(1, width + 1)
                )
                sheet.write(f'<row r="{r}">{cells}</row>'.encode())

        return write

    def far_cell(sheet: io.BufferedIOBase) -> None:
        sheet.write(b'<row r="1"><c r="XFD1" t="inlineStr"><is><t>v</t></is></c></row>')

    cases = {
        "rows": (rows_of(6, 2), "TABLE_MAX_ROWS"),
        "cells": (rows_of(5, 7), "TABLE_MAX_CELLS"),
        "far": (far_cell, "TABLE_MAX_COLUMNS"),  # one cell, padded to 16,384 columns
    }
    with table_limits(small):
        for name, (write, setting) in cases.items():
            path = tmp_path / f"{name}.xlsx"
            path.write_bytes(workbook_with_sheet(write))
            with pytest.raises(TableTooLarge) as refused:
                read_table(path)
            assert setting in refused.value.message, name
        fine = tmp_path / "fine.xlsx"
        fine.write_bytes(workbook_with_sheet(rows_of(5, 6)))
        header, rows = read_table(fine)
        assert len(header) == 6 and len(list(rows)) == 4
        big_part = tmp_path / "part.xlsx"
        big_part.write_bytes(workbook_with_sheet(one_row_of(300_000)))  # 1.2 MB of XML
        with pytest.raises(TableTooLarge, match="XLSX_MAX_PART_MB"):
            read_table(big_part)
        long_csv = tmp_path / "long.csv"
        long_csv.write_text("a,b\n" + "1,2\n" * 6)
        header, rows = read_table(long_csv)
        with pytest.raises(TableTooLarge, match="TABLE_MAX_ROWS"):
            list(rows)
    # Outside the block the defaults apply again.
    header, rows = read_table(long_csv)
    assert len(list(rows)) == 6


def test_a_broken_sheet_is_a_clear_import_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(workbook_with_sheet(lambda sheet: sheet.write(b"<row><c></row>")))
    with pytest.raises(ImportFailed, match="not a valid .xlsx"):
        read_table(path)


def test_report_keeps_the_first_errors_and_spills_the_rest_to_disk() -> None:
    report = ImportReport()
    for row in range(2, 2 + ERRORS_KEPT * 3):
        report.reject(row, "申请号", f"错误 {row}")
    assert report.rejected == report.error_count == ERRORS_KEPT * 3
    assert len(report.errors) == ERRORS_KEPT
    assert [e.row for e in report.all_errors()] == list(range(2, 2 + ERRORS_KEPT * 3))
    assert report.as_dict()["error_count"] == ERRORS_KEPT * 3
    report.close()
    assert [e.row for e in report.all_errors()] == [e.row for e in report.errors]
