import pytest

from shuanglian.accounts.passwords import use_cheap_hashing_for_tests
from tests.web.fixtures import app, client  # noqa: F401  (shared fixtures)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> None:
    use_cheap_hashing_for_tests()
