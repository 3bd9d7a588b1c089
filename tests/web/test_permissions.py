"""The permission matrix: role × endpoint → allowed / denied, on both databases.

"Denied" is 403, or 404 where even the existence of another organisation's private record
must not leak (drafts, demands of another enterprise).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.web.factories import (
    PASSWORD,
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
    institution_id: int  # staff_a's
    patent_id: int  # the published listing's lead patent
    target_user_id: int  # a user the admin's user-management writes act on
    # Challenges and pilot platforms (issue 12): enterprise_x's draft and its challenge in
    # progress with staff_a's accepted application; pilot_platform's platform and a booking
    # tech_manager requested there.
    ch_draft: int = 0
    ch_live: int = 0
    application: int = 0
    platform: int = 0
    booking: int = 0


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
    # The audit log: admin sees all, each institution's staff their own institution's entries.
    "/admin/audit": {"admin", "staff_a", "staff_b"},
    "/admin/orgs": {"admin"},
    "/admin/reference?q=电池": {"admin"},
    "/api/v1/users": {"admin"},
    "/api/v1/audit": {"admin", "staff_a", "staff_b"},
    "/api/v1/reference": set(ROLES),
    "/api/v1/reference/industries?q=电池": set(ROLES),
    "/api/v1/reference/wipo-fields": set(ROLES),
    "/api/v1/patents/{patent}/listings": set(ROLES),
    # The institution workspace's data: its own staff and admin.
    "/api/v1/inquiries?institution_id={institution}": {"admin", "staff_a"},
    "/api/v1/institutions/{institution}/listings": {"admin", "staff_a"},
    "/api/v1/inventory/batches?institution_id={institution}": {"admin", "staff_a"},
    # Uploads' pages and the workbooks to fill (issue 5).
    "/workspace/institution/imports": {"admin", "staff_a", "staff_b"},
    "/workspace/institution/assessments/template.xlsx?institution_id={institution}": {
        "admin",
        "staff_a",
    },
    "/api/v1/inventory/assessments/template?institution_id={institution}": {"admin", "staff_a"},
    "/workspace/enterprise/feedback-workbook/template.xlsx": {"enterprise_x", "enterprise_y"},
    "/api/v1/inventory/feedback/template?enterprise_id={enterprise}": {"admin", "enterprise_x"},
    # Challenges (issue 12): drafts are their enterprise's; applications, messages,
    # verification and suggestions only the parties'.
    "/challenges": set(ROLES),
    "/api/v1/challenges": set(ROLES),
    "/challenges/{ch_live}": set(ROLES),
    "/api/v1/challenges/{ch_live}": set(ROLES),
    "/challenges/{ch_draft}": {"admin", "enterprise_x"},
    "/api/v1/challenges/{ch_draft}": {"admin", "enterprise_x"},
    "/challenges/{ch_draft}/edit": {"admin", "enterprise_x"},
    "/challenges/new": {"admin", "enterprise_x", "enterprise_y"},
    "/challenges/mine": {"admin", "enterprise_x", "enterprise_y"},
    "/challenges/my-applications": {"admin", "staff_a", "staff_b", "tech_manager"},
    "/challenges/{ch_live}/applications": {"admin", "enterprise_x"},
    "/api/v1/challenges/{ch_live}/suggestions": {"admin", "enterprise_x"},
    "/challenges/{ch_live}/applications/{application}": {"admin", "enterprise_x", "staff_a"},
    "/api/v1/challenges/applications/{application}": {"admin", "enterprise_x", "staff_a"},
    "/api/v1/challenges/applications/{application}/messages": {"admin", "enterprise_x", "staff_a"},
    "/api/v1/challenges/{ch_live}/verifications": {"admin", "enterprise_x", "staff_a"},
    "/challenges/{ch_live}/verify": {"admin", "enterprise_x"},
    "/notifications": set(ROLES) - {"anonymous"},
    "/api/v1/notifications": set(ROLES) - {"anonymous"},
    # Pilot platforms: the registry is public; bookings belong to requester and platform.
    "/pilots": set(ROLES),
    "/pilots/{platform}": set(ROLES),
    "/api/v1/pilots/{platform}": set(ROLES),
    "/pilots/mine": {"pilot_platform"},
    "/pilots/bookings/{booking}": {"admin", "pilot_platform", "tech_manager"},
    "/api/v1/pilots/bookings/{booking}": {"admin", "pilot_platform", "tech_manager"},
    "/api/v1/pilots/{platform}/bookings": {"admin", "pilot_platform"},
    # Dashboards (issue 15): the bureau's for admin, an institution's for its own staff only,
    # the enterprise view for its users, the manager view for managers.
    "/dashboard": {"admin", "staff_a", "staff_b"},
    "/dashboard?institution_id={institution}": {"admin", "staff_a"},
    "/dashboard/tables/funnel.csv?institution_id={institution}": {"admin", "staff_a"},
    "/dashboard/report.xlsx?institution_id={institution}": {"admin", "staff_a"},
    "/dashboard/enterprise": {"enterprise_x", "enterprise_y"},
    "/dashboard/enterprise?enterprise_id={enterprise}": {"admin", "enterprise_x"},
    "/dashboard/manager": {"tech_manager"},
}

# Writes: (method, path, JSON body) → roles allowed. Ordered: the password change comes last
# because it gives the browser session a fresh CSRF token.
WRITES: list[tuple[str, str, dict[str, object], set[str]]] = [
    (
        "POST",
        "/api/v1/listings/{published}/inquiries",
        {"name": "王五", "message": "请联系我们洽谈许可", "phone": "010-12345678"},
        set(ROLES),
    ),
    (
        "POST",
        "/api/v1/users",
        {"username": "made-by-{role}", "password": PASSWORD, "role": "tech_manager"},
        {"admin"},
    ),
    ("POST", "/api/v1/users/{target}/active", {"active": False}, {"admin"}),
    ("POST", "/api/v1/users/{target}/reset", {"new_password": "reset-by-admin-1"}, {"admin"}),
    (
        "POST",
        "/api/v1/me/password",
        {"current_password": PASSWORD, "new_password": "changed-by-me-1"},
        set(ROLES) - {"anonymous"},
    ),
]


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
    published = make_listing(db_session, inst_a, title="公开成果")
    world = World(
        draft_id=make_listing(db_session, inst_a, title="草稿成果", publish=False).id,
        published_id=published.id,
        demand_id=make_demand(db_session, ent_x, "X 企业的私有需求").id,
        enterprise_id=ent_x.id,
        institution_id=inst_a.id,
        patent_id=published.patent_id,
        target_user_id=make_user(db_session, "pilot_platform").id,
    )
    _challenges_world(db_session, world, users)
    return world, users


def _challenges_world(db_session, world: World, users: dict) -> None:  # type: ignore[no-untyped-def]
    from datetime import date, timedelta

    from shuanglian.challenges import service as challenges
    from shuanglian.pilots import service as pilots
    from tests.challenges.factories import apply, make_challenge

    owner = users["enterprise_x"]
    world.ch_draft = make_challenge(db_session, owner, title="X 企业的草稿榜单").id
    live = make_challenge(db_session, owner, title="X 企业攻关中的榜单")
    challenges.act_on_challenge(db_session, actor=owner, challenge_id=live.id, action="publish")
    app = apply(db_session, users["staff_a"], live)
    challenges.decide_application(db_session, actor=owner, application_id=app.id, action="accept")
    challenges.act_on_challenge(db_session, actor=owner, challenge_id=live.id, action="start")
    world.ch_live, world.application = live.id, app.id
    platform = pilots.create_platform(
        db_session,
        actor=users["admin"],
        data=pilots.PlatformInput(
            name="权限测试中试平台",
            operator="测试单位",
            level="municipal",
            province="辽宁",
            industries=["26"],
            ipc_classes=[],
            services=["pilot"],
            capacity=1,
        ),
    )
    pilots.link_manager(
        db_session,
        actor=users["admin"],
        platform_id=platform.id,
        user_id=users["pilot_platform"].id,
    )
    booking = pilots.request_booking(
        db_session,
        actor=users["tech_manager"],
        platform_id=platform.id,
        data=pilots.BookingInput(
            title="中试",
            service="pilot",
            quantity=1,
            start_on=date.today() + timedelta(days=5),
            end_on=date.today() + timedelta(days=6),
        ),
    )
    world.platform, world.booking = platform.id, booking.id


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(role: str, client: TestClient, db_session) -> None:
    world, users = _build(db_session)
    if role != "anonymous":
        login(client, users[role])  # type: ignore[arg-type]
    wrong = []
    for template, allowed_roles in MATRIX.items():
        path = _path(template, world)
        status = client.get(path, follow_redirects=False).status_code
        allowed = role in allowed_roles
        if allowed and status != 200 or not allowed and status not in (403, 404):
            wrong.append((path, status, "should allow" if allowed else "should deny"))
    assert not wrong, f"{role}: {wrong}"


def _path(template: str, world: World, **extra: object) -> str:
    return template.format(
        draft=world.draft_id,
        published=world.published_id,
        demand=world.demand_id,
        institution=world.institution_id,
        patent=world.patent_id,
        target=world.target_user_id,
        enterprise=world.enterprise_id,
        ch_draft=world.ch_draft,
        ch_live=world.ch_live,
        application=world.application,
        platform=world.platform,
        booking=world.booking,
        **extra,
    )


@pytest.mark.parametrize("role", ROLES)
def test_write_matrix(role: str, client: TestClient, db_session) -> None:
    """Every API write, as every role: a browser session sends its CSRF header, so a refusal
    here is the permission check, not the CSRF check."""
    from tests.web.factories import csrf_of

    world, users = _build(db_session)
    headers: dict[str, str] = {}
    if role != "anonymous":
        login(client, users[role])  # type: ignore[arg-type]
        headers = {"X-CSRF-Token": csrf_of(client, "/account")}
    wrong = []
    for method, template, body, allowed_roles in WRITES:
        path = _path(template, world)
        sent = {k: v.format(role=role) if isinstance(v, str) else v for k, v in body.items()}
        status = client.request(method, path, json=sent, headers=headers).status_code
        allowed = role in allowed_roles
        if allowed and status not in (200, 201) or not allowed and status not in (403, 404):
            wrong.append((method, path, status, "should allow" if allowed else "should deny"))
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


# Uploads (multipart): (path, file kind, form fields for pages) → roles allowed. Every one is a
# dry run, so an allowed upload answers its report and changes nothing.
UPLOADS: list[tuple[str, str, dict[str, str], set[str]]] = [
    (
        "/api/v1/patents/upload?dry_run=true&institution_id={institution}",
        "patents",
        {},
        {"admin", "staff_a"},
    ),
    (
        "/workspace/institution/patents/upload",
        "patents",
        {"institution_id": "{institution}", "dry_run": "1"},
        {"admin", "staff_a"},
    ),
    (
        "/api/v1/inventory/assessments/upload?dry_run=true",
        "assessment",
        {},
        {"admin", "staff_a", "staff_b"},
    ),
    (
        "/workspace/institution/assessments/upload",
        "assessment",
        {"dry_run": "1"},
        {"admin", "staff_a", "staff_b"},
    ),
    (
        "/api/v1/inventory/feedback/upload?dry_run=true&enterprise_id={enterprise}",
        "feedback",
        {},
        {"admin", "enterprise_x"},
    ),
    (
        "/workspace/enterprise/feedback-workbook/upload",
        "feedback",
        {"dry_run": "1"},
        {"enterprise_x", "enterprise_y"},
    ),
]


def _upload_files(shared_dir) -> dict[str, tuple[str, bytes, str]]:  # type: ignore[no-untyped-def]
    """A real CNIPA export, and the two inventory workbooks with their headers only."""
    from shuanglian.inventory.importers import ASSESSMENT_HEADERS, FEEDBACK_HEADERS

    sample = shared_dir / "data/samples/cn_patents_research_institute_sample10.csv"
    return {
        "patents": (sample.name, sample.read_bytes(), "text/csv"),
        "assessment": ("a.csv", ",".join(ASSESSMENT_HEADERS.values()).encode(), "text/csv"),
        "feedback": ("f.csv", ",".join(FEEDBACK_HEADERS.values()).encode(), "text/csv"),
    }


@pytest.mark.parametrize("role", ROLES)
def test_upload_matrix(role: str, client: TestClient, db_session, shared_dir) -> None:  # type: ignore[no-untyped-def]
    """Every upload endpoint, as every role, with a valid CSRF token (pages: form field; API:
    header), so a refusal is the permission check."""
    from tests.web.factories import csrf_of

    world, users = _build(db_session)
    if role != "anonymous":
        login(client, users[role])  # type: ignore[arg-type]
    token = csrf_of(client, "/account" if role != "anonymous" else "/login")
    files = _upload_files(shared_dir)
    wrong = []
    for template, kind, form, allowed_roles in UPLOADS:
        path = _path(template, world)
        data = {k: _path(v, world) for k, v in form.items()}
        if path.startswith("/api/"):
            response = client.post(
                path, headers={"X-CSRF-Token": token}, files={"file": files[kind]}
            )
        else:
            data["csrf_token"] = token
            response = client.post(path, data=data, files={"file": files[kind]})
        status = response.status_code
        allowed = role in allowed_roles
        if allowed and status != 200 or not allowed and status not in (403, 404):
            wrong.append((path, status, "should allow" if allowed else "should deny"))
    assert not wrong, f"{role}: {wrong}"


# `User.college` limits staff to one college (学院) of their institution (issue 10): rows of the
# matrix for an inventory item routed to college 甲 of institution A. "staff_a" has no college
# limit, "college_jia" is limited to 甲, "college_yi" to 乙 (same institution).
COLLEGE_READS: dict[str, set[str]] = {
    "/workspace/institution/items/{item}": {"staff_a", "college_jia"},
    "/api/v1/inventory/pool/{patent}/indicators": {"staff_a", "college_jia"},
}
COLLEGE_WRITES: list[tuple[str, str, set[str]]] = [
    ("POST", "/api/v1/inventory/pool/{patent}/withdraw", {"college_jia"}),
]


@pytest.mark.parametrize("role", ["staff_a", "college_jia", "college_yi"])
def test_college_restriction_matrix(role: str, client: TestClient, db_session) -> None:
    from shuanglian.inventory.models import InventoryBatch, InventoryItem
    from shuanglian.inventory.service import create_college
    from tests.web.factories import csrf_of

    world, users = _build(db_session)
    admin = users["admin"]
    jia = create_college(db_session, actor=admin, institution_id=world.institution_id, name="甲")
    create_college(db_session, actor=admin, institution_id=world.institution_id, name="乙")
    batch = InventoryBatch(institution_id=world.institution_id, name="盘点")
    db_session.add(batch)
    db_session.flush()
    item = InventoryItem(
        batch_id=batch.id,
        patent_id=world.patent_id,
        institution_id=world.institution_id,
        college_id=jia.id,
        status="approved",
    )
    db_session.add(item)  # the published listing's patent is already in the pool
    users["college_jia"] = make_user(
        db_session, "institution_staff", institution_id=world.institution_id, college="甲"
    )
    users["college_yi"] = make_user(
        db_session, "institution_staff", institution_id=world.institution_id, college="乙"
    )
    db_session.commit()
    login(client, users[role])  # type: ignore[arg-type]
    wrong = []
    listed = client.get("/api/v1/inventory/items").json()
    if (item.id in {i["id"] for i in listed}) != (role != "college_yi"):
        wrong.append(("/api/v1/inventory/items", "lists" if role == "college_yi" else "hides"))
    for template, allowed_roles in COLLEGE_READS.items():
        path = template.format(item=item.id, patent=world.patent_id)
        status = client.get(path, follow_redirects=False).status_code
        allowed = role in allowed_roles
        if allowed and status != 200 or not allowed and status not in (403, 404):
            wrong.append((path, status))
    headers = {"X-CSRF-Token": csrf_of(client, "/account")}
    for method, template, allowed_roles in COLLEGE_WRITES:
        if role not in allowed_roles and role != "college_yi":
            continue  # staff_a could withdraw too; one allowed writer is enough for the row
        path = template.format(item=item.id, patent=world.patent_id)
        status = client.request(method, path, json={"reason": "撤回"}, headers=headers).status_code
        allowed = role in allowed_roles
        if allowed and status != 200 or not allowed and status not in (403, 404):
            wrong.append((method, path, status))
    assert not wrong, f"{role}: {wrong}"
