"""Dashboard pages: the bureau's and an institution's dashboard, the enterprise and manager
views, table and report downloads, the scheduled reports, and the big screen (`/screen`).

Handlers parse the query, check who may see the scope (`access.dashboard_scope`), call one
service and render. Every chart is drawn from the table printed under it; without JavaScript
the tables are the page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from shuanglian.dashboard import access, screen, service
from shuanglian.dashboard.report import report_pdf, report_xlsx, scope_title, table_xlsx
from shuanglian.dashboard.schedule import list_reports, report_file
from shuanglian.figures import BY_KEY, PERIOD_HELP, period_rule
from shuanglian.reference.regions import PROVINCES
from shuanglian.web.deps import (
    MAX_ID,
    CurrentUser,
    FormNumber,
    IdQuery,
    SessionDep,
    SettingsDep,
    optional_int,
)
from shuanglian.web.i18n import pick_lang
from shuanglian.web.templating import STATIC_DIR, render

router = APIRouter(include_in_schema=False)

PeriodQuery = Annotated[str | None, Query(max_length=40, description=PERIOD_HELP)]
RegionQuery = Annotated[str | None, Query(max_length=20, description="省级代码或名称")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _inst(raw: str | None) -> int | None:
    """The institution filter; the form's "all" choice arrives as an empty string."""
    return optional_int(raw, field="institution_id", low=1, high=MAX_ID)


def echarts_available() -> bool:
    """Whether `make install` put ECharts in static/vendor; the tables stand without it."""
    return (STATIC_DIR / "vendor" / "echarts.min.js").is_file()


def _download(body: bytes | str, media: str, filename: str) -> Response:
    from urllib.parse import quote

    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    institution_id: FormNumber = None,
    region: RegionQuery = None,
    period: PeriodQuery = None,
) -> HTMLResponse:
    """The bureau's dashboard (admin: all, by region) or an institution's own (its staff)."""
    scope = access.dashboard_scope(
        session, user, institution_id=_inst(institution_id), region=region, period=period
    )
    board = service.build_dashboard(session, scope=scope)
    return render(
        request,
        "dashboard/index.html",
        {
            "board": board,
            "heading": scope_title(session, scope, lang=pick_lang(request)),
            "has_echarts": echarts_available(),
            "figures": BY_KEY,
            "period_rule": period_rule,
            "provinces": PROVINCES,
            "institutions": access.institution_choices(session, user),
            "params": {
                "institution_id": scope.institution_id,
                "region": region or "",
                "period": period or "",
            },
            "period_help": PERIOD_HELP,
            "reports": list_reports(request.app.state.settings, user=user, limit=8),
        },
    )


@router.get("/dashboard/tables/{key}.{fmt}")
def dashboard_table(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    key: str,
    fmt: str,
    institution_id: FormNumber = None,
    region: RegionQuery = None,
    period: PeriodQuery = None,
) -> Response:
    """One table as CSV or Excel, for the same scope as the page."""
    scope = access.dashboard_scope(
        session, user, institution_id=_inst(institution_id), region=region, period=period
    )
    table = service.build_table(session, scope=scope, key=key)
    lang = "en" if request.query_params.get("lang") == "en" else "zh"
    if fmt == "csv":
        return _download(table.to_csv(lang), "text/csv; charset=utf-8", f"{key}.csv")
    if fmt == "xlsx":
        return _download(table_xlsx(table, lang=lang), XLSX, f"{key}.xlsx")
    from shuanglian.errors import NotFound

    raise NotFound("下载格式须为 csv 或 xlsx (format must be csv or xlsx)")


@router.get("/dashboard/report.{fmt}")
def dashboard_report(
    session: SessionDep,
    user: CurrentUser,
    fmt: str,
    institution_id: FormNumber = None,
    region: RegionQuery = None,
    period: PeriodQuery = None,
) -> Response:
    """The report of the page's scope as a PDF or a workbook, made now."""
    scope = access.dashboard_scope(
        session, user, institution_id=_inst(institution_id), region=region, period=period
    )
    name = f"report-{scope.institution_id or 'all'}-{period or 'all'}"
    if fmt == "pdf":
        return _download(report_pdf(session, scope=scope), "application/pdf", f"{name}.pdf")
    if fmt == "xlsx":
        return _download(report_xlsx(session, scope=scope), XLSX, f"{name}.xlsx")
    from shuanglian.errors import NotFound

    raise NotFound("报告格式须为 pdf 或 xlsx (format must be pdf or xlsx)")


@router.get("/dashboard/reports/{name}")
def scheduled_report(settings: SettingsDep, user: CurrentUser, name: str) -> Response:
    """A report the scheduled run wrote (overall: admins; an institution's: its staff)."""
    path = report_file(settings, user=user, name=name)
    media = "application/pdf" if path.suffix == ".pdf" else XLSX
    return _download(path.read_bytes(), media, path.name)


@router.get("/dashboard/enterprise", response_class=HTMLResponse)
def enterprise_dashboard(
    request: Request, session: SessionDep, user: CurrentUser, enterprise_id: IdQuery = None
) -> HTMLResponse:
    """An enterprise's pushes, feedback, challenges and deals (its users; admin by id)."""
    ent = access.enterprise_scope(session, user, enterprise_id=enterprise_id)
    view = service.enterprise_view(session, enterprise_id=ent.id)
    return _role_page(request, view, heading=ent.name)


@router.get("/dashboard/manager", response_class=HTMLResponse)
def manager_dashboard(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    """A technology manager's own deals by stage, the longest-waiting first."""
    manager_id = access.manager_scope(session, user)
    view = service.manager_view(session, manager_id=manager_id)
    return _role_page(request, view, heading=None)


def _role_page(request: Request, view: dict[str, Any], *, heading: str | None) -> HTMLResponse:
    context = {"view": view, "figures": BY_KEY, "heading": heading}
    return render(request, "dashboard/role.html", {**context, "has_echarts": echarts_available()})


# --------------------------------------------------------------------------- the big screen


@router.get("/screen", response_class=HTMLResponse)
def big_screen(request: Request, session: SessionDep) -> HTMLResponse:
    """The exhibition screen: live figures, the province map, latest activity, listings."""
    context = screen.screen_context(session)
    context["has_echarts"] = echarts_available()
    return render(request, "dashboard/screen.html", context)


@router.get("/screen/figures", response_class=HTMLResponse)
def big_screen_figures(request: Request, session: SessionDep) -> HTMLResponse:
    """The figures and activity block alone: HTMX on the big screen swaps it in every 30 s."""
    return render(request, "dashboard/_screen_live.html", screen.screen_context(session))
