"""What every deals form does with its input and its errors, in one place.

A form's input names are the service's field names (`amount`, `details.percentage`,
`schedule`), so the field a `DomainError` names is the input it is shown under. An error whose
field the form does not show (a rule across several fields, a row of a list) goes to the
nearest shown parent or, failing that, to the top of the form (`FORM`), so no message is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shuanglian.errors import DomainError
from shuanglian.web.forms import form_text

FORM = "_form"  # errors shown above the form


def page_context() -> dict[str, Any]:
    """Helpers every deals template uses: amounts in 万元, stage names, the vocabularies."""
    from shuanglian.deals import pipeline, schemas
    from shuanglian.deals.contracts import format_wan

    return {
        "wan": format_wan,
        "stages": pipeline.STAGES,
        "vocab": schemas,
        "lbl": schemas.label,
        "today": pipeline.today_in_china(),
    }


def read_form(form: Any) -> dict[str, str]:
    """Every text field of a submitted form (the CSRF token left out)."""
    return {k: form_text(form, k) for k in form if k != "csrf_token"}


def blanks_to_none(values: Mapping[str, str], keys: Iterable[str]) -> dict[str, Any]:
    """The named fields, with an empty field meaning "not given" (None) for the services."""
    return {k: (values.get(k, "").strip() or None) for k in keys}


def error_map(exc: DomainError, fields: Iterable[str], *, prefix: str = "") -> dict[str, str]:
    """`{input name: message}` for a refused form; see the module docstring."""
    shown = set(fields)
    name = exc.field or ""
    while name and name not in shown:
        name = name.rpartition(".")[0]
    return {prefix + (name or FORM): exc.message}
