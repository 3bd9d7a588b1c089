"""schemathesis against the OpenAPI schema: no generated request may cause a 5xx.

Runs on SQLite and PostgreSQL (ids past 32 bits, odd Unicode and huge offsets are where the
two differ). A few rows exist so detail routes also hit real records. Every API operation is
fuzzed inside one test per backend, so the database fixture is set up once.
"""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from tests.web.factories import make_demand, make_enterprise, make_institution, make_listing

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
