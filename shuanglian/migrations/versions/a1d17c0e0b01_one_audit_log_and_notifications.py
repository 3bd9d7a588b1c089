"""one audit log and in-app notifications

Merges `audit_events` (accounts: logins, users, tokens) and the inventory's `audit_log` into one
`audit_log` with a subject (type, id), the institution it concerns and a JSON detail. Old rows
are carried over: an inventory entry keeps its before/after/comment inside `detail`, an
accounts event its free text as `detail.text`. Adds `notifications` (the bell).

Revision ID: a1d17c0e0b01
Revises: 955dae63c0a3
Create Date: 2026-12-05 18:30:00
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "a1d17c0e0b01"
down_revision = "955dae63c0a3"
branch_labels = None
depends_on = None

BATCH = 2000


def _json(value: object) -> object:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _moment(value: object) -> object:
    """A timestamp read with raw SQL: SQLite hands back text, which its DateTime type refuses."""
    if isinstance(value, str):
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return value


def upgrade() -> None:
    conn = op.get_bind()
    new = sa.table(
        "audit_log",
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor_id", sa.Integer()),
        sa.column("actor_name", sa.String()),
        sa.column("action", sa.String()),
        sa.column("subject_type", sa.String()),
        sa.column("subject_id", sa.Integer()),
        sa.column("institution_id", sa.Integer()),
        sa.column("detail", sa.JSON()),
    )
    rows: list[dict[str, object]] = []
    old = conn.execute(
        sa.text(
            "SELECT a.at, a.actor_id, a.actor_name, a.action, a.object_type, a.object_id, "
            "a.before, a.after, a.comment FROM audit_log a ORDER BY a.id"
        )
    )
    for at, actor_id, actor_name, action, otype, oid, before, after, comment in old:
        detail = {"before": _json(before), "after": _json(after)}
        if comment:
            detail["comment"] = comment
        inst = None
        for snap in (detail["after"], detail["before"]):
            if isinstance(snap, dict) and isinstance(snap.get("institution_id"), int):
                inst = snap["institution_id"]
                break
        rows.append(
            {
                "at": _moment(at),
                "actor_id": actor_id,
                "actor_name": actor_name or "system",
                "action": action,
                "subject_type": otype,
                "subject_id": oid,
                "institution_id": inst,
                "detail": detail,
            }
        )
    events = conn.execute(
        sa.text(
            "SELECT e.at, e.user_id, u.username, e.action, e.object_type, e.object_id, e.detail "
            "FROM audit_events e LEFT JOIN users u ON u.id = e.user_id ORDER BY e.id"
        )
    )
    tables = {"user": "users", "api_token": "api_tokens"}
    for at, user_id, username, action, otype, oid, text in events:
        rows.append(
            {
                "at": _moment(at),
                "actor_id": user_id,
                "actor_name": username or "system",
                "action": action,
                "subject_type": tables.get(otype or "", otype),
                "subject_id": oid,
                "institution_id": None,
                "detail": {"text": text} if text else None,
            }
        )
    rows.sort(key=lambda r: str(r["at"]))  # one timeline, oldest first
    # Old rows are read into memory first (the two logs are small next to the data they
    # describe), so the new table can take the old name and its constraint names.
    op.drop_table("audit_events")
    op.drop_table("audit_log")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject_type", sa.String(length=60), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name="fk_audit_log_actor_id_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    for start in range(0, len(rows), BATCH):
        conn.execute(new.insert(), rows[start : start + BATCH])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    op.create_index("ix_audit_log_institution_id", "audit_log", ["institution_id"])
    op.create_index("ix_audit_log_subject", "audit_log", ["subject_type", "subject_id"])

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_notifications_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
    )
    op.create_index("ix_notifications_user_unread", "notifications", ["user_id", "read_at"])


# Accounts events (logins, users, tokens) went to `audit_events` before the merge.
_ACCOUNT_PREFIXES = ("user.", "token.")


def downgrade() -> None:
    """Split the one log back into the two old tables (entries written by domains that came
    later go to the inventory's `audit_log`, the table that can hold a subject of any type)."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT at, actor_id, actor_name, action, subject_type, subject_id, detail "
            "FROM audit_log ORDER BY id"
        )
    ).all()
    op.drop_index("ix_notifications_user_unread", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("audit_log")
    events = op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=True),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_audit_events_user_id_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    old = op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=60), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name="fk_audit_log_actor_id_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_object", "audit_log", ["object_type", "object_id"])
    tables = {"users": "user", "api_tokens": "api_token"}
    to_events: list[dict[str, object]] = []
    to_log: list[dict[str, object]] = []
    for at, actor_id, actor_name, action, stype, sid, raw in rows:
        detail = _json(raw) if raw is not None else None
        detail = detail if isinstance(detail, dict) else {}
        if action.startswith(_ACCOUNT_PREFIXES):
            text = detail.get("text")
            to_events.append(
                {
                    "at": _moment(at),
                    "user_id": actor_id,
                    "action": action,
                    "object_type": tables.get(stype or "", stype),
                    "object_id": sid,
                    "detail": text if isinstance(text, str) else None,
                }
            )
        else:
            extra = {k: v for k, v in detail.items() if k not in ("before", "after", "comment")}
            after = detail.get("after")
            to_log.append(
                {
                    "at": _moment(at),
                    "actor_id": actor_id,
                    "actor_name": actor_name,
                    "action": action,
                    "object_type": stype or "",
                    "object_id": sid,
                    "before": detail.get("before"),
                    "after": after if after is not None else (extra or None),
                    "comment": detail.get("comment"),
                }
            )
    for table, batch in ((events, to_events), (old, to_log)):
        for start in range(0, len(batch), BATCH):
            conn.execute(table.insert(), batch[start : start + BATCH])
