"""The audit log (操作留痕): one row per state change, reusable by every domain."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.inventory.models import AuditEntry

_SKIP = {"created_at", "updated_at", "password_hash"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: object) -> dict[str, Any]:
    """The column values of an ORM object as JSON-ready data (timestamps and secrets left out)."""
    mapper = inspect(obj).mapper
    return {
        attr.key: _jsonable(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in _SKIP
    }


def record_audit(
    session: Session,
    *,
    actor: User | None,
    action: str,
    obj: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    comment: str | None = None,
) -> AuditEntry:
    """Append one audit entry for `obj` (flushed first so new objects have their id)."""
    session.flush()
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.username if actor is not None else "system",
        action=action,
        object_type=getattr(obj, "__tablename__", type(obj).__name__),
        object_id=getattr(obj, "id", None),
        before=before,
        after=after,
        comment=comment,
    )
    session.add(entry)
    return entry


def audit_trail(session: Session, *, object_type: str, object_id: int) -> list[AuditEntry]:
    """Every audit entry for one object, oldest first."""
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id)
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(stmt))
