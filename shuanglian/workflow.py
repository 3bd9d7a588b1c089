"""State machines as data: transition tables, who may act, and the one way to move a record.

A domain describes its machine once (`Machine`: states with labels, `Transition`s with the
states they start from, the state they lead to, a permission function and the fields a person
must give) and calls `apply_transition`. That single function checks, changes the state, writes
the audit entry and queues the notification, so review, challenges and deals behave alike and a
refused step always comes back as a sentence naming the state and what is allowed from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from shuanglian.audit import MACHINE_STATE_LABELS, record_audit, snapshot
from shuanglian.errors import DomainError

# (session, actor, obj) -> None; raises PermissionDenied with a sentence when the actor may not.
Permission = Callable[[Session, Any, Any], None]
# (session, obj, transition, actor, fields) -> None; runs inside the transaction, after the
# state changed: the place for follow-on effects (pool entry, notifications, deadlines).
Effect = Callable[[Session, Any, "Transition", Any, Mapping[str, Any]], None]


@dataclass(frozen=True)
class Transition:
    """One allowed step: from any of `sources` to `target`, if `may` lets the actor take it."""

    action: str
    sources: tuple[str, ...]
    target: str
    label: str  # zh-CN, shown on buttons and in refusals
    label_en: str
    may: Permission
    required: tuple[str, ...] = ()  # fields that must be non-empty (e.g. a comment on return)


@dataclass(frozen=True)
class Machine:
    """A named transition table over one attribute of a kind of record."""

    name: str  # audit actions are "<name>.<action>"
    states: Mapping[str, tuple[str, str]]  # state -> (zh label, en label)
    transitions: tuple[Transition, ...]
    state_attr: str = "status"
    effects: tuple[Effect, ...] = field(default=())
    field_labels: Mapping[str, str] = field(default_factory=dict)  # field -> zh label

    def __post_init__(self) -> None:
        MACHINE_STATE_LABELS[self.name] = self.states

    def transition(self, action: str) -> Transition | None:
        """The transition named `action`, if the table has one."""
        for t in self.transitions:
            if t.action == action:
                return t
        return None

    def allowed_from(self, state: str) -> list[Transition]:
        """The transitions the table allows from `state` (before any permission check)."""
        return [t for t in self.transitions if state in t.sources]

    def state_label(self, state: str, lang: str = "zh") -> str:
        """The state's name for people, in `lang` ("zh" or "en")."""
        zh, en = self.states.get(state, (state, state))
        return en if lang == "en" else zh


def available_actions(
    session: Session, *, machine: Machine, obj: Any, actor: Any
) -> list[Transition]:
    """The transitions this actor may take on `obj` now (for the buttons a page shows)."""
    state = getattr(obj, machine.state_attr)
    out: list[Transition] = []
    for t in machine.allowed_from(state):
        try:
            t.may(session, actor, obj)
        except DomainError:
            continue
        out.append(t)
    return out


def _refusal(machine: Machine, state: str, t: Transition) -> DomainError:
    allowed = machine.allowed_from(state)
    names = "、".join(f"“{a.label}”" for a in allowed) or "无"
    en = ", ".join(f"“{a.label_en}”" for a in allowed) or "nothing"
    return DomainError(
        f"当前状态为“{machine.state_label(state)}”，不能执行“{t.label}”；此时可执行：{names} "
        f"(now “{machine.state_label(state, 'en')}”: “{t.label_en}” is not possible; "
        f"possible now: {en})",
        field="action",
    )


def apply_transition(
    session: Session,
    *,
    machine: Machine,
    obj: Any,
    action: str,
    actor: Any,
    target: str | None = None,
    **fields: Any,
) -> Transition:
    """Check and take one step of `machine` on `obj`; returns the transition taken.

    Order: known action → allowed from the current state → the actor may → required fields
    given. Only then is the state changed, the effects run and the audit entry written, all in
    the caller's transaction. `target` overrides the table's target for the rare step whose
    destination depends on the record (an institution without colleges skips college review).
    """
    t = machine.transition(action)
    if t is None:
        raise DomainError(f"未知操作“{action}” (unknown action)", field="action")
    state = getattr(obj, machine.state_attr)
    if state not in t.sources:
        raise _refusal(machine, state, t)
    t.may(session, actor, obj)
    for name in t.required:
        value = fields.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            label = machine.field_labels.get(name, name)
            raise DomainError(f"“{t.label}”需要填写{label} ({name} is required)", field=name)
    before = snapshot(obj)
    new_state = target or t.target
    setattr(obj, machine.state_attr, new_state)
    for effect in machine.effects:
        effect(session, obj, t, actor, fields)
    record_audit(
        session,
        actor=actor,
        action=f"{machine.name}.{t.action}",
        subject=obj,
        detail={
            "from": state,
            "to": new_state,
            **{k: v for k, v in fields.items() if v is not None},
            "before": before,
            "after": snapshot(obj),
        },
    )
    return t
