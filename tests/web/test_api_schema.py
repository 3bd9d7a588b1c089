"""schemathesis against the OpenAPI schema: no generated request may cause a 5xx.

Runs on SQLite and PostgreSQL (ids past 32 bits, odd Unicode and huge offsets are where the
two differ). A few rows exist so detail routes also hit real records. Every API operation is
fuzzed inside one test per backend, so the database fixture is set up once.
"""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shuanglian.accounts.service import create_api_token
from tests.web.factories import (
    make_demand,
    make_enterprise,
    make_institution,
    make_listing,
    make_user,
)

EXAMPLES_PER_OPERATION = 10


def test_no_server_errors_on_any_operation(app: FastAPI, db_session) -> None:
    make_listing(db_session, make_institution(db_session))
    make_demand(db_session, make_enterprise(db_session))
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: list[tuple[str, str, int, str]] = []

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call()
            if response.status_code >= 500:
                failures.append(
                    (case.method, case.formatted_path, response.status_code, response.text[:200])
                )
            elif response.status_code >= 400:
                error = response.json()["error"]
                assert set(error) == {"code", "message", "field"}

        fuzz()
    assert not failures, failures[:5]


# Operations that would end the test's own session (benchmarks/schemathesis_api.py leaves out
# the same): revoking tokens, changing or resetting passwords, deactivating users.
SELF_ENDING = {
    ("DELETE", "/api/v1/tokens/{token_id}"),
    ("POST", "/api/v1/me/password"),
    ("POST", "/api/v1/users/{user_id}/active"),
    ("POST", "/api/v1/users/{user_id}/reset"),
}
SIGNED_IN_EXAMPLES = 3  # × ~120 operations ≈ 360 cases per role


def test_signed_in_answers_are_documented(  # type: ignore[no-untyped-def]
    app: FastAPI, db_session, db_settings
) -> None:
    """As an admin (SQLite) and an enterprise user (PostgreSQL): no server error, and every
    status code, content type and body as the schema documents it (the short version of
    benchmarks/schemathesis_api.py, which runs both roles on both backends)."""
    role = "admin" if db_settings.database_url is None else "enterprise_user"
    inst = make_institution(db_session)
    enterprise = make_enterprise(db_session)
    make_listing(db_session, inst)
    make_demand(db_session, enterprise)
    extra = {"enterprise_id": enterprise.id} if role == "enterprise_user" else {}
    user = make_user(db_session, role, **extra)
    _, token = create_api_token(db_session, user=user, name="schemathesis")
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [
        op
        for op in (result.ok() for result in schema.get_all_operations())
        if (op.method.upper(), op.path) not in SELF_ENDING
    ]
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=SIGNED_IN_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case) -> None:  # type: ignore[no-untyped-def]
            try:
                case.call_and_validate(headers=headers, checks=checks)
            except Exception as exc:  # a check's failure: collect them all, then report
                failures.append(f"{case.method} {case.formatted_path}: {str(exc)[:300]}")

        fuzz()
    assert not failures, failures[:5]
