"""Password rules, hashing and the login limiter, without a database."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuanglian.accounts.passwords import (
    MIN_PASSWORD_LENGTH,
    check_password_strength,
    hash_password,
    verify_password,
)
from shuanglian.accounts.ratelimit import RateLimiter
from shuanglian.errors import DomainError


def test_hash_is_argon2id_and_verifies() -> None:
    hashed = hash_password("s3cret-pass-1")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "s3cret-pass-1")
    assert not verify_password(hashed, "s3cret-pass-2")
    assert not verify_password("not a hash", "anything")


@given(st.text(max_size=MIN_PASSWORD_LENGTH - 1))
def test_short_passwords_are_refused(password: str) -> None:
    with pytest.raises(DomainError) as err:
        check_password_strength(password)
    assert err.value.field == "password"


@settings(max_examples=50)
@given(
    st.text(alphabet="abcdefghXYZ", min_size=10, max_size=30),
    st.text(alphabet="0123456789!-", min_size=1, max_size=5),
)
def test_long_mixed_passwords_pass(letters: str, others: str) -> None:
    check_password_strength(letters + others)


def test_all_digit_passwords_are_refused() -> None:
    with pytest.raises(DomainError):
        check_password_strength("12345678901234")


def test_a_password_that_cannot_be_encoded_is_refused_not_a_crash() -> None:
    """Undecodable bytes in a command-line argument reach Python as lone surrogates."""
    odd = "abc-12345\udc80xyz"
    with pytest.raises(DomainError) as err:
        check_password_strength(odd, field="new_password")
    assert err.value.field == "new_password"
    assert not verify_password(hash_password("s3cret-pass-1"), odd)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limiter_blocks_after_max_failures_and_forgets_after_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(max_events=3, window_s=60, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("1.2.3.4", "Alice") == 0
        limiter.record("1.2.3.4", "alice")
    wait = limiter.retry_after("1.2.3.4", "ALICE ")
    assert 0 < wait <= 61
    # Another address or another name is not affected.
    assert limiter.retry_after("5.6.7.8", "alice") == 0
    assert limiter.retry_after("1.2.3.4", "bob") == 0
    clock.now += 61
    assert limiter.retry_after("1.2.3.4", "alice") == 0


def test_limiter_reset_after_success() -> None:
    limiter = RateLimiter(max_events=1, window_s=60, clock=FakeClock())
    limiter.record("c", "u")
    assert limiter.retry_after("c", "u") > 0
    limiter.reset("c", "u")
    assert limiter.retry_after("c", "u") == 0
