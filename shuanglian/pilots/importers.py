"""Import pilot platforms from a spreadsheet (.xlsx or CSV): one platform per row.

Headers are Chinese (English aliases accepted). Lists (行业代码, IPC分类, 服务) are separated by
、 , ; or spaces; 级别 and 服务 take the Chinese words (国家级, 中试, …) or the codes. A row that
names an existing platform updates it; a bad row is reported with its number, the column as the
file names it and what to fix, and the other rows still load.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.errors import DomainError
from shuanglian.importing import ImportReport
from shuanglian.pilots import service
from shuanglian.pilots.models import LEVELS, SERVICES, PilotPlatform
from shuanglian.tabular import find_columns, read_table, require_columns

REQUIRED = {
    "name": ("平台名称", "名称", "name"),
    "operator": ("运营单位", "依托单位", "operator"),
    "level": ("级别", "level"),
    "province": ("省份", "所在省份", "province"),
}
OPTIONAL = {
    "city": ("城市", "city"),
    "industries": ("行业代码", "行业", "industries"),
    "ipc_classes": ("IPC分类", "IPC", "ipc"),
    "services": ("服务", "服务内容", "services"),
    "equipment": ("设备", "主要设备", "equipment"),
    "capacity": ("产能", "可同时承接任务数", "capacity"),
    "fees": ("收费", "收费标准", "fees"),
    "description": ("简介", "description"),
    "contact_name": ("联系人", "contact"),
    "contact_phone": ("电话", "联系电话", "phone"),
    "contact_email": ("邮箱", "email"),
    "open_booking": ("开放预约", "open_booking"),
}
_LEVEL_WORDS = {zh: code for code, (zh, _en) in LEVELS.items()}
_SERVICE_WORDS = {zh: code for code, (zh, _en) in SERVICES.items()}
_SPLIT = re.compile(r"[、,，;；\s/]+")


def _split(text: str) -> list[str]:
    return [p for p in _SPLIT.split(text or "") if p]


def import_pilots(
    session: Session,
    *,
    path: Path,
    is_demo: bool = False,
    actor: User | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Load or update platforms from a file; returns counts and the rejected rows. An admin
    uploading it is the audit entry's actor (the CLI runs as the system); with `dry_run` the
    caller rolls the session back (the report says what a real run would do)."""
    if actor is not None:
        perm.require_role(actor, perm.ADMIN)
    header, rows = read_table(path)
    cols = require_columns(header, REQUIRED)
    cols.update(find_columns(header, OPTIONAL))
    report = ImportReport(dry_run=dry_run)
    for number, cells in rows:

        def get(f: str, cells: dict[str, str] = cells) -> str:
            return cells.get(cols[f], "").strip() if f in cols else ""

        level_raw = get("level")
        level = _LEVEL_WORDS.get(level_raw, level_raw.lower())
        services = [_SERVICE_WORDS.get(s, s.lower()) for s in _split(get("services"))] or ["pilot"]
        capacity_raw = get("capacity") or "1"
        if not capacity_raw.isdigit():
            report.reject(
                number,
                cols.get("capacity", "产能"),
                "产能须为正整数 (capacity must be a whole number)",
            )
            continue
        data = service.PlatformInput(
            name=get("name"),
            operator=get("operator"),
            level=level,
            province=get("province"),
            city=get("city") or None,
            industries=_split(get("industries")),
            ipc_classes=_split(get("ipc_classes")),
            services=services,
            equipment=get("equipment"),
            capacity=int(capacity_raw),
            fees=get("fees"),
            description=get("description"),
            contact_name=get("contact_name") or None,
            contact_phone=get("contact_phone") or None,
            contact_email=get("contact_email") or None,
            open_booking=get("open_booking") not in ("否", "no", "false", "0"),
        )
        try:
            values = service.check_platform_input(data)
        except DomainError as exc:
            column = cols.get(exc.field or "", exc.field or "")
            report.reject(number, column, exc.message)
            continue
        existing = session.scalar(select(PilotPlatform).where(PilotPlatform.name == values["name"]))
        if existing is None:
            session.add(PilotPlatform(is_demo=is_demo, **values))
            report.inserted += 1
        elif any(getattr(existing, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(existing, key, value)
            report.updated += 1
        else:
            report.unchanged += 1
        session.flush()
    from shuanglian.audit import record_audit

    record_audit(
        session,
        actor=actor,
        action="pilot.import",
        subject=None,
        detail={"file": path.name, **{k: v for k, v in report.as_dict().items() if k != "errors"}},
    )
    return report
