"""Patent imports from the institution workspace: staff load their own institution's files.

The page and the JSON API call these functions; the CLI, run by the platform operator, calls
`import_patents` itself. What differs here, and why:

* The institution is never chosen by the file or the form: it is the staff member's own (an
  admin names one). `import_patents` finds an institution by name, so the name handed over is
  that of the checked row, and a row that another institution already holds is rejected
  rather than moved (`claim_from_others=False`).
* Generic CSV needs a column-mapping file, which is a CLI option; a file that is not CNIPA,
  PatentsView or USPTO is refused with the command to use instead.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.errors import DomainError, ImportFailed, NotFound
from shuanglian.importing import ImportReport
from shuanglian.patents.importers import detect_format, import_patents
from shuanglian.patents.models import Institution

# auto-detection plus the formats that need nothing but the file.
UPLOAD_FORMATS = ("auto", "cnipa", "cnki", "patsnap", "patentsview", "uspto-xml")


def workspace_institution(
    session: Session, *, actor: User | None, institution_id: int | None
) -> Institution:
    """The institution a workspace action is for: staff's own when left out; admin names one."""
    user = perm.require_role(actor, perm.INSTITUTION_STAFF)
    if institution_id is None:
        institution_id = user.institution_id
    if institution_id is None:
        raise DomainError("请指定机构 institution_id (give institution_id)", field="institution_id")
    perm.require_institution(user, institution_id)
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise NotFound(f"机构 {institution_id} 不存在 (institution not found)")
    return institution


def import_institution_patents(
    session: Session,
    *,
    actor: User | None,
    institution_id: int | None,
    path: Path,
    fmt: str = "auto",
    dry_run: bool = False,
    batch_size: int | None = None,
) -> ImportReport:
    """Import an uploaded patent file as the institution's own patents; the caller commits."""
    institution = workspace_institution(session, actor=actor, institution_id=institution_id)
    if fmt not in UPLOAD_FORMATS:
        raise DomainError(f"格式须为 {'/'.join(UPLOAD_FORMATS)} (format)", field="format")
    if fmt == "auto":
        fmt = detect_format(path)
        if fmt == "csv":
            raise ImportFailed(
                "无法识别的专利表格：需要 CNIPA 导出（含“申请号”“专利名称”列）、中国知网 (CNKI) "
                "或智慧芽 (PatSnap) 导出、PatentsView g_patent.tsv 或 USPTO XML。其他 CSV 需要"
                "列映射，请用命令行 `shuanglian import patents 文件 --format csv --mapping "
                "映射.json` 导入 (unrecognised table: upload a CNIPA, CNKI or PatSnap export, "
                "PatentsView g_patent.tsv or USPTO XML; a generic CSV needs a column mapping and "
                "the CLI)",
                field="file",
            )
    # The importer resolves the institution by its trimmed name; make sure that is this row.
    same_name = session.scalar(
        select(Institution.id).where(Institution.name == institution.name.strip())
    )
    if same_name != institution.id:
        raise DomainError(
            "机构名称首尾含空格，请管理员在机构管理中修正后再导入 "
            "(the institution's name has surrounding spaces; an admin must fix it first)"
        )
    return import_patents(
        session,
        path=path,
        fmt=fmt,
        institution=institution.name,
        dry_run=dry_run,
        batch_size=batch_size,
        claim_from_others=False,
        actor=actor,
    )
