"""Account services: users, passwords, API tokens and the audit log.

Started by the lead for `shuanglian users create` (whose keyword names are kept) and extended
for the web: admin reset, sessions, API tokens, audit.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial

from sqlalchemy import Connection, Engine, delete, func, or_, select, update
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import ROLES, ApiToken, User, WebSession
from shuanglian.accounts.passwords import (
    check_password_strength,
    hash_password,
    needs_rehash,
    verify_password,
)
from shuanglian.audit import record_audit
from shuanglian.db import after_commit, utcnow
from shuanglian.enterprises.models import Enterprise
from shuanglian.errors import DomainError, NotFound
from shuanglian.patents.models import Institution, kind_from_name
from shuanglian.text.normalize import is_storable

TOKEN_PREFIX = "slk_"
# Deliberately loose (one @, a dot in the domain): it catches typos, not every RFC 5322 form.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

ROLE_NAMES_ZH = {role: labels[0] for role, labels in perm.ROLE_LABELS.items()}


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the username does not exist, so that a login for an
    unknown name costs the same time as one for a known name (no username probing by timing).
    Made on first use, not at import."""
    return hash_password("not-a-real-password-0")


def get_user(session: Session, *, user_id: int) -> User:
    """The user with this id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在 (no such user)")
    return user


def get_user_by_username(session: Session, *, username: str) -> User | None:
    """Case-insensitive lookup by login name."""
    stmt = select(User).where(func.lower(User.username) == username.strip().lower())
    return session.scalars(stmt).first()


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    email: str | None = None,
    institution_id: int | None = None,
    enterprise_id: int | None = None,
    college: str | None = None,
    institution_name: str | None = None,
    enterprise_ref: str | None = None,
    actor: User | None = None,
    create_institution: bool = False,
    password_hash: str | None = None,
) -> User:
    """Create a user after validating name, role, org link and password strength.

    The org may be given by id (web forms) or by name / credit code (the CLI). A named
    institution that does not exist is refused with a sentence (a typo used to create a new,
    empty institution silently) unless `create_institution`; an unknown enterprise is an error.
    `password_hash` is a password already checked and hashed (an approved account application:
    the applicant chose it, the platform never saw it again in clear).
    """
    if institution_name and institution_name.strip():
        institution_id = _institution_id_for_name(
            session, institution_name.strip(), actor=actor, create=create_institution
        )
    if enterprise_ref and enterprise_ref.strip():
        enterprise_id = _enterprise_id_for_ref(session, enterprise_ref.strip())
    username = _clean_text(username, field="username", limit=80) or ""
    if not username:
        raise DomainError("用户名须为 1–80 个字符 (1–80 characters)", field="username")
    display_name = _clean_text(display_name, field="display_name", limit=100)
    email = _clean_text(email, field="email", limit=200)
    if email is not None and not _EMAIL.match(email):
        raise DomainError("邮箱格式不正确 (invalid e-mail)", field="email")
    college = _clean_text(college, field="college", limit=100)
    if role not in ROLES:
        raise DomainError(f"未知角色 {role!r} (unknown role)", field="role")
    if role == perm.INSTITUTION_STAFF:
        if institution_id is None:
            raise DomainError(
                "机构工作人员须关联机构 (choose an institution)", field="institution_id"
            )
        if not _row_exists(session, Institution, institution_id):
            raise DomainError(
                f"机构 {institution_id} 不存在 (no such institution)", field="institution_id"
            )
    if role == perm.ENTERPRISE_USER:
        if enterprise_id is None:
            raise DomainError("企业用户须关联企业 (choose an enterprise)", field="enterprise_id")
        if not _row_exists(session, Enterprise, enterprise_id):
            raise DomainError(
                f"企业 {enterprise_id} 不存在 (no such enterprise)", field="enterprise_id"
            )
    if get_user_by_username(session, username=username) is not None:
        raise DomainError("用户名已被使用 (username taken)", field="username")
    if password_hash is None:
        check_password_strength(password)
        password_hash = hash_password(password)
    user = User(
        username=username,
        password_hash=password_hash,
        role=role,
        display_name=display_name,
        email=email,
        institution_id=institution_id if role == perm.INSTITUTION_STAFF else None,
        enterprise_id=enterprise_id if role == perm.ENTERPRISE_USER else None,
        college=college,
        is_active=True,
    )
    session.add(user)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="user.create",
        subject=user,
        # The role's names, not its code: the log is read in either language.
        detail={"text": username, "role_label": list(perm.ROLE_LABELS[role])},
    )
    return user


def create_user_as_admin(
    session: Session,
    *,
    actor: User | None,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    email: str | None = None,
    institution_id: int | None = None,
    enterprise_id: int | None = None,
    enterprise_ref: str | None = None,
    college: str | None = None,
) -> User:
    """An admin creates a user from the web (page or API).

    `create_user` itself checks no role because the CLI, run by the operator on the server,
    creates the first admin; every web entry point comes through here instead.
    """
    actor = perm.require_role(actor, perm.ADMIN)
    return create_user(
        session,
        username=username,
        password=password,
        role=role,
        display_name=display_name,
        email=email,
        institution_id=institution_id,
        enterprise_id=enterprise_id,
        enterprise_ref=enterprise_ref,
        college=college,
        actor=actor,
    )


# Ids are 32-bit integers on PostgreSQL; a larger number from a form is simply no such row.
_MAX_ID = 2_147_483_647


def _row_exists(session: Session, model: type[Institution] | type[Enterprise], row_id: int) -> bool:
    return 0 < row_id <= _MAX_ID and session.get(model, row_id) is not None


def _clean_text(value: str | None, *, field: str, limit: int) -> str | None:
    """Stripped text, None when empty; refuses what the column cannot hold (too long, NUL or
    a lone surrogate from a crafted JSON body) as a field error instead of a database error."""
    text = (value or "").strip()
    if not text:
        return None
    if not is_storable(text):
        raise DomainError("含无效字符 (invalid characters)", field=field)
    if len(text) > limit:
        raise DomainError(f"最多 {limit} 个字符 (at most {limit} characters)", field=field)
    return text


def _institution_id_for_name(
    session: Session, name: str, *, actor: User | None, create: bool = False
) -> int:
    inst = session.scalar(select(Institution).where(Institution.name == name))
    if inst is None and not create:
        raise DomainError(
            f"机构“{name}”不存在，用户未创建。请核对名称，或先在 /admin/orgs 新增该机构"
            "（命令行可加 --create-institution 同时新建） "
            f"(no institution named {name}; nothing created — add it first, or pass "
            "--create-institution)",
            field="institution_id",
        )
    if inst is None:
        inst = Institution(name=name, kind=kind_from_name(name))
        session.add(inst)
        session.flush()
        record_audit(
            session,
            actor=actor,
            action="institution.create",
            subject=inst,
            detail={"text": name},
            institution_id=inst.id,
        )
    return inst.id


def _enterprise_id_for_ref(session: Session, ref: str) -> int:
    ent = session.scalar(
        select(Enterprise).where(or_(Enterprise.credit_code == ref.upper(), Enterprise.name == ref))
    )
    if ent is None:
        raise NotFound(f"找不到企业: {ref} (enterprise not found)", field="enterprise")
    return ent.id


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """The active user whose password matches, else None (same cost either way).

    Reads only: the slow argon2 check must not run inside a write transaction, which on
    SQLite would hold the one write lock for its whole duration. `record_login` writes after.
    """
    user = get_user_by_username(session, username=username)
    if user is None:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password) or not user.is_active:
        return None
    return user


def upgraded_hash(user: User, password: str) -> str | None:
    """A new hash of the (just verified) password when the hashing parameters were raised
    since the stored one was made, else None; computed before any write lock is taken."""
    return hash_password(password) if needs_rehash(user.password_hash) else None


def record_login(session: Session, *, user: User, new_hash: str | None = None) -> None:
    """Log a successful login, storing the upgraded password hash if there is one."""
    if new_hash is not None:
        user.password_hash = new_hash
    record_audit(session, actor=user, action="user.login", subject=user)
    session.flush()


def open_web_session(session: Session, *, user: User, max_age_s: int) -> str:
    """Start a server-side browser session for `user`; returns the key the cookie carries."""
    now = utcnow()
    session.execute(
        delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at < now)
    )
    key = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            user_id=user.id,
            key_hash=_token_hash(key),
            expires_at=now + timedelta(seconds=max_age_s),
        )
    )
    session.flush()
    return key


def web_session_user_id(session: Session, *, key: str) -> int | None:
    """The user id of a live session key, else None (logged out, revoked or expired)."""
    row = session.scalar(select(WebSession).where(WebSession.key_hash == _token_hash(key)))
    if row is None:
        return None
    expires = row.expires_at
    if expires.tzinfo is None:  # SQLite hands back naive UTC
        expires = expires.replace(tzinfo=UTC)
    return row.user_id if expires > utcnow() else None


def close_web_session(session: Session, *, key: str) -> None:
    """End one browser session (logout): its cookie, replayed later, is refused."""
    session.execute(delete(WebSession).where(WebSession.key_hash == _token_hash(key)))


def end_sessions_and_tokens(session: Session, *, user: User) -> int:
    """After a password change: every browser session ends and every API token is revoked.

    Whoever knew the old password may have signed in or made a token with it; the new password
    only protects the account once those are gone. Returns how many tokens were revoked.
    """
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    tokens = list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
        )
    )
    for token in tokens:
        token.revoked = True
    session.flush()
    return len(tokens)


def change_password(
    session: Session, *, user: User, current_password: str, new_password: str
) -> User:
    """Change one's own password after checking the current one; every session and API token
    of the user ends (the caller starts a fresh session for the browser that changed it)."""
    if not verify_password(user.password_hash, current_password):
        raise DomainError("当前密码不正确 (current password is wrong)", field="current_password")
    check_password_strength(new_password, field="new_password")
    user.password_hash = hash_password(new_password)
    revoked = end_sessions_and_tokens(session, user=user)
    record_audit(
        session,
        actor=user,
        action="user.password_change",
        subject=user,
        detail={"tokens_revoked": revoked},
    )
    return user


def reset_password(
    session: Session, *, actor: User | None, user_id: int, new_password: str
) -> User:
    """Admin sets a new password for another user (e.g. one who forgot theirs)."""
    perm.require_role(actor, perm.ADMIN)
    user = get_user(session, user_id=user_id)
    check_password_strength(new_password, field="new_password")
    user.password_hash = hash_password(new_password)
    revoked = end_sessions_and_tokens(session, user=user)
    record_audit(
        session,
        actor=actor,
        action="user.password_reset",
        subject=user,
        detail={"tokens_revoked": revoked},
    )
    return user


def set_user_active(session: Session, *, actor: User | None, user_id: int, active: bool) -> User:
    """Admin enables or disables a login."""
    actor = perm.require_role(actor, perm.ADMIN)
    user = get_user(session, user_id=user_id)
    if user.id == actor.id and not active:
        raise DomainError("不能停用自己的账号 (cannot disable yourself)", field="active")
    user.is_active = active
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="user.enable" if active else "user.disable",
        subject=user,
    )
    return user


def list_users(
    session: Session, *, actor: User | None, offset: int = 0, limit: int = 50
) -> tuple[list[User], int]:
    """All users for the admin, by id, with the total count."""
    perm.require_role(actor, perm.ADMIN)
    total = session.scalar(select(func.count()).select_from(User)) or 0
    stmt = select(User).order_by(User.id).offset(offset).limit(limit)
    return list(session.scalars(stmt)), total


def institution_staff(session: Session, *, institution_id: int) -> list[User]:
    """The active staff accounts of one institution (who may be appointed reviewers)."""
    stmt = (
        select(User)
        .where(User.institution_id == institution_id, User.is_active.is_(True))
        .order_by(User.username)
    )
    return list(session.scalars(stmt))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, *, user: User, name: str) -> tuple[ApiToken, str]:
    """Issue a token for `user`; the plain token is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise DomainError("令牌名称须为 1–100 个字符 (name 1–100 characters)", field="name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_token_hash(plain), prefix=plain[:12])
    session.add(token)
    session.flush()
    record_audit(
        session,
        actor=user,
        action="token.create",
        subject=("api_tokens", token.id),
        detail={"text": name},
    )
    return token, plain


def list_api_tokens(session: Session, *, user: User) -> list[ApiToken]:
    """The user's tokens that are not revoked, newest first."""
    stmt = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
        .order_by(ApiToken.id.desc())
    )
    return list(session.scalars(stmt))


def revoke_api_token(session: Session, *, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (admin may revoke any)."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and user.role != perm.ADMIN):
        raise NotFound("令牌不存在 (no such token)")
    token.revoked = True
    session.flush()
    record_audit(session, actor=user, action="token.revoke", subject=("api_tokens", token.id))
    return token


# A token's `last_used_at` is a "last seen" hint, not a log: one stamp a minute is enough.
TOKEN_STAMP_INTERVAL = timedelta(minutes=1)


def user_for_token(session: Session, *, token: str) -> User | None:
    """The active user owning this unrevoked token, else None; stamps `last_used_at`.

    The stamp is written at most once a minute, after the request's transaction, in a short
    transaction of its own (an after-commit hook): a bearer GET stays read-only, so three
    clients sharing one token no longer collide on that row (79 × "database is locked" in
    1,756 requests on SQLite), and a failed stamp is logged, never an error for the client.
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalars(
        select(ApiToken)
        .where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked.is_(False))
        # The stamp is written by another session: read its current value, not a cached one.
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    last = row.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)  # SQLite hands back UTC without its zone
    if last is None or now - last >= TOKEN_STAMP_INTERVAL:
        after_commit(session, partial(_stamp_token, session.get_bind(), row.id, now))
    return user


def _stamp_token(bind: Engine | Connection, token_id: int, when: datetime) -> None:
    # Writes first, so on SQLite the short transaction waits for the write lock if busy.
    with Session(bind=bind) as own, own.begin():
        own.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=when))
