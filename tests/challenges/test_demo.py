"""The demo data: a challenge at every state from real demands, a dozen demo platforms."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.challenges.demo import DEMANDS_FILE, read_demands, seed_challenges_demo
from shuanglian.challenges.models import Challenge
from shuanglian.challenges.states import STATES
from shuanglian.pilots.demo import seed_pilots_demo
from shuanglian.pilots.models import PilotPlatform
from tests.web.factories import make_enterprise, make_institution, make_user


def test_demo_challenges_at_every_state_and_platforms(db_session: Session) -> None:
    ent = make_enterprise(db_session)
    make_user(db_session, "enterprise_user", enterprise_id=ent.id, username="ent")
    make_user(db_session, "institution_staff", institution_id=make_institution(db_session).id)
    make_user(db_session, "tech_manager")
    make_user(db_session, "pilot_platform", username="pilot")
    result = seed_challenges_demo(db_session)
    assert result["created"] == 10
    rows = db_session.scalars(select(Challenge).where(Challenge.is_demo.is_(True))).all()
    assert {c.status for c in rows} == set(STATES)
    titles = {d["name"] for d in read_demands(DEMANDS_FILE)}
    assert {c.title for c in rows} <= titles
    assert seed_challenges_demo(db_session) == {"created": 0}
    pilots = seed_pilots_demo(db_session)
    assert pilots == {"created": 12, "linked_pilot_user": True}
    assert seed_pilots_demo(db_session) == {"created": 0, "linked_pilot_user": False}
    demo = db_session.scalars(select(PilotPlatform).where(PilotPlatform.is_demo.is_(True))).all()
    assert len(demo) == 12 and all("演示" in p.name for p in demo)


def test_demo_demands_ship_inside_the_repository() -> None:
    """The demo needs no ../shared checkout: the demands file lives in demo/ with provenance."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    assert DEMANDS_FILE.is_relative_to(repo / "demo")
    assert sum(1 for _ in DEMANDS_FILE.open(encoding="utf-8")) == 40
    assert len(read_demands(DEMANDS_FILE)) == 10
    provenance = (repo / "demo" / "PROVENANCE.md").read_text(encoding="utf-8")
    assert DEMANDS_FILE.name in provenance and "sbx0/Zhibei" in provenance
