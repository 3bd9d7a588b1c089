"""Pilot platforms where the work is: suggested on a challenge in progress, a listing and a deal
(with a booking prefilled from the suggestion and the deal's 中试 step taken with it), booking
outcome documents, and a verified challenge turned into a deal, through HTTP on both databases.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from shuanglian.challenges import service as challenges
from shuanglian.deals import pipeline
from shuanglian.deals.contracts import create_contract
from shuanglian.deals.models import Deal
from shuanglian.errors import DomainError, NotFound
from shuanglian.pilots import service
from shuanglian.pilots.models import PilotBooking
from tests.challenges.factories import TODAY, apply, make_challenge, verified_challenge
from tests.deals.helpers import build_world, contract_data, open_deal
from tests.web.factories import (
    csrf_of,
    login,
    make_enterprise,
    make_institution,
    make_listing,
    make_patent,
    make_user,
    pool,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _platform(session: Session, name: str, **kw: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "name": name,
        "operator": "某产业技术研究院",
        "level": "provincial",
        "province": "江苏",
        "city": "苏州",
        "industries": ["42"],
        "ipc_classes": ["H01M"],
        "services": ["pilot", "testing"],
        "capacity": 2,
    }
    values.update(kw)
    return service.create_platform(session, actor=None, data=service.PlatformInput(**values))  # type: ignore[arg-type]


def _logout(client: TestClient) -> None:
    client.post("/logout", data={"csrf_token": csrf_of(client, "/challenges")})


# --------------------------------------------------------------------------- challenge → deal
def test_verified_challenge_starts_a_prefilled_deal(client: TestClient, db_session: Session):
    s = db_session
    ent = make_enterprise(s)
    owner = make_user(s, "enterprise_user", enterprise_id=ent.id)
    inst = make_institution(s)
    staff = make_user(s, "institution_staff", institution_id=inst.id)
    patent = make_patent(s, inst, title="一种废旧锂电池钴锂湿法回收方法")
    pool(s, patent)
    ch, app = verified_challenge(s, owner, staff, patent_ids=[patent.id])
    outsider = make_user(s, "institution_staff", institution_id=make_institution(s).id)

    form = pipeline.prefill_deal(s, actor=owner, challenge_id=ch.id)
    assert (form["enterprise_id"], form["institution_id"], form["patent_ids"]) == (
        ent.id,
        inst.id,
        [patent.id],
    )
    assert form["source"] == "challenge" and form["challenge_id"] == ch.id
    with pytest.raises(NotFound):  # who was accepted is private to the challenge's parties
        pipeline.prefill_deal(s, actor=outsider, challenge_id=ch.id)
    with pytest.raises(DomainError) as err:
        pipeline.prefill_deal(s, actor=owner, challenge_id=ch.id, application_id=app.id + 999)
    assert err.value.field == "application_id"
    open_one = make_challenge(s, owner)
    with pytest.raises(DomainError, match="验题通过后"):
        pipeline.prefill_deal(s, actor=owner, challenge_id=open_one.id)

    # The challenge page offers the step to both sides; the form comes prefilled and saves.
    login(client, owner)
    page = client.get(f"/challenges/{ch.id}")
    link = f"/deals/new?challenge_id={ch.id}&amp;application_id={app.id}"
    assert 'id="to-deal"' in page.text and link in page.text
    new = client.get(link.replace("&amp;", "&"))
    assert new.status_code == 200
    # The pickers show what was prefilled by name, with the record's number.
    assert f"{ent.name} (#{ent.id})" in new.text
    assert f"{inst.name} (#{inst.id})" in new.text
    assert f"(#{patent.id})" in new.text and patent.title in new.text
    assert f'name="challenge_id" value="{ch.id}"' in new.text
    _logout(client)
    login(client, staff)  # the institution side opens it (enterprise users may too)
    assert link in client.get(f"/challenges/{ch.id}").text
    new = client.get(link.replace("&amp;", "&"))
    pairs = re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', new.text)
    fields = {k: v for k, v in pairs if k != "patent_ids"}
    fields["patent_ids"] = [v for k, v in pairs if k == "patent_ids" and v]  # type: ignore[assignment]
    made = client.post("/deals", data=fields, follow_redirects=False)
    assert made.status_code == 303, made.text
    deal = s.get(Deal, int(made.headers["location"].rsplit("/", 1)[1]))
    assert deal is not None and deal.source == "challenge" and deal.challenge_id == ch.id
    assert [i.patent_id for i in deal.items] == [patent.id] and deal.enterprise_id == ent.id
    _logout(client)
    login(client, outsider)
    assert client.get(f"/deals/new?challenge_id={ch.id}").status_code == 404
    assert 'id="to-deal"' not in client.get(f"/challenges/{ch.id}").text


# --------------------------------------------------------------------------- suggestions
def test_challenge_in_progress_shows_platforms_to_its_parties(
    client: TestClient, db_session: Session
) -> None:
    s = db_session
    near = _platform(s, "苏州锂电中试基地")
    _platform(s, "哈尔滨焊接中试平台", industries=["34"], ipc_classes=["B23K"], province="黑龙江")
    ent = make_enterprise(s)
    owner = make_user(s, "enterprise_user", enterprise_id=ent.id)
    staff = make_user(s, "institution_staff", institution_id=make_institution(s).id)
    outsider = make_user(s, "tech_manager")
    ch = make_challenge(s, owner)  # industry 42, region 江苏苏州
    challenges.act_on_challenge(s, actor=owner, challenge_id=ch.id, action="publish")
    app = apply(s, staff, ch)
    challenges.decide_application(s, actor=owner, application_id=app.id, action="accept")
    login(client, staff)
    assert 'id="pilot-suggestions"' not in client.get(f"/challenges/{ch.id}").text  # published
    challenges.act_on_challenge(s, actor=owner, challenge_id=ch.id, action="start")
    page = client.get(f"/challenges/{ch.id}")
    assert 'id="pilot-suggestions"' in page.text and "苏州锂电中试基地" in page.text
    assert "同城：苏州" in page.text and "哈尔滨焊接中试平台" not in page.text
    book = f"/pilots/{near.id}?challenge_id={ch.id}#book"
    assert book in page.text
    form = client.get(book.split("#")[0])
    assert f'name="challenge_id" inputmode="numeric" value="{ch.id}"' in form.text
    assert "Suggested pilot platforms" in client.get(f"/challenges/{ch.id}?lang=en").text
    _logout(client)
    login(client, outsider)
    assert 'id="pilot-suggestions"' not in client.get(f"/challenges/{ch.id}").text


def test_listing_page_shows_platforms_to_signed_in_visitors(
    client: TestClient, db_session: Session
) -> None:
    s = db_session
    platform = _platform(s, "苏州锂电中试基地")
    inst = make_institution(s)
    listing = make_listing(s, inst, patents=[make_patent(s, inst, main_ipc="H01M10/54")])
    assert 'id="pilot-suggestions"' not in client.get(f"/market/{listing.id}").text
    login(client, make_user(s, "enterprise_user", enterprise_id=make_enterprise(s).id))
    page = client.get(f"/market/{listing.id}")
    assert 'id="pilot-suggestions"' in page.text and "IPC 分类相同：H01M" in page.text
    assert f"/pilots/{platform.id}?listing_id={listing.id}#book" in page.text
    form = client.get(f"/pilots/{platform.id}?listing_id={listing.id}")
    assert f'name="listing_id" value="{listing.id}"' in form.text
    made = client.post(
        f"/pilots/{platform.id}/book",
        data={
            "csrf_token": csrf_of(client, f"/pilots/{platform.id}"),
            "title": "正极材料放大",
            "service": "pilot",
            "quantity": "1",
            "start_on": (TODAY + timedelta(days=5)).isoformat(),
            "end_on": (TODAY + timedelta(days=9)).isoformat(),
            "listing_id": str(listing.id),
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    booking = s.get(PilotBooking, int(made.headers["location"].rsplit("/", 1)[1]))
    assert booking is not None and booking.listing_id == listing.id
    assert f'href="/market/{listing.id}"' in client.get(made.headers["location"]).text


def _deal_at_contract(s: Session):  # type: ignore[no-untyped-def]
    w = build_world(s)
    deal = open_deal(s, w)
    for action in ("sign_nda", "start_due_diligence", "negotiate"):
        pipeline.move_deal(s, actor=w.staff, deal_id=deal.id, action=action)
    create_contract(s, actor=w.staff, data=contract_data(w, "licence", "ordinary", deal_id=deal.id))
    pipeline.move_deal(s, actor=w.staff, deal_id=deal.id, action="sign")
    assert deal.stage == "contract"
    return w, deal


def test_deal_page_suggests_platforms_and_starts_the_pilot_with_a_booking(
    client: TestClient, db_session: Session
) -> None:
    s = db_session
    platform = _platform(s, "建材固废中试基地", industries=["30"], ipc_classes=["C04B"])
    manager = make_user(s, "pilot_platform")
    service.link_manager(s, actor=None, platform_id=platform.id, user_id=manager.id, system=True)
    w, deal = _deal_at_contract(s)
    early = open_deal(s, w, title="另一个接洽中的项目")
    login(client, w.staff)
    assert 'id="pilot"' not in client.get(f"/deals/{early.id}").text  # 接洽: not yet
    page = client.get(f"/deals/{deal.id}")
    assert 'id="pilot"' in page.text and "建材固废中试基地" in page.text
    book = f"/pilots/{platform.id}?deal_id={deal.id}#book"
    assert book in page.text
    form = client.get(book.split("#")[0])
    assert (
        f'name="deal_id" value="{deal.id}"' in form.text and f'href="/deals/{deal.id}"' in form.text
    )
    data = {
        "csrf_token": csrf_of(client, f"/pilots/{platform.id}"),
        "title": "胶凝材料中试",
        "service": "pilot",
        "quantity": "1",
        "start_on": (TODAY + timedelta(days=3)).isoformat(),
        "end_on": (TODAY + timedelta(days=30)).isoformat(),
        "deal_id": str(deal.id),
    }
    made = client.post(f"/pilots/{platform.id}/book", data=data, follow_redirects=False)
    assert made.status_code == 303
    booking = s.get(PilotBooking, int(made.headers["location"].rsplit("/", 1)[1]))
    assert booking is not None and service.deal_id_of(booking) == deal.id
    assert f'href="/deals/{deal.id}"' in client.get(made.headers["location"]).text
    page = client.get(f"/deals/{deal.id}")
    assert f"#{booking.id}" in page.text and "以此预约进入中试" not in page.text  # not accepted
    service.act_on_booking(s, actor=manager, booking_id=booking.id, action="accept")
    page = client.get(f"/deals/{deal.id}")
    assert "以此预约进入中试" in page.text
    moved = client.post(
        f"/deals/{deal.id}/move",
        data={
            "csrf_token": csrf_of(client, f"/deals/{deal.id}"),
            "action": "start_pilot",
            "pilot_booking_ref": f"预约#{booking.id} {platform.name}",
        },
        follow_redirects=False,
    )
    assert moved.status_code == 303
    s.refresh(deal)
    assert deal.stage == "pilot" and deal.pilot_booking_ref.startswith(f"预约#{booking.id}")
    _logout(client)

    # Someone outside the deal cannot attach a booking to it (refused at the field, nothing saved).
    stranger = make_user(s, "enterprise_user", enterprise_id=make_enterprise(s).id)
    login(client, stranger)
    assert client.get(f"/deals/{deal.id}").status_code == 404
    before = s.query(PilotBooking).count()
    refused = client.post(
        f"/pilots/{platform.id}/book",
        data={**data, "csrf_token": csrf_of(client, f"/pilots/{platform.id}")},
    )
    assert refused.status_code == 422 and "洽谈项目" in refused.text
    assert s.query(PilotBooking).count() == before


# --------------------------------------------------------------------------- outcome documents
def test_booking_completes_with_outcome_documents(client: TestClient, db_session: Session):
    s = db_session
    platform = _platform(s, "苏州锂电中试基地")
    manager = make_user(s, "pilot_platform")
    service.link_manager(s, actor=None, platform_id=platform.id, user_id=manager.id, system=True)
    requester = make_user(s, "tech_manager")
    booking = service.request_booking(
        s,
        actor=requester,
        platform_id=platform.id,
        data=service.BookingInput(
            title="正极材料放大",
            service="pilot",
            quantity=1,
            start_on=TODAY + timedelta(days=1),
            end_on=TODAY + timedelta(days=4),
        ),
    )
    for action in ("accept", "schedule"):
        service.act_on_booking(s, actor=manager, booking_id=booking.id, action=action)
    login(client, manager)
    url = f"/pilots/bookings/{booking.id}"
    page = client.get(url)
    assert f'action="/pilots/bookings/{booking.id}/complete/upload"' in page.text
    token = csrf_of(client, url)
    # No report: refused at the field, the booking stays scheduled and no file is kept.
    bad = client.post(
        f"{url}/complete/upload",
        data={"csrf_token": token, "report": ""},
        files=[("file", ("检测报告.pdf", PDF, "application/pdf"))],
    )
    assert bad.status_code == 422 and "结果报告" in bad.text
    s.refresh(booking)
    assert booking.status == "scheduled"
    assert service.booking_documents(s, actor=manager, booking_id=booking.id) == []
    # A renamed executable: refused, nothing changes.
    bad = client.post(
        f"{url}/complete/upload",
        data={"csrf_token": token, "report": "收率 92%"},
        files=[("file", ("报告.pdf", b"MZ\x90\x00binary", "application/pdf"))],
    )
    assert bad.status_code == 422 and "不符" in bad.text and "收率 92%" in bad.text
    s.refresh(booking)
    assert booking.status == "scheduled"
    done = client.post(
        f"{url}/complete/upload",
        data={"csrf_token": token, "report": "放大 50 倍，收率 92%，工艺包见附件"},
        files=[
            ("file", ("检测报告.pdf", PDF, "application/pdf")),
            ("file", ("物料衡算.csv", "批次,收率\n1,92\n".encode(), "text/csv")),
        ],
        follow_redirects=False,
    )
    assert done.status_code == 303
    s.refresh(booking)
    assert booking.status == "completed" and "收率 92%" in (booking.outcome_report or "")
    docs = service.booking_documents(s, actor=manager, booking_id=booking.id)
    assert [d.filename for d in docs] == ["检测报告.pdf", "物料衡算.csv"]
    more = client.post(
        f"{url}/files/upload",
        data={"csrf_token": token},
        files=[("file", ("工艺包.txt", "温度 85℃".encode(), "text/plain"))],
        follow_redirects=False,
    )
    assert more.status_code == 303
    _logout(client)

    login(client, requester)
    page = client.get(url)
    for name in ("检测报告.pdf", "物料衡算.csv", "工艺包.txt"):
        assert name in page.text
    told = client.get("/notifications?lang=en").text
    assert "苏州锂电中试基地: new result document for booking “正极材料放大”" in told
    assert "工艺包.txt" in told and "有新的结果文件" not in told
    assert "有新的结果文件" in client.get("/notifications?lang=zh").text
    got = client.get(f"/pilots/bookings/files/{docs[0].id}")
    assert got.status_code == 200 and got.content == PDF
    assert "attachment" in got.headers["content-disposition"]
    refused = client.post(
        f"{url}/files/upload",
        data={"csrf_token": csrf_of(client, url)},
        files=[("file", ("x.txt", b"x", "text/plain"))],
    )
    assert refused.status_code == 403  # only the platform adds outcome documents
    _logout(client)
    login(client, make_user(s, "tech_manager"))
    assert client.get(f"/pilots/bookings/files/{docs[0].id}").status_code == 404
