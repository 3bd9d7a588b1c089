"""Reading HTML form fields safely."""

from __future__ import annotations

from typing import Any

MAX_FIELD_CHARS = 20_000


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
