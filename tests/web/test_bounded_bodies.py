"""Every request body is bounded (issue 10, "Bad input"): each string has a length limit and
refuses NUL, each decimal has the digits and places its column holds. Unbounded, a 10 MB
string or 1e999 reached the database, which PostgreSQL refused with a 500."""

from __future__ import annotations

import types
from decimal import Decimal
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from shuanglian.config import Settings
from shuanglian.deals.schemas import CONTRACT_DETAILS, SERVICE_DETAILS
from shuanglian.web.app import create_app
from shuanglian.web.schemas import NO_NUL
from tests.web.factories import (
    csrf_of,
    login,
    make_enterprise,
    make_institution,
    make_patent,
    make_user,
)


def _body_models(app: FastAPI) -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()
    _routes(app.routes, found)
    # A deal's service and contract `details` are a dict validated by the kind's own model.
    for shape in [*SERVICE_DETAILS.values(), *CONTRACT_DETAILS.values()]:
        if shape is not None:
            _collect(shape, found)
    return found


def _routes(routes: list[Any], found: set[type[BaseModel]]) -> None:
    for route in routes:
        if isinstance(route, APIRoute):
            for param in route.dependant.body_params:
                _collect(param.field_info.annotation, found)
        elif hasattr(route, "original_router"):  # an included router (FastAPI ≥ 0.160)
            _routes(route.original_router.routes, found)


def _collect(annotation: Any, found: set[type[BaseModel]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in found:
            found.add(annotation)
            for field in annotation.model_fields.values():
                _collect(field.annotation, found)
        return
    for arg in get_args(annotation):
        _collect(arg, found)


def _constraints(field: FieldInfo, annotation: Any) -> dict[str, Any]:
    """The limits on one (possibly nested, Annotated) type, merged with the field's own."""
    seen: dict[str, Any] = {}
    for meta in field.metadata:
        seen.update(_meta(meta))
    for meta in getattr(annotation, "__metadata__", ()):
        seen.update(_meta(meta))
    return seen


def _meta(meta: Any) -> dict[str, Any]:
    if isinstance(meta, FieldInfo):
        out: dict[str, Any] = {}
        for inner in meta.metadata:
            out.update(_meta(inner))
        return out
    if isinstance(meta, annotated_types.MaxLen):
        return {"max_length": meta.max_length}
    if isinstance(meta, annotated_types.Ge | annotated_types.Gt):
        return {"lower": True}
    names = ("pattern", "max_digits", "decimal_places")
    return {n: getattr(meta, n) for n in names if getattr(meta, n, None) is not None}


def _leaves(annotation: Any) -> list[tuple[Any, bool]]:
    """(leaf type, inside a list) for each str/Decimal the annotation can hold."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return [leaf for arg in get_args(annotation) for leaf in _leaves(arg)]
    if origin is list:
        return [(leaf, True) for leaf, _ in _leaves(get_args(annotation)[0])]
    base = get_args(annotation)[0] if hasattr(annotation, "__metadata__") else annotation
    if base in (str, Decimal):
        return [(annotation, False)]
    if get_origin(base) in (Union, types.UnionType, list):
        return _leaves(base)
    return []


def unbounded_fields(app: FastAPI) -> list[str]:
    """`Model.field: what is missing` for every request-body field without its bounds."""
    problems = []
    for model in sorted(_body_models(app), key=lambda m: m.__qualname__):
        for name, field in model.model_fields.items():
            if get_origin(field.annotation) is Literal:
                continue
            for leaf, in_list in _leaves(field.annotation):
                own = {} if in_list else _constraints(field, field.annotation)
                limits = {**own, **_constraints(FieldInfo(), leaf)}
                base = get_args(leaf)[0] if hasattr(leaf, "__metadata__") else leaf
                if base is str:
                    if "max_length" not in limits or limits.get("pattern") != NO_NUL:
                        problems.append(f"{model.__qualname__}.{name}: str {limits}")
                elif not {"max_digits", "decimal_places"} <= set(limits):
                    problems.append(f"{model.__qualname__}.{name}: Decimal {limits}")
    return problems


def test_every_body_string_and_decimal_is_bounded(tmp_path) -> None:
    app = create_app(Settings(home=tmp_path / "home", database_url=None))
    assert len(_body_models(app)) > 40
    assert unbounded_fields(app) == []


def _post(client: TestClient, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json=body, headers={"X-CSRF-Token": csrf_of(client, "/account")})


BAD_VALUES = [
    pytest.param("x" * 20_001, id="long"),
    pytest.param("a\x00b", id="nul"),
]
BAD_NUMBERS = [
    pytest.param("1e999", id="huge"),
    pytest.param("1e-999999", id="tiny"),
    pytest.param(1e300, id="float-huge"),
]


def _challenge(**over: Any) -> dict[str, Any]:
    body = {
        "title": "耐高温涂层",
        "budget": "50",
        "application_deadline": "2030-01-01",
        "delivery_deadline": "2030-06-01",
    }
    return {**body, **over}


def _field_of(response: Any) -> str | None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    return response.json()["error"]["field"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("value", BAD_VALUES)
def test_bad_strings_in_bodies_are_4xx_naming_the_field(
    value: str, client: TestClient, db_session
) -> None:
    """On both backends (db_session runs on SQLite and PostgreSQL)."""
    enterprise = make_enterprise(db_session)
    login(client, make_user(db_session, "enterprise_user", enterprise_id=enterprise.id))
    assert _field_of(_post(client, "/api/v1/challenges", _challenge(title=value))) == "title"
    assert _field_of(_post(client, "/api/v1/challenges", _challenge(ip_owner=value))) == "ip_owner"


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_bad_numbers_in_bodies_are_4xx_naming_the_field(
    value: Any, client: TestClient, db_session
) -> None:
    enterprise = make_enterprise(db_session)
    login(client, make_user(db_session, "enterprise_user", enterprise_id=enterprise.id))
    assert _field_of(_post(client, "/api/v1/challenges", _challenge(budget=value))) == "budget"


@pytest.mark.parametrize("value", [*BAD_VALUES, *BAD_NUMBERS])
def test_bad_values_in_a_deal_contract_are_4xx_naming_the_field(
    value: Any, client: TestClient, db_session
) -> None:
    inst = make_institution(db_session)
    enterprise = make_enterprise(db_session)
    login(client, make_user(db_session, "admin"))
    deal = _post(
        client,
        "/api/v1/deals",
        {
            "institution_id": inst.id,
            "enterprise_id": enterprise.id,
            "title": "转让",
            "patent_ids": [make_patent(db_session, inst).id],
        },
    )
    assert deal.status_code == 201, deal.text
    body = {
        "deal_id": deal.json()["id"],
        "kind": "transfer",
        "subtype": "patent_right",
        "title": "合同",
        "signed_on": "2026-01-01",
        "amount": "10",
    }
    field = "amount" if not isinstance(value, str) or value[:1] == "1" else "subtype"
    body[field] = value
    response = _post(client, "/api/v1/contracts", body)
    assert _field_of(response) == field


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("budget", "1e999", "数字过大"),
        ("budget", "1e-999999", "数字过大"),
        ("budget", "0.000001", "最多 4 位小数"),
        ("title", "题" * 301, "300"),
    ],
)
def test_the_challenge_form_shows_bad_values_under_their_field(
    field: str, value: str, says: str, client: TestClient, db_session
) -> None:
    """The browser form of the same schema: a 422 page with the message under the field."""
    enterprise = make_enterprise(db_session)
    login(client, make_user(db_session, "enterprise_user", enterprise_id=enterprise.id))
    form = {
        "title": "耐高温涂层",
        "budget": "50",
        "application_deadline": "2030-01-01",
        "delivery_deadline": "2030-06-01",
        "visibility": "public",
        field: value,
        "csrf_token": csrf_of(client, "/challenges/new"),
    }
    page = client.post("/challenges/new", data=form)
    assert page.status_code == 422, page.text[:300]
    assert f'id="err-{field}"' in page.text and says in page.text


def test_a_push_round_for_an_institution_that_does_not_exist_is_404(
    client: TestClient, db_session
) -> None:
    """Schemathesis found it: the admin passed the permission check and the round's foreign
    key failed in the database (500)."""
    login(client, make_user(db_session, "admin"))
    body = {"institution_id": 2_000_000_000, "matcher": "industry"}
    response = _post(client, "/api/v1/inventory/push-rounds", body)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["field"] == "institution_id"


def test_a_batch_source_file_no_file_system_takes_is_just_a_name(
    client: TestClient, db_session
) -> None:
    """Schemathesis found it: the name was looked up as a path (File name too long: 500)."""
    inst = make_institution(db_session)
    login(client, make_user(db_session, "admin"))
    body = {"institution_id": inst.id, "name": "批次", "source_file": "0" * 400}
    response = _post(client, "/api/v1/inventory/batches", body)
    assert response.status_code < 500, response.text[:300]
