"""我的收藏 and 我的关注 in the JSON API (/api/v1/me/…), on SQLite and PostgreSQL.

The routes call the functions /market/saved calls, so the answers match the page: the same
saved listings in the same order, the same follows, the same refusals under the same field.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.accounts import service as accounts
from shuanglian.accounts.models import User
from shuanglian.supermarket import interest
from shuanglian.supermarket.models import Listing, MarketFollow, SavedListing
from tests.web.factories import (
    csrf_of,
    login,
    make_enterprise,
    make_institution,
    make_listing,
    make_user,
)

SAVED = "/api/v1/me/saved-listings"
FOLLOWS = "/api/v1/me/follows"


def _bearer(session: Session, user: User) -> dict[str, str]:
    _, plain = accounts.create_api_token(session, user=user, name="script")
    return {"Authorization": f"Bearer {plain}"}


def _member(session: Session) -> User:
    return make_user(session, "enterprise_user", enterprise_id=make_enterprise(session).id)


def _error(response: Any, status: int, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"code", "message", "field"} and error["field"] == field, error
    return error


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_saved_listings_match_the_page_newest_saved_first(
    client: TestClient, db_session: Session
) -> None:
    inst = make_institution(db_session)
    first = make_listing(db_session, inst, title="废旧锂电池高效回收技术")
    second = make_listing(db_session, inst, title="钙钛矿太阳能电池封装技术")
    gone = make_listing(db_session, inst, title="将被撤下的成果")
    member = _member(db_session)
    auth = _bearer(db_session, member)
    for listing in (first, second, gone, first):  # the second save of `first` keeps one
        made = client.post(SAVED, json={"listing_id": listing.id}, headers=auth)
        assert made.status_code == 201, made.text
        assert made.json()["listing"]["title"] == listing.title
    assert _count(db_session, SavedListing) == 3
    db_session.get(Listing, gone.id).status = "withdrawn"  # type: ignore[union-attr]
    db_session.flush()

    page = client.get(SAVED, headers=auth)
    assert page.status_code == 200
    body = page.json()
    assert body["total"] == 2 and (body["offset"], body["limit"]) == (0, 50)
    assert [x["listing_id"] for x in body["items"]] == [second.id, first.id]
    shown = interest.saved_listings(db_session, user=member)  # what /market/saved lists
    assert [x["listing"]["id"] for x in body["items"]] == [x.id for x in shown]
    assert body["items"][0]["saved_at"].endswith(("Z", "+00:00"))
    one = client.get(SAVED, params={"offset": 1, "limit": 1}, headers=auth).json()
    assert (one["total"], [x["listing_id"] for x in one["items"]]) == (2, [first.id])

    assert client.delete(f"{SAVED}/{second.id}", headers=auth).status_code == 204
    assert [x["listing_id"] for x in client.get(SAVED, headers=auth).json()["items"]] == [first.id]
    _error(client.delete(f"{SAVED}/{second.id}", headers=auth), 404, None)  # no longer saved


def test_saving_refuses_unknown_listings_and_bad_input_by_field(
    client: TestClient, db_session: Session
) -> None:
    inst = make_institution(db_session)
    draft = make_listing(db_session, inst, publish=False)
    auth = _bearer(db_session, _member(db_session))
    for listing_id in (draft.id, 2_000_000_000):  # another's draft reads as missing
        _error(client.post(SAVED, json={"listing_id": listing_id}, headers=auth), 404, None)
        _error(client.delete(f"{SAVED}/{listing_id}", headers=auth), 404, None)
    for body in ({}, {"listing_id": "abc"}, {"listing_id": 0}, {"listing_id": 2**31}):
        _error(client.post(SAVED, json=body, headers=auth), 422, "listing_id")
    _error(client.post(SAVED, json={"listing_id": draft.id, "x": 1}, headers=auth), 422, "x")
    _error(client.get(SAVED, params={"limit": 101}, headers=auth), 422, "limit")
    _error(client.get(SAVED, params={"offset": -1}, headers=auth), 422, "offset")
    _error(client.delete(f"{SAVED}/abc", headers=auth), 422, "listing_id")
    assert _count(db_session, SavedListing) == 0


def test_follows_are_the_forms_follows(client: TestClient, db_session: Session) -> None:
    member = _member(db_session)
    auth = _bearer(db_session, member)
    words = client.post(FOLLOWS, json={"q": "  锂电池   回收 "}, headers=auth)
    assert words.status_code == 201, words.text
    assert words.json() | {"created_at": None} == {
        "id": words.json()["id"],
        "q": "锂电池 回收",
        "industry": None,
        "industry_label": None,
        "created_at": None,
    }
    trade = client.post(FOLLOWS, json={"industry": "38"}, headers=auth).json()
    assert (trade["q"], trade["industry"]) == (None, "C38")
    assert trade["industry_label"].startswith("C38 电气机械")
    again = client.post(FOLLOWS, json={"q": "锂电池 回收"}, headers=auth).json()
    assert again["id"] == words.json()["id"]  # the same search is followed once

    listed = client.get(FOLLOWS, headers=auth).json()
    assert listed["total"] == 2
    shown = interest.follows_of(db_session, user=member)  # what /market/saved lists
    assert [f["id"] for f in listed["items"]] == [f.id for f in shown]
    assert client.get(FOLLOWS, params={"offset": 1}, headers=auth).json()["items"] == [trade]

    assert client.delete(f"{FOLLOWS}/{trade['id']}", headers=auth).status_code == 204
    assert [f["id"] for f in client.get(FOLLOWS, headers=auth).json()["items"]] == [
        words.json()["id"]
    ]
    _error(client.delete(f"{FOLLOWS}/{trade['id']}", headers=auth), 404, None)


def test_a_refused_follow_names_the_field_and_stores_nothing(
    client: TestClient, db_session: Session
) -> None:
    auth = _bearer(db_session, _member(db_session))
    cases: list[tuple[dict[str, object], int, str]] = [
        ({}, 400, "q"),  # neither words nor an industry
        ({"q": "   "}, 400, "q"),
        ({"industry": "不存在的行业"}, 400, "industry"),
        ({"q": "长" * 201}, 400, "q"),
        ({"q": "长" * 1001}, 422, "q"),
        ({"q": "锂\x00电池"}, 422, "q"),
        ({"industry": 38}, 422, "industry"),
        ({"words": "锂电池"}, 422, "words"),
    ]
    for body, status, field in cases:
        error = _error(client.post(FOLLOWS, json=body, headers=auth), status, field)
        assert "(" in error["message"] or status == 422, error  # zh-CN first, then English
    assert _count(db_session, MarketFollow) == 0
    for n in range(interest.MAX_FOLLOWS):
        assert client.post(FOLLOWS, json={"q": f"词{n}"}, headers=auth).status_code == 201
    _error(client.post(FOLLOWS, json={"q": "再多一个"}, headers=auth), 400, "q")
    assert client.get(FOLLOWS, params={"limit": 100}, headers=auth).json()["total"] == 50


def test_only_ones_own_saves_and_follows(client: TestClient, db_session: Session) -> None:
    listing = make_listing(db_session, make_institution(db_session))
    alice, bob = _member(db_session), _member(db_session)
    staff = make_user(db_session, "institution_staff", institution_id=listing.institution_id)
    alice_auth, bob_auth = _bearer(db_session, alice), _bearer(db_session, bob)
    client.post(SAVED, json={"listing_id": listing.id}, headers=alice_auth)
    follow_id = client.post(FOLLOWS, json={"q": "锂电池"}, headers=alice_auth).json()["id"]

    for who in (bob_auth, _bearer(db_session, staff)):
        assert client.get(SAVED, headers=who).json()["total"] == 0
        assert client.get(FOLLOWS, headers=who).json()["total"] == 0
        _error(client.delete(f"{FOLLOWS}/{follow_id}", headers=who), 404, None)  # not theirs
        _error(client.delete(f"{SAVED}/{listing.id}", headers=who), 404, None)
    assert client.get(SAVED, headers=alice_auth).json()["total"] == 1
    assert client.get(FOLLOWS, headers=alice_auth).json()["total"] == 1

    # Signed out: refused (403), nothing written.
    for method, path, body in (
        ("GET", SAVED, None),
        ("GET", FOLLOWS, None),
        ("POST", SAVED, {"listing_id": listing.id}),
        ("POST", FOLLOWS, {"q": "锂电池"}),
        ("DELETE", f"{SAVED}/{listing.id}", None),
        ("DELETE", f"{FOLLOWS}/{follow_id}", None),
    ):
        _error(client.request(method, path, json=body), 403, None)
    assert (_count(db_session, SavedListing), _count(db_session, MarketFollow)) == (1, 1)


def test_a_signed_in_browser_needs_the_csrf_header(client: TestClient, db_session: Session) -> None:
    listing = make_listing(db_session, make_institution(db_session))
    member = _member(db_session)
    login(client, member)
    refused = client.post(SAVED, json={"listing_id": listing.id})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf"
    headers = {"X-CSRF-Token": csrf_of(client, "/account")}
    assert client.post(SAVED, json={"listing_id": listing.id}, headers=headers).status_code == 201
    assert client.get(SAVED).json()["total"] == 1  # reads need no token
    assert "废旧锂电池高效回收技术" in client.get("/market/saved").text  # the page agrees
    assert client.delete(f"{SAVED}/{listing.id}").status_code == 403
    assert client.delete(f"{SAVED}/{listing.id}", headers=headers).status_code == 204
