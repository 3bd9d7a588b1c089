"""The institution workspace's imports page, and what a person gets back from an import: the
report page, its errors as CSV, templates.

The report page shows the counts and the first `ERROR_ROWS_SHOWN` rejected rows exactly as
the importer's `ImportReport` has them (row number, the file's column, reason); a 30,000-row
file with thousands of bad rows would make a page nobody can scroll, so the full list is
written once to `HOME/uploads/errors/<user id>-<random token>.csv` and offered as a download
to that user only, for `ERROR_CSV_KEEP_S`. The report holds only its first errors in memory
and the rest in a temporary file, so the list is copied over one row at a time. Workbook
templates are written to a temporary file and deleted once sent.
"""

from __future__ import annotations

import csv
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.config import Settings
from shuanglian.db import after_commit, refresh_statistics
from shuanglian.errors import DomainError, NotFound
from shuanglian.importing import ImportReport
from shuanglian.spreadsheet import csv_text
from shuanglian.web.deps import CurrentUser, SessionDep, SettingsDep
from shuanglian.web.forms import form_errors, form_status
from shuanglian.web.schemas import XLSX_MEDIA_TYPE
from shuanglian.web.templating import render
from shuanglian.web.uploads import received_file

router = APIRouter(include_in_schema=False)

ERROR_ROWS_SHOWN = 200
ERROR_CSV_KEEP_S = 24 * 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def _errors_dir(settings: Settings) -> Path:
    return settings.upload_dir / "errors"


def save_error_csv(settings: Settings, *, user_id: int, report: ImportReport) -> str | None:
    """Write every rejected row to a CSV only `user_id` may fetch; its token, or None if none.

    UTF-8 with BOM, so Excel on a Chinese Windows opens it without mangling the characters.
    """
    if not report.error_count:
        return None
    folder = _errors_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - ERROR_CSV_KEEP_S
    for old in folder.glob("*.csv"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        except OSError:
            continue
    token = secrets.token_urlsafe(18)
    path = folder / f"{user_id}-{token}.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["行号 (row)", "列 (field)", "原因 (reason)"])
        for error in report.all_errors():
            writer.writerow([error.row, csv_text(error.field), csv_text(error.message)])
    report.close()
    return token


def errors_csv_href(token: str) -> str:
    """Where the owner of an error list downloads it."""
    return f"/workspace/imports/errors/{token}.csv"


def attach_error_csv(settings: Settings, *, user_id: int, report: ImportReport) -> ImportReport:
    """Save the full error list for an API answer, which carries only the first errors, and
    put its download link in `report.errors_csv`."""
    token = save_error_csv(settings, user_id=user_id, report=report)
    report.errors_csv = errors_csv_href(token) if token else None
    return report


def error_csv_path(settings: Settings, *, user_id: int, token: str) -> Path:
    """The user's own error CSV for `token`; NotFound for anyone else's, or an expired one."""
    path = _errors_dir(settings) / f"{user_id}-{token}.csv"
    if not _TOKEN.fullmatch(token) or not path.is_file():
        raise NotFound("错误清单不存在或已过期 (error list not found or expired)")
    return path


def finish_import(session: Session, report: ImportReport, *, engine: Engine | None = None) -> None:
    """Undo a dry run; a real import is kept by the request's commit, after which the planner
    statistics are refreshed (best effort) when rows were added."""
    if report.dry_run:
        session.rollback()
        return
    if engine is not None and report.inserted:
        after_commit(session, lambda: _refresh_statistics_quietly(engine))


def _refresh_statistics_quietly(engine: Engine) -> None:
    # Best effort, as at start-up: another writer may hold SQLite's lock for a moment.
    with suppress(OperationalError):
        refresh_statistics(engine, wait_ms=200)


def render_import_result(
    request: Request,
    *,
    settings: Settings,
    user_id: int,
    report: ImportReport,
    title: tuple[str, str],
    filename: str,
    back: str,
) -> HTMLResponse:
    """The result page: counts, the first rejected rows, and the full list as a download.

    `title` is (Chinese, English), shown in the page's language.
    """
    token = save_error_csv(settings, user_id=user_id, report=report)
    shown = sorted(report.errors, key=lambda e: e.row)[:ERROR_ROWS_SHOWN]
    return render(
        request,
        "workspace/import_result.html",
        {
            "title": title,
            "filename": filename,
            "report": report,
            "errors": shown,
            "error_total": report.error_count,
            "errors_csv": errors_csv_href(token) if token else None,
            "kept": report.inserted + report.updated + report.unchanged,
            "warnings": sorted(report.warnings, key=lambda e: e.row)[:ERROR_ROWS_SHOWN],
            "warning_total": len(report.warnings),
            "back": back,
        },
    )


def workbook_response(
    settings: Settings, *, filename: str, write: Callable[[Path], object]
) -> FileResponse:
    """Send the workbook `write(path)` produces as a download, deleting the file afterwards."""
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="tpl-", suffix=".xlsx", dir=settings.upload_dir)
    os.close(handle)
    path = Path(name)
    try:
        write(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(
        path,
        media_type=XLSX_MEDIA_TYPE,
        filename=filename,
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


def imports_href(institution_id: int | None) -> str:
    """The workspace's imports page (an admin's for one institution)."""
    suffix = f"?institution_id={institution_id}" if institution_id is not None else ""
    return "/workspace/institution/imports" + suffix


def imports_page(
    request: Request,
    session: Session,
    user: User | None,
    institution_id: int | None,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """导入与自评表: the patent upload, the self-assessment template per batch and its upload.

    One page for two domains' uploads (`patents.pages`, `inventory.pages`), so a refused
    upload of either comes back here with its message beside the field.
    """
    from shuanglian.inventory.service import batch_progress, list_batches
    from shuanglian.patents.service import list_institutions
    from shuanglian.patents.workspace import UPLOAD_FORMATS, workspace_institution

    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    context: dict[str, Any] = {
        "institution": None,
        "institutions": list_institutions(session, limit=500) if user.role == perm.ADMIN else [],
        "errors": errors or {},
        "form": form or {},
        "formats": UPLOAD_FORMATS,
        "max_upload_mb": request.app.state.settings.max_upload_mb,
        "max_upload_bytes": request.app.state.settings.max_upload_bytes,
    }
    if user.role == perm.ADMIN and institution_id is None:
        # No form on the chooser page to show a refusal beside: it goes on top instead.
        context["flashes"] = list((errors or {}).values())
        return render(request, "workspace/imports.html", context, status_code=status_code)
    institution = workspace_institution(session, actor=user, institution_id=institution_id)
    batches = list_batches(session, actor=user, institution_id=institution.id, limit=100)
    context["institution"] = institution
    context["progress"] = [batch_progress(session, actor=user, batch_id=b.id) for b in batches]
    return render(request, "workspace/imports.html", context, status_code=status_code)


@router.get("/workspace/institution/imports", response_class=HTMLResponse)
def institution_imports_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    institution_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> HTMLResponse:
    """Upload forms of the institution workspace (staff: own institution; admin picks one)."""
    return imports_page(request, session, user, institution_id)


@router.get("/workspace/imports/errors/{token}.csv")
def import_errors_csv(token: str, settings: SettingsDep, user: CurrentUser) -> FileResponse:
    """The full list of rejected rows of an import this user just ran."""
    user = perm.require_login(user)
    path = error_csv_path(settings, user_id=user.id, token=token)
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename="import-errors.csv")


def workspace_upload(
    request: Request,
    session: Session,
    *,
    settings: Settings,
    user: User | None,
    institution_id: int | None,
    file: UploadFile | None,
    allowed: tuple[str, ...],
    run: Callable[[Path], ImportReport],
    fields: tuple[str, ...],
    prefix: str,
    form: dict[str, Any],
    title: tuple[str, str],
    engine: Engine | None = None,
) -> HTMLResponse:
    """One workspace upload: receive the file, `run` the import on it, answer with the result
    page, or with the imports page and the refusal under the right field (`prefix` + field).

    The caller has already checked who may upload where, before the file was copied anywhere.
    """
    try:
        with received_file(file, settings=settings, allowed=allowed) as path:
            report = run(path)
            filename = path.name
    except DomainError as exc:
        errors = form_errors(session, exc, default="file", fields=fields, prefix=prefix)
        return imports_page(
            request,
            session,
            user,
            institution_id,
            errors=errors,
            form=form,
            status_code=form_status(exc),
        )
    finish_import(session, report, engine=engine)
    assert user is not None  # the caller's permission check refused anonymous visitors
    return render_import_result(
        request,
        settings=settings,
        user_id=user.id,
        report=report,
        title=title,
        filename=filename,
        back=imports_href(institution_id),
    )
