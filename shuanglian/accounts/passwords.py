"""Password hashing with argon2id (argon2-cffi defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

import threading
from functools import lru_cache

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from shuanglian.errors import DomainError

MIN_PASSWORD_LENGTH = 10


# RFC 9106's second recommended profile (argon2id, t=3, 64 MiB, p=4): argon2-cffi's default.
_profile: Parameters = profiles.RFC_9106_LOW_MEMORY


# Every hash and check in this process takes one of these slots: a global cap on the memory
# (64 MiB each) and cores that password work can take, whoever asks (logins, password changes,
# the CLI). `limit_concurrent_hashing` sizes it from `Settings.password_hash_concurrency`.
_slots = threading.BoundedSemaphore(2)


def limit_concurrent_hashing(concurrency: int) -> None:
    """Allow at most `concurrency` password hashes or checks at once in this process."""
    global _slots
    _slots = threading.BoundedSemaphore(max(1, concurrency))


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher.from_parameters(_profile)


def use_cheap_hashing_for_tests() -> None:
    """Switch new hashes to argon2-cffi's cheapest profile.

    Only for test suites: a real hash costs ~0.1–0.8 s of CPU, which would dominate tests that
    create many users on a shared 2-core machine. Verification always follows the parameters
    stored in each hash, so the code path is the same.
    """
    global _profile
    _profile = profiles.CHEAPEST
    _hasher.cache_clear()


def hash_password(password: str) -> str:
    """Return an argon2id hash string (salt and parameters embedded)."""
    with _slots:
        return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; a malformed stored hash counts as a mismatch, and so does
    a password that cannot be UTF-8 encoded (a lone surrogate: Python's stand-in for
    undecodable bytes in a command-line argument)."""
    try:
        with _slots:
            return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's defaults."""
    return _hasher().check_needs_rehash(password_hash)


def check_password_strength(password: str, *, field: str = "password") -> None:
    """Reject passwords a person could guess quickly; message says what to change."""
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (undecodable bytes in a command-line argument): it could never be
        # typed at the login form, and argon2 cannot hash it.
        raise DomainError("密码含无效字符 (invalid characters)", field=field) from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"密码至少 {MIN_PASSWORD_LENGTH} 个字符 (at least {MIN_PASSWORD_LENGTH} characters)",
            field=field,
        )
    if password.isdigit() or password.isalpha():
        raise DomainError(
            "密码须同时包含字母和数字或符号 (mix letters with digits or symbols)", field=field
        )
