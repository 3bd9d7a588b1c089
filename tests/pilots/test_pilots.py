"""Pilot platforms: import with row errors, a booking through to completion with a capacity
clash refused by name, suggestions explained and same region first, manager permissions."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.pilots import service
from shuanglian.pilots.importers import import_pilots
from tests.notices import english_notices
from tests.web.factories import make_user

TODAY = date.today()
CSV = """平台名称,运营单位,级别,省份,城市,行业代码,IPC分类,服务,设备,产能,开放预约
江苏新材料中试基地,江苏省产业技术研究院,省级,江苏,苏州,"26,30",C22B,中试、检测,反应釜 2000L,2,是
国家稀土功能材料中试平台,包头稀土研究院,国家级,内蒙古,包头,32,C22B,中试,萃取槽,1,是
坏行,某单位,县级,江苏,,26,,中试,,1,是
坏产能,某单位,市级,江苏,,26,,中试,,两个,是
"""


@pytest.fixture
def platforms(db_session: Session, tmp_path: Path):
    path = tmp_path / "pilots.csv"
    path.write_text(CSV, encoding="utf-8")
    report = import_pilots(db_session, path=path)
    assert (report.inserted, report.rejected) == (2, 2)
    assert [(e.row, e.field) for e in report.errors] == [(4, "级别"), (5, "产能")]
    again = import_pilots(db_session, path=path)
    assert (again.inserted, again.unchanged) == (0, 2)
    page = service.search_platforms(db_session)
    return {p.name: p for p in page.items}


def _booking(**kw):
    values = dict(
        title="正极材料放大试验",
        service="pilot",
        quantity=1,
        start_on=TODAY + timedelta(days=10),
        end_on=TODAY + timedelta(days=20),
    )
    values.update(kw)
    return service.BookingInput(**values)


def test_booking_to_completion_with_a_capacity_clash(db_session: Session, platforms) -> None:
    s = db_session
    p = platforms["江苏新材料中试基地"]  # capacity 2
    manager = make_user(s, "pilot_platform")
    service.link_manager(s, actor=make_user(s, "admin"), platform_id=p.id, user_id=manager.id)
    a, b, c = (make_user(s, "tech_manager") for _ in range(3))
    first = service.request_booking(s, actor=a, platform_id=p.id, data=_booking(quantity=1))
    second = service.request_booking(
        s,
        actor=b,
        platform_id=p.id,
        data=_booking(
            title="催化剂中试",
            start_on=TODAY + timedelta(days=15),
            end_on=TODAY + timedelta(days=25),
        ),
    )
    service.act_on_booking(s, actor=manager, booking_id=first.id, action="accept")
    service.act_on_booking(s, actor=manager, booking_id=second.id, action="accept")
    # Days 15–20 are now full (2 of 2): a third request over them is refused, naming a clash.
    with pytest.raises(DomainError) as err:
        service.request_booking(s, actor=c, platform_id=p.id, data=_booking(title="第三个"))
    assert f"#{first.id}" in err.value.message and "正极材料放大试验" in err.value.message
    # Outside the window it is fine; declining needs a reason.
    third = service.request_booking(
        s,
        actor=c,
        platform_id=p.id,
        data=_booking(
            title="第三个", start_on=TODAY + timedelta(days=30), end_on=TODAY + timedelta(days=31)
        ),
    )
    with pytest.raises(DomainError, match="原因"):
        service.act_on_booking(s, actor=manager, booking_id=third.id, action="decline")
    service.act_on_booking(
        s, actor=manager, booking_id=third.id, action="decline", reason="设备检修"
    )
    assert third.status == "declined" and third.decline_reason == "设备检修"
    service.act_on_booking(s, actor=manager, booking_id=first.id, action="schedule")
    with pytest.raises(DomainError, match="结果报告"):
        service.act_on_booking(s, actor=manager, booking_id=first.id, action="complete")
    service.act_on_booking(
        s, actor=manager, booking_id=first.id, action="complete", report="放大至 200L，收率 92%"
    )
    assert first.status == "completed" and first.outcome_report.startswith("放大")
    with pytest.raises(PermissionDenied):
        service.rate_booking(s, actor=manager, booking_id=first.id, rating=5)
    service.rate_booking(s, actor=a, booking_id=first.id, rating=4, comment="响应快")
    with pytest.raises(DomainError, match="已评价"):
        service.rate_booking(s, actor=a, booking_id=first.id, rating=5)
    assert service.platform_rating(s, platform_id=p.id) == (4.0, 1)
    # Illegal steps name the state; strangers cannot see or move bookings.
    with pytest.raises(DomainError, match="已完成"):
        service.act_on_booking(s, actor=manager, booking_id=first.id, action="accept")
    with pytest.raises(NotFound):
        service.get_booking(s, actor=c, booking_id=first.id)
    other_manager = make_user(s, "pilot_platform")
    with pytest.raises(NotFound):
        service.act_on_booking(s, actor=other_manager, booking_id=second.id, action="schedule")
    with pytest.raises(PermissionDenied):
        service.act_on_booking(s, actor=b, booking_id=second.id, action="schedule")
    # Each step told the other side in English too (the platform's name and titles as typed).
    notices = english_notices(s, data=(p.name, first.title, second.title, third.title))
    assert notices["pilot.booking"].title_en == "New booking: 第三个"
    assert notices["pilot.booking.decline"].title_en == f"{p.name}: booking “第三个” declined"
    assert notices["pilot.booking.decline"].body_en == "设备检修"
    assert notices["pilot.booking.complete"].title_en == (
        f"{p.name}: booking “正极材料放大试验” completed"
    )


def test_capacity_clash_at_accept_names_the_booking(db_session: Session, platforms) -> None:
    s = db_session
    p = platforms["国家稀土功能材料中试平台"]  # capacity 1
    admin = make_user(s, "admin")
    x, y = make_user(s, "tech_manager"), make_user(s, "tech_manager")
    one = service.request_booking(s, actor=x, platform_id=p.id, data=_booking())
    two = service.request_booking(s, actor=y, platform_id=p.id, data=_booking(title="稀土萃取"))
    service.act_on_booking(s, actor=admin, booking_id=one.id, action="accept")
    with pytest.raises(DomainError) as err:
        service.act_on_booking(s, actor=admin, booking_id=two.id, action="accept")
    assert f"#{one.id}" in err.value.message and two.status == "requested"


def test_bad_booking_input(db_session: Session, platforms) -> None:
    p = platforms["江苏新材料中试基地"]
    u = make_user(db_session, "tech_manager")
    for change, field in (
        ({"start_on": TODAY - timedelta(days=1)}, "start_on"),
        ({"end_on": TODAY + timedelta(days=5)}, "end_on"),
        ({"quantity": 3}, "quantity"),
        ({"service": "scale_up"}, "service"),
        ({"title": " "}, "title"),
    ):
        with pytest.raises(DomainError) as err:
            service.request_booking(db_session, actor=u, platform_id=p.id, data=_booking(**change))
        assert err.value.field == field


def test_suggestions_explained_and_same_region_first(db_session: Session, platforms) -> None:
    found = service.suggest_platforms(
        db_session, industries=["3252"], ipc_codes=["C22B7/00"], province="内蒙古"
    )
    names = [f.platform.name for f in found]
    assert names[0] == "国家稀土功能材料中试平台" and "江苏新材料中试基地" in names
    assert any("同省" in r for r in found[0].reasons) and any("C22B" in r for r in found[0].reasons)
    jiangsu = service.suggest_platforms(
        db_session, industries=[], ipc_codes=["C22B"], province="江苏"
    )
    assert jiangsu[0].platform.name == "江苏新材料中试基地"


def test_only_its_manager_edits_a_platform(db_session: Session, platforms) -> None:
    p = platforms["江苏新材料中试基地"]
    mine, other = make_user(db_session, "pilot_platform"), make_user(db_session, "pilot_platform")
    service.link_manager(db_session, actor=None, platform_id=p.id, user_id=mine.id, system=True)
    data = service.PlatformInput(
        name=p.name,
        operator=p.operator,
        level="national",
        province="江苏",
        industries=["26"],
        ipc_classes=[],
        services=["pilot"],
        capacity=3,
    )
    with pytest.raises(PermissionDenied):
        service.update_platform(db_session, actor=other, platform_id=p.id, data=data)
    service.update_platform(db_session, actor=mine, platform_id=p.id, data=data)
    assert (p.level, p.capacity) == ("national", 3)
    ranked = service.platforms_by_province(db_session)
    assert ranked[0][0] in ("江苏", "内蒙古") and sum(n for _, n, _ in ranked) == 2
