"""Builders for the upload tests: real CNIPA rows as files, pages' counts and error tables."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from fastapi import Request
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.patents.numbers import cn_check_digit
from shuanglian.web.app import create_app
from shuanglian.web.deps import get_session
from shuanglian.web.transactions import request_transaction
from tests.patents.factories import CNIPA_HEADER, cnipa_row, read_sample_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SAMPLE = "data/samples/cn_patents_research_institute_sample10.csv"
_COUNT = re.compile(r'data-count="(\w+)">([\d,]+)<')
_ERROR_ROW = re.compile(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>")


def sample_path(shared_dir: Path) -> Path:
    return shared_dir / SAMPLE


def sample_rows(shared_dir: Path) -> list[dict[str, str]]:
    """The ten real CNIPA records of the shared sample."""
    return read_sample_rows(sample_path(shared_dir))


def xlsx_bytes(rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
    header = header or CNIPA_HEADER
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append([row.get(name, "") for name in header])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
    header = header or CNIPA_HEADER
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def app_number(serial: str) -> str:
    """A CN application number with its correct check digit, e.g. for `202310000001`."""
    return f"CN{serial}.{cn_check_digit(serial)}"


def numbered_rows(count: int, *, start: int = 1) -> Iterator[dict[str, str]]:
    """Valid CNIPA rows with distinct, check-digit-correct application numbers."""
    for n in range(start, start + count):
        yield cnipa_row(
            申请号=app_number(f"2023100{n:05d}"),
            公开号="",
            专利名称=f"一种测试用锂电池回收装置{n}",
        )


def counts(html: str) -> dict[str, int]:
    """The counts table of an import result page."""
    return {name: int(value.replace(",", "")) for name, value in _COUNT.findall(html)}


def error_rows(html: str) -> list[tuple[int, str, str]]:
    """The rejected-rows table of an import result page: (row, column, reason)."""
    table = html.partition('class="import-errors"')[2].partition("</table>")[0]
    return [(int(r), f, m) for r, f, m in _ERROR_ROW.findall(table)]


def client_with(db_settings: Settings, db_session: Session, **changes: object) -> TestClient:
    """A client for an app built with some settings changed (limits, batch size)."""
    app = create_app(db_settings.model_copy(update=changes))

    def request_session(request: Request) -> Iterator[Session]:
        # As tests/web/fixtures.py: each request commits or rolls back its own work (a
        # savepoint here), so a refused upload cannot roll back the login's session row.
        db_session.commit()
        yield from request_transaction(request, db_session)

    app.dependency_overrides[get_session] = request_session
    return TestClient(app, raise_server_exceptions=False)


def upload_leftovers(settings: Settings) -> list[Path]:
    """Upload folders still under HOME/uploads (each upload must delete its own)."""
    return list(settings.upload_dir.glob("up-*"))
