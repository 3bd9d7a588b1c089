"""Workspace edits through the service, on SQLite and PostgreSQL: profile, demand create/update.

Each refused edit is checked against the database itself (the row is re-read), so a validator
that ran after the row was changed would fail here even though it raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.enterprises import service, workspace
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.enterprises.workspace import DemandInput, ProfileInput
from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.text.normalize import normalize_for_search


@dataclass
class World:
    mine: Enterprise
    theirs: Enterprise
    owner: User
    other: User
    admin: User
    demand: Demand


def _user(session: Session, username: str, role: str, **kw: Any) -> User:
    user = User(username=username, password_hash="-", role=role, is_active=True, **kw)
    session.add(user)
    session.flush()
    return user


def _enterprise(session: Session, name: str, scope: str) -> Enterprise:
    ent = Enterprise(
        name=name,
        business_scope=scope,
        industry_code="3311",
        search_text=service.enterprise_search_text(name, scope),
    )
    session.add(ent)
    session.flush()
    return ent


@pytest.fixture
def world(db_session: Session) -> World:
    mine = _enterprise(db_session, "上海兴峥金属制品有限公司", "五金冲件、冷作钣金加工")
    theirs = _enterprise(db_session, "成都精密机械有限公司", "数控机床零部件加工")
    demand = Demand(
        enterprise_id=mine.id,
        title="钣金件焊接变形控制",
        description="薄板焊接后变形量大",
        budget=Decimal("30.0000"),
        region="上海",
        search_text=normalize_for_search("钣金件焊接变形控制 薄板焊接后变形量大"),
    )
    db_session.add(demand)
    db_session.flush()
    return World(
        mine=mine,
        theirs=theirs,
        owner=_user(db_session, "owner", perm.ENTERPRISE_USER, enterprise_id=mine.id),
        other=_user(db_session, "other", perm.ENTERPRISE_USER, enterprise_id=theirs.id),
        admin=_user(db_session, "root", perm.ADMIN),
        demand=demand,
    )


def _stored(session: Session, obj: Any, *columns: str) -> tuple[Any, ...]:
    """The columns as the database holds them now, including anything a refused call changed
    on the object (flushed first, so a change made before a late check would show)."""
    session.flush()
    session.expire(obj)
    return tuple(getattr(obj, c) for c in columns)


PROFILE = ("business_scope", "industry_code", "search_text")
DEMAND = ("title", "description", "industry_code", "budget", "deadline", "region", "status")


# --------------------------------------------------------------------------- profile


def test_owner_updates_profile_and_search_follows(db_session: Session, world: World) -> None:
    ent = workspace.update_enterprise_profile(
        db_session,
        actor=world.owner,
        enterprise_id=world.mine.id,
        data=ProfileInput(business_scope="  激光切割、钣金焊接工艺改进  ", industry_code="C3311"),
    )
    assert _stored(db_session, ent, "business_scope", "industry_code") == (
        "激光切割、钣金焊接工艺改进",
        "3311",
    )
    assert [e.id for e in service.list_enterprises(db_session, q="激光切割").items] == [ent.id]
    assert service.list_enterprises(db_session, q="冷作").total == 0
    # Empty text clears a field.
    workspace.update_enterprise_profile(
        db_session, actor=world.owner, enterprise_id=world.mine.id, data=ProfileInput()
    )
    assert _stored(db_session, ent, "business_scope", "industry_code") == (None, None)


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (ProfileInput(business_scope="ok", industry_code="ZZ9"), "industry_code", "GB/T 4754"),
        (ProfileInput(business_scope="ok", industry_code="C65"), "industry_code", "GB/T 4754"),
        (ProfileInput(business_scope="长" * 5001), "business_scope", "5000"),
        (ProfileInput(business_scope="零\x00字节"), "business_scope", "无效字符"),
        (ProfileInput(business_scope="\ud800"), "business_scope", "无效字符"),
    ],
)
def test_bad_profile_leaves_row_unchanged(
    db_session: Session, world: World, data: ProfileInput, field: str, words: str
) -> None:
    before = _stored(db_session, world.mine, *PROFILE)
    with pytest.raises(DomainError, match=words) as caught:
        workspace.update_enterprise_profile(
            db_session, actor=world.owner, enterprise_id=world.mine.id, data=data
        )
    assert caught.value.field == field
    assert "(" in caught.value.message or "（" in caught.value.message  # English alongside
    assert _stored(db_session, world.mine, *PROFILE) == before


def test_profile_permissions(db_session: Session, world: World) -> None:
    before = _stored(db_session, world.mine, *PROFILE)
    data = ProfileInput(business_scope="篡改", industry_code="33")
    tech = _user(db_session, "tm", perm.TECH_MANAGER)
    gone = _user(db_session, "gone", perm.ENTERPRISE_USER, enterprise_id=world.mine.id)
    gone.is_active = False
    for actor in (world.other, tech, gone, None):
        with pytest.raises(PermissionDenied):
            workspace.update_enterprise_profile(
                db_session, actor=actor, enterprise_id=world.mine.id, data=data
            )
    assert _stored(db_session, world.mine, *PROFILE) == before
    with pytest.raises(NotFound):
        workspace.update_enterprise_profile(
            db_session, actor=world.admin, enterprise_id=10**9, data=data
        )
    done = workspace.update_enterprise_profile(
        db_session, actor=world.admin, enterprise_id=world.theirs.id, data=data
    )
    assert _stored(db_session, done, "business_scope", "industry_code") == ("篡改", "33")


def test_workspace_enterprise_id(db_session: Session, world: World) -> None:
    assert workspace.workspace_enterprise_id(world.owner) == world.mine.id
    loose = _user(db_session, "loose", perm.ENTERPRISE_USER)
    for actor in (world.admin, loose, None):
        with pytest.raises(PermissionDenied):
            workspace.workspace_enterprise_id(actor)


# --------------------------------------------------------------------------- demands


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Demand)) or 0


def test_owner_creates_demand_with_importer_rules(db_session: Session, world: World) -> None:
    demand = workspace.create_demand(
        db_session,
        actor=world.owner,
        enterprise_id=world.mine.id,
        data=DemandInput(
            title=" 电解液回收工艺 ",
            description="废旧锂电池电解液的回收与提纯",
            industry_code="c4210",
            budget="50万元",
            deadline="2027年6月30日",
            region="上海奉贤",
        ),
    )
    assert _stored(db_session, demand, *DEMAND) == (
        "电解液回收工艺",
        "废旧锂电池电解液的回收与提纯",
        "4210",
        Decimal("50.0000"),
        date(2027, 6, 30),
        "上海奉贤",
        "open",
    )
    assert demand.enterprise_id == world.mine.id
    assert service.list_demands(db_session, q="提纯").items == [demand]
    # Typed values (the JSON API's) are taken as they are.
    typed = workspace.create_demand(
        db_session,
        actor=world.owner,
        enterprise_id=world.mine.id,
        data=DemandInput(title="t", budget=Decimal("12.5"), deadline=date(2027, 1, 2)),
    )
    assert _stored(db_session, typed, "budget", "deadline") == (Decimal("12.5"), date(2027, 1, 2))


BAD_DEMANDS = [
    (DemandInput(title="  "), "title", "标题"),
    (DemandInput(title="长" * 501), "title", "500"),
    (DemandInput(title="t", description="长" * 5001), "description", "5000"),
    (DemandInput(title="t", industry_code="X99"), "industry_code", "GB/T 4754"),
    (DemandInput(title="t", budget="很多"), "budget", "预算"),
    (DemandInput(title="t", budget="-1"), "budget", "预算"),
    (DemandInput(title="t", budget=Decimal(-1)), "budget", "负数"),
    (DemandInput(title="t", budget=Decimal("NaN")), "budget", "预算"),
    (DemandInput(title="t", budget=Decimal("1e20")), "budget", "过大"),
    (DemandInput(title="t", budget="500万美元"), "budget", "人民币"),
    (DemandInput(title="t", deadline="明年"), "deadline", "日期"),
    (DemandInput(title="t", deadline="2027-02-30"), "deadline", "日期"),
    (DemandInput(title="t", region="地" * 101), "region", "100"),
    (DemandInput(title="t", status="pending"), "status", "open"),
]


@pytest.mark.parametrize(("data", "field", "words"), BAD_DEMANDS)
def test_bad_new_demand_is_refused(
    db_session: Session, world: World, data: DemandInput, field: str, words: str
) -> None:
    before = _count(db_session)
    with pytest.raises(DomainError, match=words) as caught:
        workspace.create_demand(
            db_session, actor=world.owner, enterprise_id=world.mine.id, data=data
        )
    assert caught.value.field == field
    assert _count(db_session) == before


@pytest.mark.parametrize(("data", "field", "words"), BAD_DEMANDS)
def test_bad_demand_edit_leaves_row_unchanged(
    db_session: Session, world: World, data: DemandInput, field: str, words: str
) -> None:
    before = _stored(db_session, world.demand, *DEMAND)
    with pytest.raises(DomainError, match=words) as caught:
        workspace.update_demand(db_session, actor=world.owner, demand_id=world.demand.id, data=data)
    assert caught.value.field == field
    assert _stored(db_session, world.demand, *DEMAND) == before


def test_owner_edits_closes_and_reopens(db_session: Session, world: World) -> None:
    demand = workspace.update_demand(
        db_session,
        actor=world.owner,
        demand_id=world.demand.id,
        data=DemandInput(title="激光焊接变形控制", budget="", status="closed"),
    )
    assert _stored(db_session, demand, *DEMAND) == (
        "激光焊接变形控制",
        None,
        None,
        None,
        None,
        None,
        "closed",
    )
    assert service.list_demands(db_session, q="激光焊接", status="closed").items == [demand]
    assert service.list_demands(db_session, q="薄板").total == 0
    # No status given: the demand stays closed.
    workspace.update_demand(
        db_session, actor=world.owner, demand_id=demand.id, data=DemandInput(title="再次修改")
    )
    assert _stored(db_session, demand, "title", "status") == ("再次修改", "closed")
    workspace.update_demand(
        db_session,
        actor=world.owner,
        demand_id=demand.id,
        data=DemandInput(title="再次修改", status="open"),
    )
    assert _stored(db_session, demand, "status") == ("open",)


def test_demand_permissions(db_session: Session, world: World) -> None:
    before = _stored(db_session, world.demand, *DEMAND)
    count = _count(db_session)
    data = DemandInput(title="篡改", status="closed")
    for actor in (world.other, _user(db_session, "pp", perm.PILOT_PLATFORM), None):
        with pytest.raises(PermissionDenied):
            workspace.update_demand(db_session, actor=actor, demand_id=world.demand.id, data=data)
        with pytest.raises(PermissionDenied):
            workspace.create_demand(db_session, actor=actor, enterprise_id=world.mine.id, data=data)
        with pytest.raises(PermissionDenied):
            workspace.demand_for_editing(db_session, actor=actor, demand_id=world.demand.id)
    assert _stored(db_session, world.demand, *DEMAND) == before
    assert _count(db_session) == count
    with pytest.raises(NotFound):
        workspace.update_demand(db_session, actor=world.admin, demand_id=10**9, data=data)
    with pytest.raises(NotFound):
        workspace.create_demand(db_session, actor=world.admin, enterprise_id=10**9, data=data)
    edited = workspace.update_demand(
        db_session, actor=world.admin, demand_id=world.demand.id, data=data
    )
    assert _stored(db_session, edited, "title", "status") == ("篡改", "closed")
    made = workspace.create_demand(
        db_session, actor=world.admin, enterprise_id=world.theirs.id, data=DemandInput(title="x")
    )
    assert made.enterprise_id == world.theirs.id and made.status == "open"
