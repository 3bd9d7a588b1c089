"""The permission matrix: role × endpoint → allowed / denied, on both databases.

"Denied" is 403, or 404 where even the existence of another organisation's private record
must not leak (drafts, demands of another enterprise).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.web.factories import (
    login,
    make_demand,
    make_enterprise,
    make_institution,
    make_listing,
    make_user,
)

ROLES = [
    "anonymous",
    "admin",
    "staff_a",
    "staff_b",
    "enterprise_x",
    "enterprise_y",
    "tech_manager",
    "pilot_platform",
]


@dataclass
class World:
    draft_id: int
    published_id: int
    demand_id: int
    enterprise_id: int


# endpoint → roles allowed; every other role must be denied.
MATRIX: dict[str, set[str]] = {
    "/market": set(ROLES),
    "/market/{published}": set(ROLES),
    "/screen": set(ROLES),
    "/patents": set(ROLES),
    "/api/v1/listings": set(ROLES),
    "/market/{draft}": {"admin", "staff_a"},
    "/api/v1/listings/{draft}": {"admin", "staff_a"},
    "/market/{draft}/edit": {"admin", "staff_a"},
    "/market/{published}/edit": {"admin", "staff_a"},
    "/market/new": {"admin", "staff_a", "staff_b"},
    "/workspace/institution": {"admin", "staff_a", "staff_b"},
    "/workspace/institution/items": {"admin", "staff_a", "staff_b"},
    "/workspace/enterprise": {"enterprise_x", "enterprise_y"},
    # The demand editor: its enterprise's users, and admin (who may edit any demand).
    "/workspace/enterprise/demands/{demand}": {"admin", "enterprise_x"},
    "/account": set(ROLES) - {"anonymous"},
    "/api/v1/me": set(ROLES) - {"anonymous"},
    "/api/v1/tokens": set(ROLES) - {"anonymous"},
    "/admin/users": {"admin"},
    "/admin/audit": {"admin"},
    "/admin/orgs": {"admin"},
    "/admin/reference?q=电池": {"admin"},
    "/api/v1/users": {"admin"},
}


def _build(db_session) -> tuple[World, dict[str, object]]:
    inst_a, inst_b = make_institution(db_session), make_institution(db_session)
    ent_x, ent_y = make_enterprise(db_session), make_enterprise(db_session)
    users = {
        "admin": make_user(db_session, "admin"),
        "staff_a": make_user(db_session, "institution_staff", institution_id=inst_a.id),
        "staff_b": make_user(db_session, "institution_staff", institution_id=inst_b.id),
        "enterprise_x": make_user(db_session, "enterprise_user", enterprise_id=ent_x.id),
        "enterprise_y": make_user(db_session, "enterprise_user", enterprise_id=ent_y.id),
        "tech_manager": make_user(db_session, "tech_manager"),
        "pilot_platform": make_user(db_session, "pilot_platform"),
    }
    world = World(
        draft_id=make_listing(db_session, inst_a, title="草稿成果", publish=False).id,
        published_id=make_listing(db_session, inst_a, title="公开成果").id,
        demand_id=make_demand(db_session, ent_x, "X 企业的私有需求").id,
        enterprise_id=ent_x.id,
    )
    return world, users


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(role: str, client: TestClient, db_session) -> None:
    world, users = _build(db_session)
    if role != "anonymous":
        login(client, users[role])  # type: ignore[arg-type]
    wrong = []
    for template, allowed_roles in MATRIX.items():
        path = template.format(
            draft=world.draft_id, published=world.published_id, demand=world.demand_id
        )
        status = client.get(path, follow_redirects=False).status_code
        allowed = role in allowed_roles
        if allowed and status != 200 or not allowed and status not in (403, 404):
            wrong.append((path, status, "should allow" if allowed else "should deny"))
    assert not wrong, f"{role}: {wrong}"


@pytest.mark.parametrize("role", ["anonymous", "staff_b", "enterprise_y", "tech_manager"])
def test_writes_to_others_records_are_denied(role: str, client: TestClient, db_session) -> None:
    from tests.web.factories import csrf_of

    world, users = _build(db_session)
    if role != "anonymous":
        login(client, users[role])  # type: ignore[arg-type]
    token = csrf_of(client)
    edit = client.post(
        f"/market/{world.published_id}/edit",
        data={
            "csrf_token": token,
            "title": "篡改",
            "summary": "篡改篡改篡改篡改篡改",
            "modes": "licence",
        },
    )
    assert edit.status_code in (403, 404)
    demand = client.post(
        f"/workspace/enterprise/demands/{world.demand_id}",
        data={"csrf_token": token, "title": "篡改", "status": "open"},
    )
    assert demand.status_code in (403, 404)
    api = {"X-CSRF-Token": token}
    demand_api = client.put(
        f"/api/v1/demands/{world.demand_id}",
        json={
            "title": "篡改",
            "description": None,
            "industry_code": None,
            "budget": None,
            "deadline": None,
            "region": None,
        },
        headers=api,
    )
    assert demand_api.status_code in (403, 404)
    new_demand = client.post(
        "/api/v1/demands", json={"enterprise_id": world.enterprise_id, "title": "冒名"}, headers=api
    )
    assert new_demand.status_code in (403, 404)
    profile = client.put(
        f"/api/v1/enterprises/{world.enterprise_id}/profile",
        json={"business_scope": "篡改", "industry_code": None},
        headers=api,
    )
    assert profile.status_code in (403, 404)
    reset = client.post(
        f"/admin/users/{users['admin'].id}/reset",  # type: ignore[attr-defined]
        data={"csrf_token": token, "new_password": "taken-over-12"},
    )
    assert reset.status_code == 403


def test_private_contacts_never_appear_on_public_pages(client: TestClient, db_session) -> None:
    from shuanglian.supermarket.service import submit_inquiry

    listing = make_listing(db_session, make_institution(db_session))
    submit_inquiry(
        db_session,
        listing_id=listing.id,
        name="王五",
        message="我们想谈谈许可条件",
        email="secret-buyer@example.com",
    )
    for path in (f"/market/{listing.id}", "/market", "/screen", f"/api/v1/listings/{listing.id}"):
        assert "secret-buyer@example.com" not in client.get(path).text
