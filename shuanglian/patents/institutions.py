"""Institutions as an administrator keeps them: add, rename, say what kind and where.

Importers still create an institution the first time a file names it (the operator's CLI);
these are the deliberate edits behind `/admin/orgs`, each logged in the audit trail.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.audit import record_audit, snapshot
from shuanglian.errors import DomainError, NotFound
from shuanglian.patents.models import Institution

# What an institution is, in words (Institution.kind holds the key).
INSTITUTION_KINDS: dict[str, tuple[str, str]] = {
    "university": ("高等院校", "University"),
    "institute": ("科研院所", "Research institute"),
    "hospital": ("医疗卫生机构", "Hospital"),
    "enterprise": ("企业", "Enterprise"),
    "other": ("其他", "Other"),
}


def kind_label(kind: str | None, lang: str = "zh") -> str:
    """The kind's name for people (the key only for a kind the table lacks)."""
    pair = INSTITUTION_KINDS.get(kind or "")
    if pair is None:
        return kind or ""
    return pair[1] if lang == "en" else pair[0]


def _clean(
    session: Session, *, name: str, kind: str, region: str | None, skip_id: int | None
) -> tuple[str, str, str | None]:
    name = (name or "").strip()
    if not name:
        raise DomainError("机构名称不能为空 (institution name required)", field="name")
    if len(name) > 200:
        raise DomainError("机构名称最多 200 字 (at most 200 characters)", field="name")
    if kind not in INSTITUTION_KINDS:
        names = "、".join(zh for zh, _ in INSTITUTION_KINDS.values())
        raise DomainError(f"机构类型须为：{names} (choose a kind)", field="kind")
    region = (region or "").strip() or None
    if region is not None and len(region) > 100:
        raise DomainError("地区最多 100 字 (at most 100 characters)", field="region")
    clash = session.scalar(select(Institution.id).where(Institution.name == name))
    if clash is not None and clash != skip_id:
        raise DomainError(f"已有名为“{name}”的机构 (an institution has this name)", field="name")
    return name, kind, region


def create_institution(
    session: Session,
    *,
    actor: User | None,
    name: str,
    kind: str = "university",
    region: str | None = None,
) -> Institution:
    """Add an institution before any of its patents are imported (so staff can be created)."""
    perm.require_admin(actor)
    name, kind, region = _clean(session, name=name, kind=kind, region=region, skip_id=None)
    institution = Institution(name=name, kind=kind, region=region)
    session.add(institution)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="institution.create",
        subject=institution,
        detail={"text": name, "before": None, "after": snapshot(institution)},
    )
    return institution


def update_institution(
    session: Session,
    *,
    actor: User | None,
    institution_id: int,
    name: str,
    kind: str,
    region: str | None = None,
) -> Institution:
    """Rename an institution or correct its kind and region."""
    perm.require_admin(actor)
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise NotFound(f"机构 {institution_id} 不存在 (institution not found)")
    name, kind, region = _clean(
        session, name=name, kind=kind, region=region, skip_id=institution.id
    )
    before = snapshot(institution)
    institution.name, institution.kind, institution.region = name, kind, region
    record_audit(
        session,
        actor=actor,
        action="institution.update",
        subject=institution,
        detail={"before": before, "after": snapshot(institution)},
    )
    return institution
