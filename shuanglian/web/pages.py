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
