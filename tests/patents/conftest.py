from tests.web.fixtures import app, client  # noqa: F401  (the app on the test's database)
