"""Site-wide pages: home and the health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import text

from shuanglian.figures import headline_figures
from shuanglian.web.deps import CurrentUser, SessionDep
from shuanglian.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz(session: SessionDep) -> dict[str, str]:
    """Liveness plus a database round trip (load balancers and `make demo` poll this)."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    figures = headline_figures(session, keys=("patents", "enterprises", "demands", "listings"))
    return render(request, "home.html", {"figures": figures})


@router.get("/reference/industries/options", response_class=HTMLResponse)
def industry_options_fragment(request: Request) -> HTMLResponse:
    """`<option>`s for an industry picker's datalist (HTMX): the best GB/T 4754 entries for
    the typed words or code, each with its lettered code and name.

    HTMX sends the input under its own name (industry_code, industries, ...), so the words are
    `q` when given, else the request's first parameter.
    """
    from html import escape

    from shuanglian.reference.gbt4754 import lettered_code, suggest_industries

    params = request.query_params
    q = (params.get("q") or next(iter(params.values()), "") or "")[:50]
    # A listing's industries field is a comma list: suggest for the word being typed.
    q = q.replace("，", ",").rsplit(",", 1)[-1]
    options = [
        f'<option value="{lettered_code(i.code)}">{lettered_code(i.code)} {escape(i.name)}</option>'
        for i in suggest_industries(q or "", limit=15)
    ]
    return HTMLResponse("".join(options))
