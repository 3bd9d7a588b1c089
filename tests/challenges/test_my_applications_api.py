"""GET /api/v1/challenges/my-applications: the JSON of /challenges/my-applications.

Applications are filed by solvers (institution staff, technology managers); an enterprise user
posts challenges and files none, so the list refuses them as the page does. Both databases.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from shuanglian.accounts import service as accounts
from shuanglian.accounts.models import User
from shuanglian.challenges import service
from tests.challenges.factories import apply, make_challenge
from tests.web.factories import make_enterprise, make_institution, make_user

MINE = "/api/v1/challenges/my-applications"


def _bearer(session: Session, user: User) -> dict[str, str]:
    _, plain = accounts.create_api_token(session, user=user, name="script")
    return {"Authorization": f"Bearer {plain}"}


def test_a_solver_sees_their_own_and_their_institutions_applications(
    client: TestClient, db_session: Session
) -> None:
    owner = make_user(db_session, "enterprise_user", enterprise_id=make_enterprise(db_session).id)
    ch = make_challenge(db_session, owner)
    service.act_on_challenge(db_session, actor=owner, challenge_id=ch.id, action="publish")
    inst_a, inst_b = make_institution(db_session), make_institution(db_session)
    filer = make_user(db_session, "institution_staff", institution_id=inst_a.id)
    colleague = make_user(db_session, "institution_staff", institution_id=inst_a.id)
    other = make_user(db_session, "institution_staff", institution_id=inst_b.id)
    manager = make_user(db_session, "tech_manager")
    own = apply(db_session, filer, ch, team_name="湿法冶金课题组")
    theirs = apply(db_session, manager, ch, team_name="技术经理人团队")

    for who, expected in ((filer, [own.id]), (colleague, [own.id]), (manager, [theirs.id])):
        answer = client.get(MINE, headers=_bearer(db_session, who))
        assert answer.status_code == 200, answer.text
        assert [a["id"] for a in answer.json()] == expected
    assert client.get(MINE, headers=_bearer(db_session, other)).json() == []
    first = client.get(MINE, headers=_bearer(db_session, filer)).json()[0]
    assert (first["challenge_id"], first["team_name"], first["status"]) == (
        ch.id,
        "湿法冶金课题组",
        own.status,
    )

    refused = client.get(MINE, headers=_bearer(db_session, owner))  # posts, never applies
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert client.get(MINE).status_code == 403  # signed out
