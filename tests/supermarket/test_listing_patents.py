"""A listing's patents can be changed after creation: add and remove package members, pick the
lead patent, under the same checks as creation; a refused change leaves the listing as it was.
Driven through the service, the editor page and the JSON API on both databases."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.inventory.models import PoolEntry
from shuanglian.patents.models import Institution, Patent
from shuanglian.supermarket import service
from shuanglian.supermarket.models import Listing, ListingPatent
from shuanglian.supermarket.service import ListingInput
from tests.web.factories import (
    csrf_of,
    login,
    make_institution,
    make_listing,
    make_patent,
    make_user,
    pool,
)

TEXT = dict(
    title="石墨烯散热成果包",
    summary="石墨烯导热膜与配套工艺，适用于手机与服务器散热。",
    modes=["licence"],
)


@dataclass
class World:
    inst: Institution
    staff: User
    listing: Listing
    first: Patent  # the listing's only patent at the start
    spare: list[Patent]  # pooled patents of the same institution, not yet in the listing


def _world(session: Session, *, publish: bool = True) -> World:
    inst = make_institution(session)
    staff = make_user(session, "institution_staff", institution_id=inst.id)
    first = make_patent(session, inst, title="一种石墨烯导热膜")
    spare = [
        make_patent(session, inst, title="一种钙钛矿太阳能电池"),
        make_patent(session, inst, title="一种柔性热管"),
    ]
    for patent in spare:
        pool(session, patent)
    listing = make_listing(
        session, inst, title=TEXT["title"], patents=[first], publish=publish, modes=["licence"]
    )
    return World(inst, staff, listing, first, spare)


def _members(session: Session, listing_id: int) -> list[int]:
    """The package as stored, in order (read from the database, not the identity map)."""
    session.expire_all()
    return list(
        session.scalars(
            select(ListingPatent.patent_id)
            .where(ListingPatent.listing_id == listing_id)
            .order_by(ListingPatent.position)
        )
    )


def _found(session: Session, q: str) -> set[int]:
    return {x.id for x in service.search_listings(session, q=q).items}


def test_members_are_added_removed_and_the_lead_changes(db_session) -> None:
    w = _world(db_session)
    solar, heat_pipe = w.spare
    assert w.listing.id not in _found(db_session, "钙钛矿")
    service.update_listing(
        db_session,
        actor=w.staff,
        listing_id=w.listing.id,
        data=ListingInput(**TEXT),
        patent_ids=[solar.id, w.first.id, heat_pipe.id],
    )
    assert _members(db_session, w.listing.id) == [solar.id, w.first.id, heat_pipe.id]
    listing = db_session.get(Listing, w.listing.id)
    assert listing.patent_id == solar.id  # the lead patent is the first
    assert w.listing.id in _found(db_session, "钙钛矿")  # search text follows the package
    assert solar.application_number.lower() in listing.search_text.lower()

    service.update_listing(
        db_session,
        actor=w.staff,
        listing_id=w.listing.id,
        data=ListingInput(**TEXT),
        patent_ids=[heat_pipe.id, heat_pipe.id],  # duplicates collapse
    )
    assert _members(db_session, w.listing.id) == [heat_pipe.id]
    assert db_session.get(Listing, w.listing.id).patent_id == heat_pipe.id
    assert w.listing.id not in _found(db_session, "钙钛矿")
    assert w.listing.id in _found(db_session, "柔性热管")


def test_without_patent_ids_the_package_stays(db_session) -> None:
    w = _world(db_session)
    changed = {**TEXT, "title": "石墨烯散热（更新）"}
    service.update_listing(
        db_session, actor=w.staff, listing_id=w.listing.id, data=ListingInput(**changed)
    )
    assert _members(db_session, w.listing.id) == [w.first.id]
    assert db_session.get(Listing, w.listing.id).title == "石墨烯散热（更新）"


def test_an_unchanged_package_stays_editable_after_its_patent_left_the_pool(db_session) -> None:
    w = _world(db_session)
    for entry in db_session.scalars(select(PoolEntry).where(PoolEntry.patent_id == w.first.id)):
        entry.active = False
    db_session.flush()
    service.update_listing(
        db_session,
        actor=w.staff,
        listing_id=w.listing.id,
        data=ListingInput(**{**TEXT, "title": "仍可修改"}),
        patent_ids=[w.first.id],
    )
    assert db_session.get(Listing, w.listing.id).title == "仍可修改"
    # …but adding a member re-checks the whole package, the unpooled one included.
    with pytest.raises(DomainError) as err:
        service.update_listing(
            db_session,
            actor=w.staff,
            listing_id=w.listing.id,
            data=ListingInput(**TEXT),
            patent_ids=[w.first.id, w.spare[0].id],
        )
    assert err.value.field == "patent_ids" and w.first.application_number in err.value.message


def _bad_packages(session: Session, w: World) -> dict[str, list[int]]:
    other = make_institution(session)
    foreign = make_patent(session, other, title="他校专利")
    pool(session, foreign)
    unpooled = make_patent(session, w.inst, title="未入库专利")
    many = [make_patent(session, w.inst, title=f"专利{i}") for i in range(service.MAX_PACKAGE)]
    for patent in many:
        pool(session, patent)
    return {
        "empty": [],
        "not pooled": [w.first.id, unpooled.id],
        "other institution": [w.first.id, foreign.id],
        "only another institution's": [foreign.id],
        "too many": [w.first.id] + [p.id for p in many],
        "missing": [w.first.id, 2_000_000_000],
    }


@pytest.mark.parametrize("actor_role", ["staff", "admin"])
def test_refused_packages_leave_the_listing_unchanged(actor_role: str, db_session) -> None:
    w = _world(db_session)
    actor = w.staff if actor_role == "staff" else make_user(db_session, "admin")
    before = db_session.get(Listing, w.listing.id)
    title, search_text = before.title, before.search_text
    for case, ids in _bad_packages(db_session, w).items():
        with pytest.raises(DomainError) as err:
            service.update_listing(
                db_session,
                actor=actor,
                listing_id=w.listing.id,
                data=ListingInput(**{**TEXT, "title": "不应保存"}),
                patent_ids=ids,
            )
        assert err.value.field == "patent_ids", case
        assert _members(db_session, w.listing.id) == [w.first.id], case
        after = db_session.get(Listing, w.listing.id)
        assert (after.title, after.search_text, after.patent_id) == (
            title,
            search_text,
            w.first.id,
        ), case


def test_other_institutions_staff_may_not_change_the_package(db_session) -> None:
    w = _world(db_session)
    draft = make_listing(db_session, w.inst, title="草稿成果", publish=False)
    elsewhere = make_institution(db_session)
    other = make_user(db_session, "institution_staff", institution_id=elsewhere.id)
    for actor, listing_id, error in (
        (other, w.listing.id, PermissionDenied),
        (None, w.listing.id, PermissionDenied),
        (make_user(db_session, "tech_manager"), w.listing.id, PermissionDenied),
        (other, draft.id, NotFound),  # another institution's draft is not even revealed
    ):
        with pytest.raises(error):
            service.update_listing(
                db_session,
                actor=actor,
                listing_id=listing_id,
                data=ListingInput(**TEXT),
                patent_ids=[w.spare[0].id],
            )
    assert _members(db_session, w.listing.id) == [w.first.id]


def test_the_editor_changes_the_package_and_reports_errors_at_the_field(
    client: TestClient, db_session
) -> None:
    w = _world(db_session)
    solar, heat_pipe = w.spare
    login(client, w.staff)
    page = client.get(f"/market/{w.listing.id}/edit")
    assert page.status_code == 200
    # Members come first and are ticked, the lead is chosen; the other pooled patents follow.
    assert f'name="patent_ids" value="{w.first.id}" checked' in page.text
    assert f'name="lead_patent_id" value="{w.first.id}" aria-label' in page.text
    assert f'name="patent_ids" value="{solar.id}" >' in page.text
    assert page.text.index("一种石墨烯导热膜") < page.text.index("一种钙钛矿太阳能电池")
    token = csrf_of(client, f"/market/{w.listing.id}/edit")
    form = {
        "csrf_token": token,
        "patents_shown": "1",
        "title": TEXT["title"],
        "summary": TEXT["summary"],
        "modes": "licence",
        "status": "published",
    }
    done = client.post(
        f"/market/{w.listing.id}/edit",
        data={**form, "patent_ids": [str(w.first.id), str(solar.id)], "lead_patent_id": solar.id},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert _members(db_session, w.listing.id) == [solar.id, w.first.id]
    detail = client.get(f"/market/{w.listing.id}")
    assert "一种钙钛矿太阳能电池" in detail.text

    # Choosing a lead that is not ticked ticks it.
    client.post(
        f"/market/{w.listing.id}/edit",
        data={**form, "patent_ids": str(solar.id), "lead_patent_id": heat_pipe.id},
        follow_redirects=False,
    )
    assert _members(db_session, w.listing.id) == [heat_pipe.id, solar.id]

    empty = client.post(f"/market/{w.listing.id}/edit", data={**form, "title": "不应保存"})
    assert empty.status_code == 422 and 'id="err-patent_ids"' in empty.text
    assert "不应保存" in empty.text  # the form keeps what was typed
    assert _members(db_session, w.listing.id) == [heat_pipe.id, solar.id]
    assert db_session.get(Listing, w.listing.id).title == TEXT["title"]

    # A post without the patent list (a script sending only text) keeps the package.
    text_only = {k: v for k, v in form.items() if k != "patents_shown"}
    kept = client.post(
        f"/market/{w.listing.id}/edit",
        data={**text_only, "title": "只改标题"},
        follow_redirects=False,
    )
    assert kept.status_code == 303
    assert _members(db_session, w.listing.id) == [heat_pipe.id, solar.id]


def test_api_put_replaces_the_package(client: TestClient, db_session) -> None:
    from shuanglian.accounts.service import create_api_token

    w = _world(db_session)
    solar, _ = w.spare
    _, plain = create_api_token(db_session, user=w.staff, name="script")
    auth = {"Authorization": f"Bearer {plain}"}
    body = {**TEXT, "patent_ids": [solar.id, w.first.id]}
    response = client.put(f"/api/v1/listings/{w.listing.id}", json=body, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["patent_ids"] == [solar.id, w.first.id]
    assert response.json()["status"] == "published"

    unpooled = make_patent(db_session, w.inst, title="未入库专利")
    refused = client.put(
        f"/api/v1/listings/{w.listing.id}",
        json={**TEXT, "title": "不应保存", "patent_ids": [unpooled.id]},
        headers=auth,
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "patent_ids"
    assert _members(db_session, w.listing.id) == [solar.id, w.first.id]
    assert db_session.get(Listing, w.listing.id).title == TEXT["title"]

    withdrawn = client.put(
        f"/api/v1/listings/{w.listing.id}", json={**TEXT, "status": "withdrawn"}, headers=auth
    )
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["patent_ids"] == [solar.id, w.first.id]  # omitted: kept

    elsewhere = make_institution(db_session)
    other = make_user(db_session, "institution_staff", institution_id=elsewhere.id)
    _, other_token = create_api_token(db_session, user=other, name="other")
    denied = client.put(
        f"/api/v1/listings/{w.listing.id}",
        json={**TEXT, "patent_ids": [w.first.id]},
        headers={"Authorization": f"Bearer {other_token}"},
    )
    assert denied.status_code in (403, 404)  # withdrawn now: not even revealed
    assert client.put(f"/api/v1/listings/{w.listing.id}", json=body).status_code in (403, 404)
    assert _members(db_session, w.listing.id) == [solar.id, w.first.id]
