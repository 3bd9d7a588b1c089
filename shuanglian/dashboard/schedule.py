"""Scheduled reports: `shuanglian report schedule` (cron) writes last month's — and, after a
quarter, last quarter's — report for the platform and for every institution, as PDF and Excel,
under SHUANGLIAN_HOME/reports/. Running it again writes nothing new (files that exist are
kept), so cron may run it daily; the dashboards list the latest files for download."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.config import Settings
from shuanglian.dashboard.report import report_pdf, report_xlsx
from shuanglian.errors import NotFound, PermissionDenied
from shuanglian.figures import Period, Scope, _add_months, parse_period
from shuanglian.patents.models import Institution, Patent

NAME = re.compile(r"^(\d{4}(?:-\d{2}|Q[1-4])?)_(all|inst-(\d+))\.(pdf|xlsx)$")


def reports_dir(settings: Settings) -> Path:
    return settings.home / "reports"


def due_periods(today: date) -> list[Period]:
    """Last complete month, plus last complete quarter when that month ended one."""
    last = _add_months(today.year, today.month, -1)
    periods = [parse_period(f"{last.year}-{last.month:02d}")]
    if last.month % 3 == 0:
        periods.append(parse_period(f"{last.year}Q{last.month // 3}"))
    return periods


@dataclass
class ScheduleResult:
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def generate_scheduled(
    session: Session,
    settings: Settings,
    *,
    today: date,
    periods: list[Period] | None = None,
    force: bool = False,
) -> ScheduleResult:
    """Write the due reports that are missing (all of them with `force`)."""
    out = reports_dir(settings)
    out.mkdir(parents=True, exist_ok=True)
    result = ScheduleResult()
    owners = select(Patent.institution_id).where(Patent.institution_id.is_not(None)).distinct()
    institutions = list(session.scalars(select(Institution.id).where(Institution.id.in_(owners))
                                        .order_by(Institution.id)))  # fmt: skip
    for period in periods or due_periods(today):
        for inst in [None, *institutions]:
            stem = f"{period.key}_{'all' if inst is None else f'inst-{inst}'}"
            scope = Scope(institution_id=inst, period=period)
            for suffix, make in ((".pdf", report_pdf), (".xlsx", report_xlsx)):
                path = out / f"{stem}{suffix}"
                if path.exists() and not force:
                    result.kept.append(path.name)
                    continue
                tmp = path.with_suffix(suffix + ".part")
                tmp.write_bytes(make(session, scope=scope, today=today))
                tmp.replace(path)  # a half-written file is never listed
                result.written.append(path.name)
    return result


def _may_see(user: User | None, owner: str) -> bool:
    if perm.is_admin(user):
        return True
    return (
        user is not None
        and user.role == perm.INSTITUTION_STAFF
        and owner == f"inst-{user.institution_id}"
    )


def list_reports(settings: Settings, *, user: User | None, limit: int = 20) -> list[str]:
    """The newest report files this user may download, newest period first."""
    folder = reports_dir(settings)
    if not folder.is_dir():
        return []
    names = [p.name for p in folder.iterdir() if (m := NAME.match(p.name)) and _may_see(user, m[2])]
    return sorted(names, reverse=True)[:limit]


def report_file(settings: Settings, *, user: User | None, name: str) -> Path:
    """The file behind a download link, if it exists and the user may see it."""
    perm.require_login(user)
    m = NAME.match(name)
    path = reports_dir(settings) / name
    if m is None or not path.is_file():
        raise NotFound("报告不存在 (report not found)")
    if not _may_see(user, m[2]):
        raise PermissionDenied(perm.MSG_INSTITUTION)
    return path
