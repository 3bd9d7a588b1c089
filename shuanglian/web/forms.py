"""Reading HTML form fields safely, and showing a refusal beside the field it concerns."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.importing import readable_error

MAX_FIELD_CHARS = 20_000


async def read_form(request: Request) -> FormData:
    """The request's parsed form (Starlette caches it, so the CSRF check reads it only once).

    Reading the body is the only part of a form handler that needs the event loop; with the
    form as a dependency the handler itself is a plain `def`, which FastAPI runs in its
    thread pool — so database calls and password hashing never block the loop that answers
    every other request (an `async def` handler doing them stalled `/healthz` for seconds).
    """
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]


def form_text(form: Any, name: str) -> str:
    """A text field's value ("" when absent or a file), without NUL characters.

    PostgreSQL text cannot store NUL, and no person types one; dropping it keeps a crafted
    request from turning into a database error. Over-long values are cut at MAX_FIELD_CHARS;
    the services' own length checks then report the field.
    """
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "")[:MAX_FIELD_CHARS]


def form_errors(
    session: Session,
    exc: DomainError,
    *,
    default: str | None,
    fields: Collection[str] | None = None,
    prefix: str = "",
) -> dict[str, str]:
    """A refused form as `{field: message}`, to show the message beside its input.

    The one mapping every page uses. The request's changes are rolled back first: the form is
    shown again and nothing of the attempt is kept. A refusal of the person rather than of the
    input (not allowed, not found) is no form error and goes on to the site's error page, as
    does one naming no field when the form has no `default` place for it. `fields` limits the
    fields this form shows (another goes to `default`); `prefix` tells apart several forms on
    one page (`demand-title`).
    """
    session.rollback()
    if isinstance(exc, PermissionDenied | NotFound):
        raise exc
    field = exc.field if exc.field and (fields is None or exc.field in fields) else default
    if field is None:
        raise exc
    return {f"{prefix}{field}": exc.message}


def invalid_fields(exc: ValidationError, *, default: str, prefix: str = "") -> dict[str, str]:
    """Pydantic's refusal of a form's fields as `{field: message}` (first message per field)."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = err.get("loc") or ()
        field = str(loc[0]) if loc else default
        errors.setdefault(f"{prefix}{field}", readable_error(err))
    return errors


def form_status(exc: DomainError) -> int:
    """The status of a form shown again: 422 for refused input, the error's own otherwise
    (413 too large, 429 too many)."""
    return exc.status if exc.status != 400 else 422
