"""Every action the code writes to the audit log has a name for people (zh and en)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import shuanglian
from shuanglian.audit import AUDIT_ACTION_LABELS, SUBJECT_LABELS, action_label
from shuanglian.workflow import Machine

PACKAGE = Path(shuanglian.__file__).parent
# The two places that build an action from parts; everything else writes a literal.
DYNAMIC_OK = {"audit.py", "workflow.py"}


def _strings(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _written_actions() -> tuple[set[str], list[str]]:
    """Literal actions of record_audit calls and import kinds of record_import calls."""
    found: set[str] = set()
    dynamic: list[str] = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in ("record_audit", "record_import"):
                continue
            for kw in node.keywords:
                if kw.arg == "action" and name == "record_audit":
                    values = _strings(kw.value)
                    found.update(values)
                    if not values and path.name not in DYNAMIC_OK:
                        dynamic.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
                if kw.arg == "kind" and name == "record_import":
                    values = _strings(kw.value)
                    found.update(f"import.{v}" for v in values)
                    if not values:
                        dynamic.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found, dynamic


def _machine_actions() -> set[str]:
    """`<machine>.<action>` for every workflow machine defined anywhere in the package."""
    out: set[str] = set()
    for info in pkgutil.walk_packages(shuanglian.__path__, "shuanglian."):
        if ".migrations" in info.name:
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, Machine):
                out.update(f"{value.name}.{t.action}" for t in value.transitions)
    return out


def test_the_scan_finds_the_known_writers() -> None:
    found, _ = _written_actions()
    # If these stop being found the scan is broken, not the labels.
    assert {"user.login", "import.patents", "listing.auto_withdraw", "pool.leave"} <= found
    assert "review.institution_approve" in _machine_actions()


def test_every_written_action_has_a_label() -> None:
    found, dynamic = _written_actions()
    assert dynamic == [], f"actions built at run time cannot be checked: {dynamic}"
    actions = found | _machine_actions()
    missing = sorted(a for a in actions if a not in AUDIT_ACTION_LABELS)
    assert missing == [], f"add these to AUDIT_ACTION_LABELS: {missing}"
    stale = sorted(a for a in AUDIT_ACTION_LABELS if a not in actions)
    assert stale == [], f"labels for actions nothing writes: {stale}"


def test_labels_are_chinese_first_with_english() -> None:
    for action, (zh, en) in AUDIT_ACTION_LABELS.items():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), action
        assert en and en.isascii(), action
    assert action_label("user.login") == "登录" and action_label("user.login", "en") == "Logged in"
    assert action_label("no.such") == "no.such"
    for kind, (zh, en) in SUBJECT_LABELS.items():
        assert zh and en, kind
