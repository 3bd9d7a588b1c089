"""Account applications (申请账号): an enterprise asks for an account, an administrator decides.

Before this, an enterprise could only get an account from an administrator who already knew it.
Now anyone may apply with the company's 统一社会信用代码 (check digit verified, GB 32100-2015),
a contact person, a phone number or e-mail, and the username and password they want. The
password is hashed at once and becomes the account's password on approval, so no password is
ever sent by e-mail. Approval links the new account to the enterprise record with that credit
code, or creates the record. Both decisions are audited and e-mailed to the applicant (when an
e-mail was given) after the decision commits.

The public form is rate-limited like the supermarket's contact form: per credit code and per
network address, in process memory (`accounts.ratelimit`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request

from shuanglian import mail
from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import AccountApplication, User
from shuanglian.accounts.passwords import check_password_strength, hash_password
from shuanglian.accounts.ratelimit import RateLimiter
from shuanglian.accounts.service import create_user, get_user_by_username
from shuanglian.audit import record_audit
from shuanglian.config import Settings
from shuanglian.db import after_commit, utcnow
from shuanglian.enterprises.models import Enterprise
from shuanglian.enterprises.records import create_enterprise
from shuanglian.enterprises.validators import validate_credit_code
from shuanglian.errors import DomainError, NotFound, TooManyRequests
from shuanglian.notifications import notify
from shuanglian.text.normalize import is_storable

PER_CODE = 3  # applications for one credit code per window
PER_ADDRESS = 20  # applications from one network address per window (an office shares one)
WINDOW_S = 3600.0
_ALL = "*"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Digits with the usual separators; 7 digits at least (a landline without area code).
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,38}[0-9]$")


class ApplicationLimits:
    """The windows of one running app; a stored application counts after its commit."""

    def __init__(self) -> None:
        self.per_code = RateLimiter(max_events=PER_CODE, window_s=WINDOW_S)
        self.per_address = RateLimiter(max_events=PER_ADDRESS, window_s=WINDOW_S)

    def retry_after(self, client: str, code: str) -> int:
        """Seconds until this address may apply for this code again; 0 if now."""
        return max(
            self.per_address.retry_after(client, _ALL),
            self.per_code.retry_after(_ALL, code) if code else 0,
        )

    def record(self, client: str, code: str) -> None:
        self.per_address.record(client, _ALL)
        if code:
            self.per_code.record(_ALL, code)


def install(app: FastAPI) -> None:
    app.state.application_limits = ApplicationLimits()


def limits_for(request: Request) -> ApplicationLimits:
    limits: ApplicationLimits = request.app.state.application_limits
    return limits


@dataclass(frozen=True)
class ApplicationInput:
    """The public form's fields, as typed."""

    company_name: str
    credit_code: str
    contact_name: str
    phone: str
    email: str
    username: str
    password: str
    password_confirm: str


def _text(value: str, *, field: str, limit: int, label: str, required: bool = True) -> str:
    text = (value or "").strip()
    if not text:
        if required:
            raise DomainError(f"请填写{label} (required)", field=field)
        return ""
    if not is_storable(text):
        raise DomainError("含无效字符 (invalid characters)", field=field)
    if len(text) > limit:
        raise DomainError(f"最多 {limit} 个字符 (at most {limit} characters)", field=field)
    return text


def _pending_for_code(session: Session, code: str) -> AccountApplication | None:
    return session.scalar(
        select(AccountApplication).where(
            AccountApplication.credit_code == code, AccountApplication.status == "pending"
        )
    )


def _username_pending(session: Session, username: str) -> bool:
    return (
        session.scalar(
            select(AccountApplication.id).where(
                func.lower(AccountApplication.username) == username.lower(),
                AccountApplication.status == "pending",
            )
        )
        is not None
    )


def submit_application(
    session: Session, *, data: ApplicationInput, limits: ApplicationLimits, client: str
) -> AccountApplication:
    """Check and store one application (anyone may apply); refuses duplicates by name."""
    company = _text(data.company_name, field="company_name", limit=300, label="企业名称")
    try:
        code = validate_credit_code(data.credit_code)
    except ValueError as exc:
        raise DomainError(str(exc), field="credit_code") from None
    wait = limits.retry_after(client, code)
    if wait:
        minutes = max(1, -(-wait // 60))
        raise TooManyRequests(
            f"申请过于频繁，请 {minutes} 分钟后再提交 "
            f"(too many applications; retry in {minutes} min)",
            retry_after=wait,
            field="credit_code",
        )
    contact = _text(data.contact_name, field="contact_name", limit=100, label="联系人")
    phone = _text(data.phone, field="phone", limit=40, label="电话", required=False)
    email = _text(data.email, field="email", limit=200, label="邮箱", required=False)
    if not phone and not email:
        raise DomainError(
            "请填写电话或邮箱，用于通知审核结果 (give a phone or e-mail)", field="phone"
        )
    if phone and not _PHONE.match(phone):
        raise DomainError("电话号码格式不正确 (invalid phone number)", field="phone")
    if email and not _EMAIL.match(email):
        raise DomainError("邮箱格式不正确 (invalid e-mail)", field="email")
    username = _text(data.username, field="username", limit=80, label="用户名")
    if _pending_for_code(session, code) is not None:
        raise DomainError(
            f"统一社会信用代码 {code} 已有待审核的申请，请等待管理员审核，勿重复提交 "
            "(an application for this credit code is already waiting for review)",
            field="credit_code",
        )
    if get_user_by_username(session, username=username) is not None or _username_pending(
        session, username
    ):
        raise DomainError(
            "用户名已被使用，请换一个 (username taken; choose another)", field="username"
        )
    if data.password != data.password_confirm:
        raise DomainError("两次输入的密码不一致 (passwords differ)", field="password_confirm")
    check_password_strength(data.password)
    application = AccountApplication(
        company_name=company,
        credit_code=code,
        contact_name=contact,
        phone=phone or None,
        email=email or None,
        username=username,
        password_hash=hash_password(data.password),
        status="pending",
    )
    session.add(application)
    session.flush()
    record_audit(
        session,
        actor=None,
        action="application.submit",
        subject=application,
        detail={"text": f"{company} ({code}) · {username}"},
    )
    after_commit(session, lambda: limits.record(client, code))
    admins = session.scalars(
        select(User.id).where(User.role == perm.ADMIN, User.is_active.is_(True))
    )
    notify(
        session,
        user_ids=list(admins),
        kind="application.submitted",
        title=f"新的账号申请：{company} (new account application)",
        title_en=f"New account application: {company}",
        body=f"{company}（{code}），联系人 {contact}",
        body_en=f"{company} ({code}), contact: {contact}",
        link="/admin/applications",
    )
    return application


def list_applications(
    session: Session, *, actor: User | None, status: str = "pending", limit: int = 200
) -> list[AccountApplication]:
    """Applications in one status, oldest first for the queue (decided ones newest first)."""
    perm.require_admin(actor)
    order = AccountApplication.id.asc() if status == "pending" else AccountApplication.id.desc()
    stmt = select(AccountApplication).where(AccountApplication.status == status)
    return list(session.scalars(stmt.order_by(order).limit(limit)))


def enterprise_for_code(session: Session, code: str) -> Enterprise | None:
    """The enterprise record already holding this credit code, if any."""
    return session.scalar(select(Enterprise).where(Enterprise.credit_code == code))


def decided_application(session: Session, *, application_id: int) -> AccountApplication | None:
    """One application that was approved or rejected (for the queue's confirmation line)."""
    application = session.get(AccountApplication, application_id)
    return application if application and application.status != "pending" else None


def _pending(session: Session, application_id: int) -> AccountApplication:
    application = session.get(AccountApplication, application_id)
    if application is None:
        raise NotFound("申请不存在 (no such application)")
    if application.status != "pending":
        raise DomainError(
            "该申请已处理，不能重复处理 (this application was already decided)", field="decision"
        )
    return application


def approve_application(
    session: Session,
    *,
    actor: User | None,
    application_id: int,
    settings: Settings,
    login_url: str,
) -> User:
    """Create the account (an admin): linked to the enterprise with the credit code, else to a
    new enterprise record; the applicant is e-mailed after commit."""
    admin = perm.require_admin(actor)
    application = _pending(session, application_id)
    enterprise = enterprise_for_code(session, application.credit_code)
    if enterprise is None:
        enterprise = create_enterprise(
            session,
            actor=admin,
            name=application.company_name,
            credit_code=application.credit_code,
        )
    try:
        user = create_user(
            session,
            username=application.username,
            password="",
            password_hash=application.password_hash,
            role=perm.ENTERPRISE_USER,
            display_name=application.contact_name,
            email=application.email,
            enterprise_id=enterprise.id,
            actor=admin,
        )
    except DomainError as exc:
        raise DomainError(
            f"无法创建账号：{exc.message}；请驳回并请申请人换用户名 "
            "(cannot create the account; reject and ask for another username)",
            field="decision",
        ) from None
    application.user_id = user.id
    application.enterprise_id = enterprise.id
    record_audit(
        session,
        actor=admin,
        action="application.approve",
        subject=application,
        detail={"text": f"{application.company_name} → {enterprise.name} · {user.username}"},
    )
    _decide(
        session,
        settings,
        application,
        admin,
        status="approved",
        subject="双链平台账号申请已通过 (your account is ready)",
        text=(
            f"{application.contact_name}，您好：\n\n"
            f"贵单位“{application.company_name}”的账号申请已通过。\n"
            f"用户名：{application.username}\n"
            f"请使用申请时设置的密码登录：{login_url}\n\n"
            f"Your account application for {application.company_name} was approved. "
            f"Log in as {application.username} with the password you chose: {login_url}\n"
        ),
    )
    return user


def reject_application(
    session: Session,
    *,
    actor: User | None,
    application_id: int,
    reason: str,
    settings: Settings,
    apply_url: str,
) -> AccountApplication:
    """Refuse an application with a reason (an admin); the applicant is e-mailed after commit."""
    admin = perm.require_admin(actor)
    application = _pending(session, application_id)
    why = _text(reason, field="reason", limit=1000, label="驳回理由")
    application.reason = why
    record_audit(
        session,
        actor=admin,
        action="application.reject",
        subject=application,
        detail={"text": f"{application.company_name}: {why}"},
    )
    _decide(
        session,
        settings,
        application,
        admin,
        status="rejected",
        subject="双链平台账号申请未通过 (your account application)",
        text=(
            f"{application.contact_name}，您好：\n\n"
            f"贵单位“{application.company_name}”的账号申请未通过。\n"
            f"理由：{why}\n"
            f"修改后可重新申请：{apply_url}\n\n"
            f"Your account application for {application.company_name} was not approved.\n"
            f"Reason: {why}\nYou may apply again: {apply_url}\n"
        ),
    )
    return application


def _decide(
    session: Session,
    settings: Settings,
    application: AccountApplication,
    admin: User,
    *,
    status: str,
    subject: str,
    text: str,
) -> None:
    """Record an admin's decision (the caller audits it) and e-mail the applicant after commit
    when they gave an address."""
    application.status = status
    application.decided_by_id = admin.id
    application.decided_at = utcnow()
    if application.email:
        message = mail.compose(settings, to=[application.email], subject=subject, text=text)
        after_commit(session, lambda: _send(settings, message))


def _send(settings: Settings, message: EmailMessage) -> None:
    mail.send(settings, message)  # never raises: an undelivered message stays in the outbox
