"""HTML pages for enterprises and demands: the public register and the enterprise workspace.

The workspace's edits go through `enterprises.workspace`, the same functions the JSON API
calls: those validate, check permissions and flush; these handlers read the form and show a
refused field's message next to that field (the request's transaction commits).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shuanglian.enterprises import service, workspace
from shuanglian.enterprises.workspace import DemandInput, ProfileInput
from shuanglian.errors import DomainError
from shuanglian.patents.service import patent_abstracts
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, PageDep, SessionDep, SettingsDep
from shuanglian.web.forms import FormDep, form_errors, form_status, form_text
from shuanglian.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/enterprises", response_class=HTMLResponse)
def enterprises_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    province: Annotated[str | None, Query(max_length=50)] = None,
    industry_code: Annotated[str | None, Query(max_length=60)] = None,
) -> HTMLResponse:
    result = service.list_enterprises(
        session,
        q=q,
        province=province or None,
        industry_code=industry_code or None,
        offset=page.offset,
        limit=page.per_page,
    )
    related: list[Any] = []
    found: dict[int, Any] = {}
    if q and q.strip() and result.total == 0 and page.offset == 0:
        related, found = _related_enterprises(
            session,
            request.app.state.settings,
            q=q.strip(),
            province=province or None,
            industry_code=industry_code or None,
        )
    return render(
        request,
        "enterprises/list.html",
        {
            "items": result.items,
            **page.context(result.total),
            "q": q,
            "province": province,
            "industry_code": industry_code,
            "related": related,
            "related_rows": found,
        },
    )


# Enterprises the related list shows, and asks the engine for when a filter must keep some.
RELATED_TOP = 20
RELATED_ASKED = 200


def _related_enterprises(
    session: Any, settings: Any, *, q: str, province: str | None, industry_code: str | None
) -> tuple[list[Any], dict[int, Any]]:
    """When no name or business scope holds the words as typed (锂电池 where scopes say 锂离子
    电池; `lithium battery`), the enterprises whose scope the engine finds closest, in either
    language, with level, shared words and reasons, the register's filters applied; ([], {})
    while the index is not built."""
    from shuanglian.matching.service import IndexNotReady, match_text

    filtered = province is not None or industry_code is not None
    top = RELATED_ASKED if filtered else RELATED_TOP
    try:
        matches = match_text(session, settings=settings, text=q, target="enterprises", top=top)
    except IndexNotReady:
        return [], {}
    rows = service.enterprises_among(
        session, ids=[m.id for m in matches], province=province, industry_code=industry_code
    )
    return [m for m in matches if m.id in rows][:RELATED_TOP], rows


@router.get("/enterprises/{enterprise_id}", response_class=HTMLResponse)
def enterprise_page(
    request: Request, session: SessionDep, user: CurrentUser, enterprise_id: IdPath
) -> HTMLResponse:
    enterprise = service.get_enterprise(session, enterprise_id=enterprise_id)
    demands = service.list_demands(
        session, enterprise_id=enterprise.id, limit=50, viewer=user, public=True
    ).items
    # An anonymous demand on its company's page would name the company after all.
    demands = [d for d in demands if service.demand_company_shown(d, user)]
    return render(
        request, "enterprises/detail.html", {"enterprise": enterprise, "demands": demands}
    )


@router.get("/demands", response_class=HTMLResponse)
def demands_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    result = service.list_demands(
        session, q=q, offset=page.offset, limit=page.per_page, viewer=user, public=True
    )
    partial = []
    if q and q.strip() and result.total == 0 and page.offset == 0:
        partial = service.partial_demands(session, q=q, viewer=user)
    return render(
        request,
        "enterprises/demands.html",
        {
            "items": result.items,
            "partial": partial,
            **page.context(result.total),
            "q": q,
        },
    )


@router.get("/demands/{demand_id}", response_class=HTMLResponse)
def demand_page(
    request: Request, session: SessionDep, user: CurrentUser, demand_id: IdPath
) -> HTMLResponse:
    demand = service.get_demand(session, demand_id=demand_id, viewer=user, public=True)
    return render(request, "enterprises/demand.html", {"demand": demand})


# --------------------------------------------------------------------------- workspace


SIGNAL_NAMES_ZH = {"bm25": "文本", "ipc": "分类号", "prior": "产业关联", "dense": "语义"}


def _engine_lines(explanation: dict[str, Any], lang: str = "zh") -> list[str]:
    """The matching engine's structured explanation (matching.schemas.ExplanationOut).

    Explanations stored since issue 11 carry plain sentences (`reasons`, `reasons_en`): those
    are shown. Older stored ones fall back to the structured fields."""
    key = "reasons_en" if lang == "en" else "reasons"
    if isinstance(explanation.get(key), list):
        return [str(x) for x in explanation[key]]
    lines: list[str] = []
    terms = [t.get("term", "") for t in explanation.get("terms") or [] if isinstance(t, dict)]
    if terms:
        lines.append("共同技术词 (shared terms): " + "、".join(terms[:8]))
    ipcs = [
        f"{i.get('code')}" + (f" {i['title']}" if i.get("title") else "")
        for i in explanation.get("ipc_shared") or []
        if isinstance(i, dict)
    ]
    if ipcs:
        lines.append("相同分类号 (shared IPC): " + "；".join(ipcs[:3]))
    links = [
        f"{k.get('ipc')} → {k.get('industry_name') or k.get('industry')}"
        for k in explanation.get("industry_links") or []
        if isinstance(k, dict)
    ]
    if links:
        lines.append("产业关联（近似）(industry link, approximate): " + "；".join(links[:3]))
    if isinstance(explanation.get("dense"), int | float):
        lines.append(f"语义相似度 (semantic similarity): {explanation['dense']:.2f}")
    shares = explanation.get("shares") or {}
    if shares:
        parts = [
            f"{SIGNAL_NAMES_ZH.get(k, k)} {v:.0%}"
            for k, v in sorted(shares.items(), key=lambda kv: -kv[1])
            if isinstance(v, int | float) and v > 0
        ]
        if parts:
            lines.append("得分构成 (score shares): " + "，".join(parts))
    return lines


def explanation_lines(explanation: dict[str, Any] | None, lang: str = "zh") -> list[str]:
    """A match explanation as short lines a person can read (keys vary by matcher)."""
    if not explanation:
        return []
    if isinstance(explanation.get("reasons"), list):
        return _engine_lines(explanation, lang)
    lines: list[str] = []
    # A matcher's own sentence comes first; the structured details follow.
    for key in ("reason", "summary"):
        if isinstance(explanation.get(key), str) and explanation[key]:
            lines.append(explanation[key])
    if explanation.get("method") == "engine" or "terms" in explanation:
        return lines + _engine_lines(explanation)
    for key, value in explanation.items():
        if key in ("reason", "summary"):
            continue
        if isinstance(value, list | tuple):
            value = "、".join(str(v) for v in value[:8])
        elif isinstance(value, dict):
            value = "、".join(f"{k} {v}" for k, v in list(value.items())[:8])
        lines.append(f"{key}: {value}")
    return lines


def _workspace(
    request: Request,
    session: Any,
    user: Any,
    *,
    errors: dict[str, str] | None = None,
    profile_form: dict[str, str] | None = None,
    demand_form: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from shuanglian.inventory.feedback import INTENTS, feedback_by_push
    from shuanglian.inventory.push import push_list_for_enterprise
    from shuanglian.matching.bulk import explain_compact_pushes
    from shuanglian.matching.service import IndexNotReady, match_enterprise

    enterprise_id = workspace.workspace_enterprise_id(user)
    enterprise = service.get_enterprise(session, enterprise_id=enterprise_id)
    pushes = push_list_for_enterprise(session, actor=user, enterprise_id=enterprise_id)[:100]
    feedback = feedback_by_push(session, enterprise_id=enterprise_id)
    demands = service.list_demands(session, enterprise_id=enterprise_id, limit=100).items
    saved = request.query_params.get("saved", "")
    try:
        # Read from the saved profile on every visit: a profile change shows at once.
        matches, matches_note = (
            match_enterprise(
                session, settings=request.app.state.settings, enterprise_id=enterprise_id, top=10
            ),
            None,
        )
    except IndexNotReady as exc:
        matches, matches_note = [], exc.message
    return render(
        request,
        "workspace/enterprise.html",
        {
            "enterprise": enterprise,
            "pushes": pushes,
            # A national bulk push stores its pushes compact: their reasons are read now.
            "explained": explain_compact_pushes(
                session, settings=request.app.state.settings, pushes=[p for p, _ in pushes]
            ),
            "feedback": feedback,
            "intents": INTENTS,
            "demands": demands,
            "explain": explanation_lines,
            "errors": errors or {},
            "profile_form": profile_form or {},
            "demand_form": demand_form or {},
            "flashes": [message] if message else [],
            "saved": saved,
            "matches": matches,
            "matches_note": matches_note,
            "abstracts": patent_abstracts(session, ids=[m.id for m in matches]),
            "max_upload_mb": request.app.state.settings.max_upload_mb,
            "max_upload_bytes": request.app.state.settings.max_upload_bytes,
        },
        status_code=status_code,
    )


@router.get("/workspace/enterprise", response_class=HTMLResponse)
def enterprise_workspace(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    return _workspace(request, session, user)


_form_str = form_text


@router.post("/workspace/enterprise/profile", response_class=HTMLResponse, dependencies=[CsrfDep])
def enterprise_profile_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    enterprise_id = workspace.workspace_enterprise_id(user)
    data = ProfileInput(
        business_scope=_form_str(form, "business_scope"),
        industry_code=_form_str(form, "industry_code"),
    )
    try:
        workspace.update_enterprise_profile(
            session, actor=user, enterprise_id=enterprise_id, data=data
        )
    except DomainError as exc:
        # A refusal naming no field (not allowed, not found) goes on to the error page.
        return _workspace(
            request,
            session,
            user,
            errors=form_errors(session, exc, default=None),
            profile_form=_echo(form),
            status_code=form_status(exc),
        )
    return RedirectResponse("/workspace/enterprise?saved=profile#recommended", status_code=303)


def _echo(form: Any) -> dict[str, str]:
    """What the person typed, to put back into the form beside the error."""
    return {k: _form_str(form, k) for k in form if k != "csrf_token"}


@router.post(
    "/workspace/enterprise/feedback/{push_id}",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def enterprise_feedback_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, push_id: IdPath
) -> Response:
    from pydantic import ValidationError

    from shuanglian.inventory.feedback import submit_feedback
    from shuanglian.inventory.schemas import FeedbackIn

    enterprise_id = workspace.workspace_enterprise_id(user)
    key = f"feedback-{push_id}"
    try:
        if not _form_str(form, "prospect"):
            # No default score: a stray tap used to record the lowest one.
            raise ValueError("请选择产业化前景 (choose a prospect, 1–5)")
        prospect = int(_form_str(form, "prospect"))
        data = FeedbackIn(
            prospect=prospect,
            intent=_form_str(form, "intent"),
            improvement_needs=_form_str(form, "improvement_needs") or None,
        )
        submit_feedback(
            session,
            actor=user,
            data=data,
            push_id=push_id,
            enterprise_id=enterprise_id,
            source="web",
        )
    except DomainError as exc:
        errors = form_errors(session, exc, default=key, fields=())
        return _workspace(request, session, user, errors=errors, status_code=form_status(exc))
    except (ValueError, ValidationError) as exc:
        session.rollback()
        return _workspace(request, session, user, errors={key: _first_error(exc)}, status_code=422)
    # Back to the same item (not the top of a long page); a reload then repeats a GET.
    return RedirectResponse(
        f"/workspace/enterprise?saved={push_id}#push-{push_id}", status_code=303
    )


@router.get("/workspace/enterprise/feedback/{push_id}")
def enterprise_feedback_get(push_id: IdPath) -> Response:
    """The feedback URL opened again (reload, back, a bookmark): the item, not a 405."""
    return RedirectResponse(f"/workspace/enterprise#push-{push_id}", status_code=303)


def _first_error(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError) and exc.errors():
        return str(exc.errors()[0].get("msg", "输入无效 (invalid input)"))
    if isinstance(exc, ValueError) and str(exc).startswith("请选择"):
        return str(exc)
    return "产业化前景须为 1–5 (prospect must be 1–5)"


def _demand_input(form: Any) -> DemandInput:
    """The demand form as the service's input; an absent status keeps the current one."""
    return DemandInput(
        title=_form_str(form, "title"),
        description=_form_str(form, "description"),
        industry_code=_form_str(form, "industry_code"),
        budget=_form_str(form, "budget"),
        deadline=_form_str(form, "deadline"),
        region=_form_str(form, "region"),
        status=_form_str(form, "status") or None,
        visibility=_form_str(form, "visibility") or None,
    )


@router.post("/workspace/enterprise/demands", response_class=HTMLResponse, dependencies=[CsrfDep])
def enterprise_demand_create(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    enterprise_id = workspace.workspace_enterprise_id(user)
    try:
        if not _form_str(form, "visibility"):
            # Chosen, never defaulted: a public demand shows the company's weak point.
            raise DomainError(
                "发布前请选择谁能看到这条需求 (choose who sees the demand before publishing)",
                field="visibility",
            )
        workspace.create_demand(
            session, actor=user, enterprise_id=enterprise_id, data=_demand_input(form)
        )
    except DomainError as exc:
        return _workspace(
            request,
            session,
            user,
            errors=form_errors(session, exc, default=None, prefix="demand-"),
            demand_form=_echo(form),
            status_code=form_status(exc),
        )
    return RedirectResponse("/workspace/enterprise#demands", status_code=303)


@router.get("/workspace/enterprise/demands/{demand_id}", response_class=HTMLResponse)
def enterprise_demand_edit_page(
    request: Request, session: SessionDep, user: CurrentUser, demand_id: IdPath
) -> HTMLResponse:
    demand = workspace.demand_for_editing(session, actor=user, demand_id=demand_id)
    return render(
        request,
        "workspace/demand_edit.html",
        {
            "demand": demand,
            "errors": {},
            "form": {},
            "matches": _demand_matches(session, request, demand.id),
            "home": _demand_home(user, demand),
        },
    )


def _demand_matches(session: Any, request: Request, demand_id: int) -> dict[str, Any]:
    """Patents matched to the demand, or the reason there are none yet (index not built)."""
    from shuanglian.matching.service import IndexNotReady, match_demand

    try:
        matches = match_demand(
            session, settings=request.app.state.settings, demand_id=demand_id, top=10
        )
    except IndexNotReady as exc:
        return {"items": [], "note": exc.message, "abstracts": {}}
    return {
        "items": matches,
        "note": None,
        "abstracts": patent_abstracts(session, ids=[m.id for m in matches]),
    }


@router.post(
    "/workspace/enterprise/demands/{demand_id}",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def enterprise_demand_edit_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, demand_id: IdPath
) -> Response:
    try:
        demand = workspace.update_demand(
            session, actor=user, demand_id=demand_id, data=_demand_input(form)
        )
    except DomainError as exc:
        errors = form_errors(session, exc, default=None)
        demand = workspace.demand_for_editing(session, actor=user, demand_id=demand_id)
        return render(
            request,
            "workspace/demand_edit.html",
            {
                "demand": demand,
                "errors": errors,
                "form": _echo(form),
                "matches": None,
                "home": _demand_home(user, demand),
            },
            status_code=form_status(exc),
        )
    return RedirectResponse(_demand_home(user, demand), status_code=303)


def _demand_home(user: Any, demand: Any) -> str:
    """Where an edited demand is seen: its enterprise's workspace, or (admin) its public page."""
    if user is not None and user.enterprise_id == demand.enterprise_id:
        return "/workspace/enterprise#demands"
    return f"/demands/{demand.id}"


# --------------------------------------------------------------------------- feedback workbook


@router.get("/workspace/enterprise/feedback-workbook/template.xlsx")
def enterprise_feedback_template(
    session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> Response:
    """推送专利评价表: every patent pushed to the user's enterprise, to fill in Excel."""
    from shuanglian.inventory.workspace import write_enterprise_feedback_template
    from shuanglian.web.imports import workbook_response

    enterprise_id = workspace.workspace_enterprise_id(user)
    return workbook_response(
        settings,
        filename="推送专利评价表.xlsx",
        write=lambda path: write_enterprise_feedback_template(
            session, actor=user, path=path, enterprise_id=enterprise_id
        ),
    )


@router.post(
    "/workspace/enterprise/feedback-workbook/upload",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def enterprise_feedback_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    file: Annotated[UploadFile | None, File()] = None,
    dry_run: Annotated[bool, Form()] = False,
) -> Response:
    """The filled feedback workbook: each good row recorded as this enterprise's feedback."""
    from shuanglian.inventory.workspace import import_feedback_workbook
    from shuanglian.web.imports import finish_import, render_import_result
    from shuanglian.web.uploads import WORKBOOK_SUFFIXES, received_file

    enterprise_id = workspace.workspace_enterprise_id(user)
    try:
        with received_file(file, settings=settings, allowed=WORKBOOK_SUFFIXES) as path:
            report = import_feedback_workbook(
                session, actor=user, path=path, enterprise_id=enterprise_id, dry_run=dry_run
            )
            filename = path.name
    except DomainError as exc:
        return _workspace(
            request,
            session,
            user,
            errors=form_errors(session, exc, default="file", fields=(), prefix="feedback-"),
            status_code=form_status(exc),
        )
    finish_import(session, report)
    assert user is not None
    return render_import_result(
        request,
        settings=settings,
        user_id=user.id,
        report=report,
        title=("导入评价表结果", "Feedback import"),
        filename=filename,
        back="/workspace/enterprise#feedback-workbook",
    )
