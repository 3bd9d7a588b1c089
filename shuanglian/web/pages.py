"""Site-wide pages: home and the health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select, text

from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.patents.models import Patent
from shuanglian.supermarket.models import Listing
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
    def count(model: type) -> int:
        return session.scalar(select(func.count()).select_from(model)) or 0

    figures = {
        "patents": count(Patent),
        "enterprises": count(Enterprise),
        "demands": count(Demand),
        "listings": session.scalar(
            select(func.count()).select_from(Listing).where(Listing.status == "published")
        )
        or 0,
    }
    return render(request, "home.html", {"figures": figures})
