from tests.web.fixtures import app, client  # noqa: F401  (shared fixtures)
