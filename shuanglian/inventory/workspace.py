"""The inventory's Excel round trips as the web workspaces offer them (templates and uploads).

The self-assessment and feedback workbooks are written and read by `inventory.importers`, the
same functions `shuanglian inventory assess|feedback template|import` call. These wrappers fix
whose data a web user works on before any file is touched: staff their own institution (an
admin names one), enterprise users their own enterprise (an admin names one). The importers
then check every row again (`save_self_assessment`, `submit_feedback`), so a row about another
institution's patent or another enterprise's push is rejected with its row number.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.enterprises.service import get_enterprise
from shuanglian.errors import DomainError, NotFound
from shuanglian.importing import ImportReport
from shuanglian.inventory.importers import (
    import_assessments,
    import_feedback,
    write_assessment_template,
    write_feedback_template,
)
from shuanglian.inventory.service import get_batch
from shuanglian.patents.workspace import workspace_institution


def write_institution_assessment_template(
    session: Session,
    *,
    actor: User | None,
    path: Path,
    institution_id: int | None = None,
    batch_id: int | None = None,
) -> int:
    """Write the self-assessment workbook of one batch (or of every item awaiting it)."""
    institution = workspace_institution(session, actor=actor, institution_id=institution_id)
    if batch_id is not None:
        batch = get_batch(session, actor=actor, batch_id=batch_id)
        if batch.institution_id != institution.id:
            raise NotFound(f"盘点批次 {batch_id} 不存在 (batch not found)")
    return write_assessment_template(
        session, actor=actor, path=path, batch_id=batch_id, institution_id=institution.id
    )


def import_assessment_workbook(
    session: Session,
    *,
    actor: User | None,
    path: Path,
    submit: bool = True,
    dry_run: bool = False,
) -> ImportReport:
    """Read a filled self-assessment workbook as this staff member; the caller commits."""
    user = perm.require_role(actor, perm.INSTITUTION_STAFF)
    return import_assessments(session, actor=user, path=path, submit=submit, dry_run=dry_run)


def workspace_enterprise(session: Session, *, actor: User | None, enterprise_id: int | None) -> int:
    """The enterprise a feedback action is for: the user's own when left out; admin names one."""
    user = perm.require_role(actor, perm.ENTERPRISE_USER)
    if enterprise_id is None:
        enterprise_id = user.enterprise_id
    if enterprise_id is None:
        raise DomainError("请指定企业 enterprise_id (give enterprise_id)", field="enterprise_id")
    perm.require_enterprise(user, enterprise_id)
    return get_enterprise(session, enterprise_id=enterprise_id).id


def write_enterprise_feedback_template(
    session: Session, *, actor: User | None, path: Path, enterprise_id: int | None = None
) -> int:
    """Write the feedback workbook listing every patent pushed to the enterprise."""
    eid = workspace_enterprise(session, actor=actor, enterprise_id=enterprise_id)
    return write_feedback_template(session, actor=actor, enterprise_id=eid, path=path)


def import_feedback_workbook(
    session: Session,
    *,
    actor: User | None,
    path: Path,
    enterprise_id: int | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Read a filled feedback workbook for the enterprise; the caller commits."""
    eid = workspace_enterprise(session, actor=actor, enterprise_id=enterprise_id)
    return import_feedback(session, actor=actor, path=path, enterprise_id=eid, dry_run=dry_run)
