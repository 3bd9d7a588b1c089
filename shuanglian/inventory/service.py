"""Inventory batches, colleges, reviewer assignments and the self-assessment form."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions
from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import (
    can_see_item,
    college_ids_for,
    is_admin,
    require_institution,
    require_item,
)
from shuanglian.audit import record_audit, snapshot
from shuanglian.errors import DomainError, NotFound
from shuanglian.inventory.models import (
    REVIEW_LEVELS,
    College,
    InventoryBatch,
    InventoryItem,
    PoolEntry,
    ReviewerAssignment,
    SelfAssessment,
)
from shuanglian.inventory.pool import is_lapsed
from shuanglian.inventory.review import apply_transition
from shuanglian.inventory.schemas import SelfAssessmentIn
from shuanglian.patents.models import Institution, Patent

# Items may be edited by their filler only before review starts or after being returned.
EDITABLE_STATUSES = ("draft", "returned")


def create_college(
    session: Session, *, actor: User | None, institution_id: int, name: str
) -> College:
    """Register a college/department (学院/院系) of an institution (actor None: the operator)."""
    if actor is not None:
        require_institution(actor, institution_id)
    if session.get(Institution, institution_id) is None:
        raise NotFound(f"单位 {institution_id} 不存在 (institution not found)")
    name = name.strip()
    if not name:
        raise DomainError("院系名称不能为空 (college name required)", field="name")
    if len(name) > 200:
        raise DomainError("院系名称最多 200 字 (at most 200 characters)", field="name")
    if session.scalar(
        select(College.id).where(College.institution_id == institution_id, College.name == name)
    ):
        raise DomainError(f"本单位已有院系“{name}” (college exists)", field="name")
    college = College(institution_id=institution_id, name=name)
    session.add(college)
    record_audit(
        session,
        actor=actor,
        action="college.create",
        subject=college,
        detail={"before": None, "after": snapshot(college)},
    )
    return college


def assign_reviewer(
    session: Session,
    *,
    actor: User | None,
    user_id: int,
    institution_id: int,
    level: str,
    college_id: int | None = None,
) -> ReviewerAssignment:
    """Name a user as college-level or institution-level reviewer (actor None: the operator)."""
    if actor is not None:
        require_institution(actor, institution_id)
    if level not in REVIEW_LEVELS:
        raise DomainError(
            "审核级别须为院系审核或单位审核 (level: college or institution)", field="level"
        )
    if (level == "college") != (college_id is not None):
        raise DomainError(
            "院系审核人必须指定院系，单位审核人不指定院系 (college_id)", field="college_id"
        )
    if college_id is not None:
        college = session.get(College, college_id)
        if college is None or college.institution_id != institution_id:
            raise DomainError(
                "院系不属于该单位 (college not in this institution)", field="college_id"
            )
    reviewer = session.get(User, user_id)
    if reviewer is None:
        raise NotFound(f"用户 {user_id} 不存在 (user not found)")
    if reviewer.role != "admin" and reviewer.institution_id != institution_id:
        raise DomainError(
            f"{reviewer.username} 不是本单位用户，不能担任审核人 "
            "(reviewer must be staff of the institution)",
            field="user_id",
        )
    same = session.scalar(
        select(ReviewerAssignment.id).where(
            ReviewerAssignment.user_id == user_id,
            ReviewerAssignment.institution_id == institution_id,
            ReviewerAssignment.level == level,
            ReviewerAssignment.college_id.is_(None)
            if college_id is None
            else ReviewerAssignment.college_id == college_id,
        )
    )
    if same is not None:
        raise DomainError(
            f"{reviewer.username} 已是该级审核人 (already a reviewer at this level)",
            field="user_id",
        )
    row = ReviewerAssignment(
        user_id=user_id, institution_id=institution_id, level=level, college_id=college_id
    )
    session.add(row)
    record_audit(
        session,
        actor=actor,
        action="reviewer.assign",
        subject=row,
        detail={"before": None, "after": snapshot(row)},
    )
    return row


def rename_college(session: Session, *, actor: User, college_id: int, name: str) -> College:
    """Correct a college's name (reviewers and items stay attached to it)."""
    college = session.get(College, college_id)
    if college is None:
        raise NotFound(f"院系 {college_id} 不存在 (college not found)")
    require_institution(actor, college.institution_id)
    name = (name or "").strip()
    if not name:
        raise DomainError("院系名称不能为空 (college name required)", field="name")
    clash = session.scalar(
        select(College.id).where(
            College.institution_id == college.institution_id,
            College.name == name,
            College.id != college.id,
        )
    )
    if clash is not None:
        raise DomainError(f"本单位已有院系“{name}” (college exists)", field="name")
    before = snapshot(college)
    college.name = name
    record_audit(
        session,
        actor=actor,
        action="college.update",
        subject=college,
        detail={"before": before, "after": snapshot(college)},
    )
    return college


def list_colleges(session: Session, *, institution_id: int) -> list[College]:
    """An institution's colleges by name."""
    stmt = select(College).where(College.institution_id == institution_id).order_by(College.name)
    return list(session.scalars(stmt))


def list_reviewers(
    session: Session, *, institution_id: int
) -> list[tuple[ReviewerAssignment, User, College | None]]:
    """Who reviews at which level in an institution (institution level first)."""
    rows = session.execute(
        select(ReviewerAssignment, User, College)
        .join(User, User.id == ReviewerAssignment.user_id)
        .outerjoin(College, College.id == ReviewerAssignment.college_id)
        .where(ReviewerAssignment.institution_id == institution_id)
        .order_by(ReviewerAssignment.level.desc(), College.name, User.username)
    ).all()
    return [(a, u, c) for a, u, c in rows]


def remove_reviewer(session: Session, *, actor: User, assignment_id: int) -> ReviewerAssignment:
    """Take a reviewer appointment away (the person keeps their account)."""
    row = session.get(ReviewerAssignment, assignment_id)
    if row is None:
        raise NotFound(f"审核人指定 {assignment_id} 不存在 (appointment not found)")
    require_institution(actor, row.institution_id)
    record_audit(
        session,
        actor=actor,
        action="reviewer.remove",
        subject=row,
        detail={"before": snapshot(row), "after": None},
        institution_id=row.institution_id,
    )
    session.delete(row)
    session.flush()
    return row


def _checked_patent_ids(
    session: Session, *, institution_id: int, patent_ids: Iterable[int]
) -> tuple[list[int], set[int]]:
    """The listed patents (sorted) and those already inventoried; unknown or foreign: refused."""
    ids = sorted(set(patent_ids))
    if not ids:
        return [], set()
    patents = {p.id: p for p in session.scalars(select(Patent).where(Patent.id.in_(ids)))}
    missing = [i for i in ids if i not in patents]
    if missing:
        raise NotFound(f"专利不存在：{missing[:10]} (patents not found)")
    foreign = [i for i, p in patents.items() if p.institution_id != institution_id]
    if foreign:
        raise DomainError(
            f"专利不属于本单位，不能加入盘点批次：{foreign[:10]} (not this institution's patents)"
        )
    done = set(
        session.scalars(select(InventoryItem.patent_id).where(InventoryItem.patent_id.in_(ids)))
    )
    return ids, done


def add_patents_to_batch(
    session: Session,
    *,
    actor: User | None,
    batch: InventoryBatch,
    patent_ids: Iterable[int],
    college_id: int | None = None,
) -> tuple[int, int]:
    """Add patents to a batch; returns (added, skipped as already inventoried)."""
    ids, done = _checked_patent_ids(
        session, institution_id=batch.institution_id, patent_ids=patent_ids
    )
    added = 0
    for pid in ids:
        if pid in done:
            continue
        session.add(
            InventoryItem(
                batch_id=batch.id,
                patent_id=pid,
                institution_id=batch.institution_id,
                college_id=college_id if college_id is not None else batch.college_id,
            )
        )
        added += 1
    session.flush()
    return added, len(done)


def source_file_names(source_file: str) -> set[str]:
    """The `Patent.source_file` values that mean the file a person names, however they name it.

    Importers store the file's own name (`patents_cnipa_sample.csv`, an upload's cleaned name,
    `g_patent.tsv` for a PatentsView folder), while a person types the path they imported with
    (`demo/x.csv`, `~/exports/x.xlsx`). So the name is compared, and the text as given and the
    resolved path too (older rows may hold either); a folder stands for the files in it. Two
    different files with the same name are one source: the stored record keeps nothing more.
    """
    text = source_file.strip()
    path = Path(text).expanduser()
    names = {text, path.name}
    # A name no file system takes (too long, odd bytes) is still a name to compare, never a
    # server error: the path is only looked at when it can be one.
    with suppress(OSError, ValueError):
        names.add(str(path.resolve()))
        if path.is_dir():
            names |= {child.name for child in path.iterdir() if child.is_file()}
    return {n for n in names if n}


@dataclass
class BatchBuilt:
    """What building a batch did: the batch, counts, and the lapsed patents left out."""

    batch: InventoryBatch
    added: int
    skipped: int  # already inventoried
    lapsed_left_out: list[tuple[int, str, str]] = field(default_factory=list)
    # (patent id, application number, legal status) of each lapsed patent not added


def build_batch(
    session: Session,
    *,
    actor: User | None,
    institution_id: int,
    name: str,
    college_id: int | None = None,
    patent_ids: Iterable[int] = (),
    source_file: str | None = None,
    source: str = "manual",
    include_lapsed: bool = False,
) -> BatchBuilt:
    """Create a batch of patents to inventory, flagging lapsed patents (left out by default).

    With `source_file` (a name or the path imported with, see `source_file_names`) every patent
    of the institution imported from that file is taken; with `patent_ids` those patents; with
    neither, every patent of the institution not inventoried yet. Patents already inventoried
    are skipped. A patent whose legal status says the right has ended (`pool.is_lapsed`) could
    never enter the pool, so it is left out and listed unless `include_lapsed`. A batch that
    would be empty is refused with a sentence saying why: an empty batch is never what the
    person meant (a mistyped file name used to create one silently).
    """
    if actor is not None:
        require_institution(actor, institution_id)
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise NotFound(f"单位 {institution_id} 不存在 (institution not found)")
    name = (name or "").strip()
    if not name:
        raise DomainError("批次名称不能为空 (batch name required)", field="name")
    if len(name) > 200:
        raise DomainError("批次名称最多 200 字 (at most 200 characters)", field="name")
    if college_id is not None:
        college = session.get(College, college_id)
        if college is None or college.institution_id != institution_id:
            raise DomainError(
                "院系不属于该单位 (college not in this institution)", field="college_id"
            )
    of_institution = select(Patent.id).where(Patent.institution_id == institution_id)
    ids = list(patent_ids)
    if source_file is not None and source_file.strip():
        file_name = Path(source_file.strip()).expanduser().name or source_file.strip()
        source = f"import:{file_name}"
        from_file = list(
            session.scalars(
                of_institution.where(Patent.source_file.in_(source_file_names(source_file)))
            )
        )
        if not from_file:
            raise DomainError(
                f"{institution.name} 没有从“{file_name}”导入的专利，批次未创建；请核对文件名"
                f"或先导入该文件 (no patents of this institution were imported from "
                f"{file_name}; nothing created)",
                field="source_file",
            )
        ids += from_file
    elif not ids:
        ids = list(
            session.scalars(of_institution.where(Patent.id.not_in(select(InventoryItem.patent_id))))
        )
        if not ids:
            raise DomainError(
                f"{institution.name} 没有尚未盘点的专利，批次未创建；请先导入专利 "
                "(the institution has no patents left to inventory; nothing created)",
                field="patent_ids",
            )
    checked, done = _checked_patent_ids(session, institution_id=institution_id, patent_ids=ids)
    field_name = "source_file" if source_file else "patent_ids"
    if len(done) == len(checked):
        raise DomainError(
            f"所选的 {len(checked)} 件专利都已盘点过，批次未创建 "
            f"(all {len(checked)} patents are already inventoried; nothing created)",
            field=field_name,
        )
    lapsed: list[tuple[int, str, str]] = []
    if not include_lapsed:
        todo = [i for i in checked if i not in done]
        for start in range(0, len(todo), 5000):
            rows = session.execute(
                select(Patent.id, Patent.application_number, Patent.legal_status).where(
                    Patent.id.in_(todo[start : start + 5000]), Patent.legal_status.is_not(None)
                )
            )
            lapsed += [(pid, num, st or "") for pid, num, st in rows if is_lapsed(st)]
        if len(lapsed) == len(todo):
            raise DomainError(
                f"余下的 {len(todo)} 件专利法律状态均为已失效（如“{lapsed[0][2]}”），批次未创建；"
                "如确需盘点，请勾选“也加入法律状态已失效的专利”（命令行加 --include-lapsed） "
                f"(all {len(todo)} remaining patents have lapsed; nothing created — tick "
                "include lapsed patents to inventory them anyway)",
                field=field_name,
            )
        left_out = {pid for pid, _, _ in lapsed}
        checked = [i for i in checked if i not in left_out]
    batch = InventoryBatch(
        institution_id=institution_id,
        college_id=college_id,
        name=name,
        source=source,
        created_by_id=actor.id if actor is not None else None,
    )
    session.add(batch)
    session.flush()
    added, skipped = add_patents_to_batch(session, actor=actor, batch=batch, patent_ids=checked)
    record_audit(
        session,
        actor=actor,
        action="batch.create",
        subject=batch,
        detail={
            "before": None,
            "after": {
                **snapshot(batch),
                "added": added,
                "skipped": skipped,
                "lapsed_left_out": len(lapsed),
            },
        },
    )
    return BatchBuilt(batch=batch, added=added, skipped=skipped, lapsed_left_out=lapsed)


def create_batch(
    session: Session,
    *,
    actor: User | None,
    institution_id: int,
    name: str,
    college_id: int | None = None,
    patent_ids: Iterable[int] = (),
    source_file: str | None = None,
    source: str = "manual",
    include_lapsed: bool = False,
) -> tuple[InventoryBatch, int, int]:
    """`build_batch` as (batch, added, skipped), the shape older callers unpack."""
    built = build_batch(
        session,
        actor=actor,
        institution_id=institution_id,
        name=name,
        college_id=college_id,
        patent_ids=patent_ids,
        source_file=source_file,
        source=source,
        include_lapsed=include_lapsed,
    )
    return built.batch, built.added, built.skipped


def import_sources(
    session: Session, *, actor: User, institution_id: int
) -> list[tuple[str, int, int]]:
    """The files the institution's patents came from: (file, patents, not yet inventoried).

    What the batch form offers as "from an import file", so nobody types a file name.
    """
    require_institution(actor, institution_id)
    rows = session.execute(
        select(Patent.source_file, func.count(Patent.id), func.count(InventoryItem.id))
        .outerjoin(InventoryItem, InventoryItem.patent_id == Patent.id)
        .where(Patent.institution_id == institution_id, Patent.source_file.is_not(None))
        .group_by(Patent.source_file)
        .order_by(Patent.source_file)
    ).all()
    return [(str(f), int(n), int(n) - int(done)) for f, n, done in rows]


def rename_batch(session: Session, *, actor: User, batch_id: int, name: str) -> InventoryBatch:
    """Give a batch a clearer name (the one people chose at creation is often a date)."""
    batch = get_batch(session, actor=actor, batch_id=batch_id)
    name = (name or "").strip()
    if not name:
        raise DomainError("批次名称不能为空 (batch name required)", field="name")
    if len(name) > 200:
        raise DomainError("批次名称最多 200 字 (at most 200 characters)", field="name")
    before = snapshot(batch)
    batch.name = name
    record_audit(
        session,
        actor=actor,
        action="batch.rename",
        subject=batch,
        detail={"before": before, "after": snapshot(batch)},
    )
    return batch


# Once someone has worked on an item (self-assessed it, reviewed it) a batch holds decisions;
# deleting it would erase them, so only batches whose items are all untouched drafts may go.
def delete_batch(session: Session, *, actor: User, batch_id: int) -> int:
    """Delete an empty or mistaken batch whose items nobody has worked on; returns items freed.

    The patents go back to "not inventoried yet", so a corrected batch can take them.
    """
    batch = get_batch(session, actor=actor, batch_id=batch_id)
    items = list(session.scalars(select(InventoryItem).where(InventoryItem.batch_id == batch.id)))
    worked = [i for i in items if i.status != "draft" or i.assessment is not None]
    if worked:
        raise DomainError(
            f"批次中已有 {len(worked)} 件专利填写了自评或进入审核，不能删除；"
            "只能删除空批次或尚未开始填写的批次 "
            f"({len(worked)} items already have a self-assessment or review; only an empty or "
            "untouched batch can be deleted)"
        )
    record_audit(
        session,
        actor=actor,
        action="batch.delete",
        subject=batch,
        detail={"before": {**snapshot(batch), "items": len(items)}, "after": None},
    )
    for item in items:
        session.delete(item)
    session.delete(batch)
    session.flush()
    return len(items)


def assign_college(
    session: Session, *, actor: User, item_ids: Iterable[int], college_id: int | None
) -> int:
    """Route items to a college's reviewer (or to none); only before review starts."""
    count = 0
    for item_id in item_ids:
        item = managed_item(session, actor=actor, item_id=item_id)
        if college_id is not None:
            college = session.get(College, college_id)
            if college is None or college.institution_id != item.institution_id:
                raise DomainError(
                    "院系不属于该单位 (college not in this institution)", field="college_id"
                )
        if item.status not in EDITABLE_STATUSES:
            raise DomainError("审核开始后不能更改所属院系 (cannot move an item under review)")
        before = snapshot(item)
        item.college_id = college_id
        record_audit(
            session,
            actor=actor,
            action="item.assign_college",
            subject=item,
            detail={"before": before, "after": snapshot(item)},
        )
        count += 1
    return count


def get_batch(session: Session, *, actor: User | None, batch_id: int) -> InventoryBatch:
    """One batch the actor may see (None: the platform operator)."""
    batch = session.get(InventoryBatch, batch_id)
    if batch is None:
        raise NotFound(f"盘点批次 {batch_id} 不存在 (batch not found)")
    if actor is not None:
        require_institution(actor, batch.institution_id)
    return batch


def list_batches(
    session: Session, *, actor: User | None, institution_id: int | None = None, limit: int = 20
) -> list[InventoryBatch]:
    """An institution's inventory batches, newest first, for its staff and admin.

    Staff may leave the institution out (their own is meant); an admin must name one.
    """
    actor = permissions.require_role(actor, permissions.INSTITUTION_STAFF)
    if institution_id is None:
        institution_id = actor.institution_id
    if institution_id is None:
        raise DomainError("请指定机构 institution_id (give institution_id)", field="institution_id")
    require_institution(actor, institution_id)
    stmt = (
        select(InventoryBatch)
        .where(InventoryBatch.institution_id == institution_id)
        .order_by(InventoryBatch.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def batch_progress(session: Session, *, actor: User | None, batch_id: int) -> dict[str, Any]:
    """How far a batch is: totals by status, self-assessed, reviewed and pooled counts."""
    batch = get_batch(session, actor=actor, batch_id=batch_id)
    by_status = dict(
        session.execute(
            select(InventoryItem.status, func.count())
            .where(InventoryItem.batch_id == batch.id)
            .group_by(InventoryItem.status)
        ).all()
    )
    total = sum(by_status.values())
    assessed = (
        session.scalar(
            select(func.count())
            .select_from(SelfAssessment)
            .join(InventoryItem, InventoryItem.id == SelfAssessment.item_id)
            .where(InventoryItem.batch_id == batch.id)
        )
        or 0
    )
    reviewed = sum(by_status.get(s, 0) for s in ("approved", "rejected", "withdrawn", "lapsed"))
    pooled = (
        session.scalar(
            select(func.count())
            .select_from(PoolEntry)
            .join(InventoryItem, InventoryItem.patent_id == PoolEntry.patent_id)
            .where(InventoryItem.batch_id == batch.id, PoolEntry.active.is_(True))
        )
        or 0
    )
    return {
        "batch_id": batch.id,
        "name": batch.name,
        "institution_id": batch.institution_id,
        "total": total,
        "self_assessed": assessed,
        "reviewed": reviewed,
        "pooled": pooled,
        "by_status": by_status,
        "assessed_share": round(assessed / total, 4) if total else 0.0,
        "reviewed_share": round(reviewed / total, 4) if total else 0.0,
    }


def _items_query(
    session: Session,
    actor: User,
    *,
    institution_id: int | None,
    batch_id: int | None,
    status: str | None | Iterable[str],
    q: str | None = None,
) -> Any:
    stmt = select(InventoryItem)
    if not is_admin(actor):
        if actor.institution_id is None:
            return None
        stmt = stmt.where(InventoryItem.institution_id == actor.institution_id)
        colleges = college_ids_for(session, actor)
        if colleges is not None:
            stmt = stmt.where(InventoryItem.college_id.in_(colleges))
    if institution_id is not None:
        stmt = stmt.where(InventoryItem.institution_id == institution_id)
    if batch_id is not None:
        stmt = stmt.where(InventoryItem.batch_id == batch_id)
    if isinstance(status, str):
        stmt = stmt.where(InventoryItem.status == status)
    elif status is not None:
        stmt = stmt.where(InventoryItem.status.in_(list(status)))
    text = (q or "").strip()
    if text:
        like = f"%{text.replace('%', '').replace('_', '')}%"
        number = "".join(ch for ch in text if ch.isalnum()).upper()
        matches = select(Patent.id).where(
            or_(
                Patent.title.ilike(like),
                Patent.application_number.ilike(like),
                *([Patent.application_key.contains(number)] if number else []),
            )
        )
        stmt = stmt.where(InventoryItem.patent_id.in_(matches))
    return stmt


def list_items(
    session: Session,
    *,
    actor: User,
    institution_id: int | None = None,
    batch_id: int | None = None,
    status: str | None | Iterable[str] = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 200,
) -> list[InventoryItem]:
    """Inventory items the actor may see, filtered by batch, status and text (review queues)."""
    stmt = _items_query(
        session, actor, institution_id=institution_id, batch_id=batch_id, status=status, q=q
    )
    if stmt is None:
        return []
    return list(session.scalars(stmt.order_by(InventoryItem.id).offset(offset).limit(limit)))


def count_items(
    session: Session,
    *,
    actor: User,
    institution_id: int | None = None,
    batch_id: int | None = None,
    status: str | None | Iterable[str] = None,
    q: str | None = None,
) -> int:
    """How many items `list_items` would give without a page limit (the pager's total)."""
    stmt = _items_query(
        session, actor, institution_id=institution_id, batch_id=batch_id, status=status, q=q
    )
    if stmt is None:
        return 0
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def managed_item(session: Session, *, actor: User | None, item_id: int) -> InventoryItem:
    """The item when `actor` may manage it; "not found" when they may not even know of it."""
    item = session.get(InventoryItem, item_id)
    if item is None or not can_see_item(session, actor, item):
        raise NotFound(f"盘点条目 {item_id} 不存在 (inventory item not found)")
    require_item(session, actor, item)
    return item


def item_for_patent(session: Session, *, patent_id: int) -> InventoryItem | None:
    """The inventory item of a patent, if it was inventoried."""
    return session.scalar(select(InventoryItem).where(InventoryItem.patent_id == patent_id))


def save_self_assessment(
    session: Session,
    *,
    actor: User,
    item_id: int,
    data: SelfAssessmentIn,
    submit: bool = True,
) -> SelfAssessment:
    """Store a validated self-assessment and (by default) submit the item for review."""
    item = managed_item(session, actor=actor, item_id=item_id)
    if item.status not in EDITABLE_STATUSES:
        raise DomainError(
            "已提交审核或已完成审核，退回修改后才能更改自评 "
            "(self-assessment can be changed only in draft or after return)"
        )
    assessment = item.assessment
    before = snapshot(assessment) if assessment is not None else None
    if assessment is None:
        assessment = SelfAssessment(item_id=item.id)
        session.add(assessment)
        item.assessment = assessment
    for key, value in data.model_dump().items():
        setattr(assessment, key, value)
    assessment.filled_by_id = actor.id
    record_audit(
        session,
        actor=actor,
        action="assessment.save",
        subject=assessment,
        detail={"before": before, "after": snapshot(assessment)},
        institution_id=item.institution_id,
    )
    if submit:
        apply_transition(session, actor=actor, item_id=item.id, action="submit")
    return assessment
