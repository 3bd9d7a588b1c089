"""Small helpers shared by inventory tests: pool patents quickly, make enterprise users."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.inventory.review import review_item
from shuanglian.inventory.schemas import SelfAssessmentIn
from shuanglian.inventory.service import item_for_patent, save_self_assessment

FORM = SelfAssessmentIn(
    publicly_funded=True,
    implementation_status="未实施",
    transfer_mode="许可",
    trl=6,
    value_grade="高",
    value_reason="已有样机并完成中试",
    scenarios="电力巡检、农业植保",
    industry_codes=["C37"],
    contact_name="王工",
)


def pool(session: Session, world, indices) -> list[int]:  # type: ignore[no-untyped-def]
    """Self-assess and approve the world's patents at `indices`; returns their patent ids."""
    ids = []
    for i in indices:
        item = item_for_patent(session, patent_id=world.patents[i].id)
        save_self_assessment(session, actor=world.staff, item_id=item.id, data=FORM)
        review_item(session, actor=world.institution_reviewer, item_id=item.id, decision="approve")
        ids.append(world.patents[i].id)
    return ids


def enterprise_user(session: Session, enterprise_id: int, name: str) -> User:
    user = User(
        username=name, role="enterprise_user", password_hash="x", enterprise_id=enterprise_id
    )
    session.add(user)
    session.flush()
    return user
