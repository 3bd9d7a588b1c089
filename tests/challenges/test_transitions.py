"""Every allowed and every refused step of the challenge, application and milestone tables.

For each action and each state: from a source state the step is taken by someone allowed to
take it; from any other state it is refused with a sentence naming the current state and the
actions allowed from it, and nothing changes. Then who may act: a stranger is refused.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from shuanglian.challenges import service
from shuanglian.challenges.states import (
    APPLICATION_MACHINE,
    CHALLENGE_MACHINE,
    MILESTONE_MACHINE,
)
from shuanglian.errors import DomainError, PermissionDenied
from shuanglian.workflow import apply_transition
from tests.challenges.factories import TODAY, apply, make_challenge
from tests.web.factories import make_enterprise, make_institution, make_user

SYSTEM_ACTIONS = {"expire", "system_close"}
CASES = [
    (t.action, state) for t in CHALLENGE_MACHINE.transitions for state in CHALLENGE_MACHINE.states
]


@pytest.fixture
def world(db_session: Session) -> dict:
    ent = make_enterprise(db_session)
    owner = make_user(db_session, "enterprise_user", enterprise_id=ent.id)
    other = make_user(db_session, "enterprise_user", enterprise_id=make_enterprise(db_session).id)
    inst = make_institution(db_session)
    staff = make_user(db_session, "institution_staff", institution_id=inst.id)
    return {"owner": owner, "other": other, "staff": staff, "ch": make_challenge(db_session, owner)}


@pytest.mark.parametrize(("action", "state"), CASES)
def test_challenge_table(db_session: Session, world: dict, action: str, state: str) -> None:
    ch = world["ch"]
    ch.status = state
    t = CHALLENGE_MACHINE.transition(action)
    actor = None if action in SYSTEM_ACTIONS else world["owner"]
    if state in t.sources:
        apply_transition(
            db_session, machine=CHALLENGE_MACHINE, obj=ch, action=action, actor=actor, reason="r"
        )
        assert ch.status == t.target
        return
    with pytest.raises(DomainError) as err:
        apply_transition(
            db_session, machine=CHALLENGE_MACHINE, obj=ch, action=action, actor=actor, reason="r"
        )
    message = err.value.message
    assert CHALLENGE_MACHINE.state_label(state) in message and t.label in message
    for allowed in CHALLENGE_MACHINE.allowed_from(state):
        assert allowed.label in message
    assert ch.status == state


@pytest.mark.parametrize(
    "action", [t.action for t in CHALLENGE_MACHINE.transitions if t.action not in SYSTEM_ACTIONS]
)
def test_challenge_steps_refused_to_others(db_session: Session, world: dict, action: str) -> None:
    ch = world["ch"]
    ch.status = CHALLENGE_MACHINE.transition(action).sources[0]
    for stranger in (world["other"], world["staff"], None):
        with pytest.raises(PermissionDenied):
            apply_transition(
                db_session,
                machine=CHALLENGE_MACHINE,
                obj=ch,
                action=action,
                actor=stranger,
                reason="r",
            )


@pytest.mark.parametrize("action", sorted(SYSTEM_ACTIONS))
def test_deadline_steps_are_the_systems(db_session: Session, world: dict, action: str) -> None:
    ch = world["ch"]
    ch.status = "published"
    with pytest.raises(PermissionDenied):
        apply_transition(
            db_session, machine=CHALLENGE_MACHINE, obj=ch, action=action, actor=world["owner"]
        )


def test_manual_service_refuses_pass_and_says_why(db_session: Session, world: dict) -> None:
    ch = world["ch"]
    ch.status = "verifying"
    with pytest.raises(DomainError, match="测量值"):
        service.act_on_challenge(
            db_session, actor=world["owner"], challenge_id=ch.id, action="pass"
        )


def test_publish_start_and_withdraw_preconditions(db_session: Session, world: dict) -> None:
    owner, ch = world["owner"], world["ch"]
    with pytest.raises(DomainError, match="原因"):
        service.act_on_challenge(db_session, actor=owner, challenge_id=ch.id, action="withdraw")
    ch.indicators.clear()
    with pytest.raises(DomainError, match="技术指标") as err:
        service.act_on_challenge(db_session, actor=owner, challenge_id=ch.id, action="publish")
    assert err.value.field == "indicators" and ch.status == "draft"
    ch.status = "published"
    with pytest.raises(DomainError, match="选中"):
        service.act_on_challenge(db_session, actor=owner, challenge_id=ch.id, action="start")
    with pytest.raises(DomainError) as err:
        service.act_on_challenge(db_session, actor=owner, challenge_id=ch.id, action="rerun")
    assert "征集中" in err.value.message and "截止报名" in err.value.message


def test_approval_setting_reserves_publishing_to_admins(
    db_session: Session, db_settings, world: dict
) -> None:
    db_session.info["settings"] = db_settings.model_copy(update={"challenge_approval": True})
    ch = world["ch"]
    with pytest.raises(PermissionDenied, match="管理员"):
        service.act_on_challenge(
            db_session, actor=world["owner"], challenge_id=ch.id, action="publish"
        )
    admin = make_user(db_session, "admin")
    db_session.info["settings"] = db_settings.model_copy(
        update={"challenge_approval": True, "home": db_settings.home / "noindex"}
    )
    service.act_on_challenge(db_session, actor=admin, challenge_id=ch.id, action="publish")
    assert ch.status == "published"


def test_tick_moves_deadlines_once(db_session: Session, world: dict) -> None:
    owner = world["owner"]
    open_ch = world["ch"]
    open_ch.status = "published"
    working = make_challenge(db_session, owner, title="另一榜单")
    working.status = "in_progress"
    after_apply = open_ch.application_deadline + timedelta(days=1)
    first = service.tick(db_session, today=after_apply)
    assert first["closed"] == [open_ch.id] and first["expired"] == []
    assert open_ch.status == "applications_closed" and working.status == "in_progress"
    assert service.tick(db_session, today=after_apply) == {
        "date": after_apply.isoformat(),
        "closed": [],
        "expired": [],
    }
    after_delivery = working.delivery_deadline + timedelta(days=1)
    second = service.tick(db_session, today=after_delivery)
    assert sorted(second["expired"]) == sorted([open_ch.id, working.id])
    assert service.tick(db_session, today=after_delivery)["expired"] == []


APP_CASES = [
    (t.action, s) for t in APPLICATION_MACHINE.transitions for s in APPLICATION_MACHINE.states
]


@pytest.mark.parametrize(("action", "state"), APP_CASES)
def test_application_table(db_session: Session, world: dict, action: str, state: str) -> None:
    ch = world["ch"]
    ch.status = "published"
    app = apply(db_session, world["staff"], ch)
    app.status = state
    t = APPLICATION_MACHINE.transition(action)
    actor = world["staff"] if action == "withdraw" else world["owner"]
    if state in t.sources:
        service.decide_application(
            db_session, actor=actor, application_id=app.id, action=action, reason="r"
        )
        assert app.status == t.target
        # The other side may not take this step.
        return
    with pytest.raises(DomainError) as err:
        service.decide_application(
            db_session, actor=actor, application_id=app.id, action=action, reason="r"
        )
    assert APPLICATION_MACHINE.state_label(state) in err.value.message
    assert app.status == state


def test_application_steps_belong_to_their_side(db_session: Session, world: dict) -> None:
    ch = world["ch"]
    ch.status = "published"
    app = apply(db_session, world["staff"], ch)
    with pytest.raises(PermissionDenied):
        service.decide_application(
            db_session, actor=world["staff"], application_id=app.id, action="accept"
        )
    with pytest.raises(PermissionDenied):
        service.decide_application(
            db_session, actor=world["owner"], application_id=app.id, action="withdraw"
        )


MS_CASES = [(t.action, s) for t in MILESTONE_MACHINE.transitions for s in MILESTONE_MACHINE.states]


@pytest.mark.parametrize(("action", "state"), MS_CASES)
def test_milestone_table(db_session: Session, world: dict, action: str, state: str) -> None:
    ch = world["ch"]
    ch.status = "published"
    app = apply(db_session, world["staff"], ch)
    app.status = "accepted"
    ch.status = "in_progress"
    ms = app.milestones[0]
    ms.status = state
    t = MILESTONE_MACHINE.transition(action)
    actor = world["staff"] if action == "submit" else world["owner"]
    kwargs = {"note": "n", "reason": "r"}
    if state in t.sources:
        service.act_on_milestone(
            db_session, actor=actor, milestone_id=ms.id, action=action, **kwargs
        )
        assert ms.status == t.target
        return
    with pytest.raises(DomainError) as err:
        service.act_on_milestone(
            db_session, actor=actor, milestone_id=ms.id, action=action, **kwargs
        )
    assert MILESTONE_MACHINE.state_label(state) in err.value.message
    assert ms.status == state


def test_bad_input_is_refused_at_the_field(db_session: Session, world: dict) -> None:
    from decimal import Decimal

    from shuanglian.challenges.schemas import IndicatorIn
    from tests.challenges.factories import challenge_input

    owner = world["owner"]
    cases = [
        ({"budget": Decimal(0)}, "budget"),
        ({"budget": Decimal(-5)}, "budget"),
        ({"application_deadline": TODAY - timedelta(days=1)}, "application_deadline"),
        ({"delivery_deadline": TODAY - timedelta(days=1)}, "delivery_deadline"),
        (
            {
                "application_deadline": TODAY + timedelta(days=90),
                "delivery_deadline": TODAY + timedelta(days=30),
            },
            "application_deadline",
        ),
        (
            {"indicators": [IndicatorIn(name="良率", unit="", target=Decimal(99))]},
            "indicators.0.unit",
        ),
        (
            {
                "indicators": [
                    IndicatorIn(name="粒径", unit="μm", comparison="range", target=Decimal(5))
                ]
            },
            "indicators.0.target_max",
        ),
        ({"industry": "不存在的行业"}, "industry"),
        ({"visibility": "nda", "summary": ""}, "summary"),
        ({"title": "  "}, "title"),
    ]
    for change, field in cases:
        with pytest.raises(DomainError) as err:
            service.create_challenge(db_session, actor=owner, data=challenge_input(**change))
        assert err.value.field == field, (change, err.value.message)
    # An industry picked by its name is stored as its code.
    ch = service.create_challenge(
        db_session, actor=owner, data=challenge_input(industry="电气机械和器材制造业")
    )
    assert ch.industry_code == "38"
