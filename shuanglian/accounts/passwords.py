"""Password hashing with argon2id (argon2-cffi defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shuanglian.errors import DomainError

MIN_PASSWORD_LENGTH = 10


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    """Return an argon2id hash string (salt and parameters embedded)."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; a malformed stored hash counts as a mismatch."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's defaults."""
    return _hasher().check_needs_rehash(password_hash)


def check_password_strength(password: str, *, field: str = "password") -> None:
    """Reject passwords a person could guess quickly; message says what to change."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"密码至少 {MIN_PASSWORD_LENGTH} 个字符 (at least {MIN_PASSWORD_LENGTH} characters)",
            field=field,
        )
    if password.isdigit() or password.isalpha():
        raise DomainError(
            "密码须同时包含字母和数字或符号 (mix letters with digits or symbols)", field=field
        )
