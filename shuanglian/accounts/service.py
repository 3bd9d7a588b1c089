"""Account services (written by the lead for `shuanglian users create`; extend, don't replace)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import ROLES, User
from shuanglian.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from shuanglian.enterprises.models import Enterprise
from shuanglian.errors import DomainError, NotFound
from shuanglian.patents.models import Institution

ROLE_NAMES_ZH = {
    "admin": "管理员",
    "institution_staff": "高校院所工作人员",
    "enterprise_user": "企业用户",
    "tech_manager": "技术经理人",
    "pilot_platform": "中试平台",
}


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    institution_name: str | None = None,
    enterprise_ref: str | None = None,
    email: str | None = None,
    display_name: str | None = None,
) -> User:
    """Create a user with an argon2 hash; staff need an institution, enterprise users an enterprise."""
    username = username.strip()
    if not username or len(username) > 80:
        raise DomainError(
            "用户名不能为空且不超过 80 个字符 (username: 1–80 characters)", field="username"
        )
    if role not in ROLES:
        raise DomainError(
            f"未知角色 {role!r}，可选: {', '.join(ROLES)} (unknown role)", field="role"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"密码至少 {MIN_PASSWORD_LENGTH} 位 (password needs ≥ {MIN_PASSWORD_LENGTH} characters)",
            field="password",
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DomainError(f"用户名已存在: {username} (username taken)", field="username")

    institution_id = None
    if institution_name:
        inst = session.scalar(
            select(Institution).where(Institution.name == institution_name.strip())
        )
        if inst is None:
            inst = Institution(name=institution_name.strip())
            session.add(inst)
            session.flush()
        institution_id = inst.id
    elif role == "institution_staff":
        raise DomainError(
            "高校院所用户需指定 --institution (staff need an institution)", field="institution"
        )

    enterprise_id = None
    if enterprise_ref:
        ref = enterprise_ref.strip()
        ent = session.scalar(
            select(Enterprise).where(
                or_(Enterprise.credit_code == ref.upper(), Enterprise.name == ref)
            )
        )
        if ent is None:
            raise NotFound(f"找不到企业: {ref} (enterprise not found)", field="enterprise")
        enterprise_id = ent.id
    elif role == "enterprise_user":
        raise DomainError(
            "企业用户需指定 --enterprise (enterprise users need an enterprise)", field="enterprise"
        )

    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        email=email,
        display_name=display_name or username,
        institution_id=institution_id,
        enterprise_id=enterprise_id,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """The active user whose password matches, else None (same answer for unknown users)."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.is_active:
        # Hash anyway so response time does not reveal whether the user exists.
        verify_password(hash_password("timing-equaliser"), password)
        return None
    return user if verify_password(user.password_hash, password) else None
