"""HTML pages for enterprises and demands: the public register and the enterprise workspace.

The workspace edits a few profile and demand fields directly: the enterprises service has
no update functions yet (the lead may move these two small writes there).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from shuanglian.accounts import permissions as perm
from shuanglian.enterprises import service
from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, PageDep, SessionDep
from shuanglian.web.forms import form_text
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
    industry_code: Annotated[str | None, Query(max_length=5)] = None,
) -> HTMLResponse:
    result = service.list_enterprises(
        session,
        q=q,
        province=province or None,
        industry_code=industry_code or None,
        offset=page.offset,
        limit=page.per_page,
    )
    return render(
        request,
        "enterprises/list.html",
        {
            "items": result.items,
            "total": result.total,
            "page": page.page,
            "pages": page.pages(result.total),
            "q": q,
            "province": province,
            "industry_code": industry_code,
        },
    )


@router.get("/enterprises/{enterprise_id}", response_class=HTMLResponse)
def enterprise_page(
    request: Request, session: SessionDep, user: CurrentUser, enterprise_id: IdPath
) -> HTMLResponse:
    enterprise = service.get_enterprise(session, enterprise_id=enterprise_id)
    demands = service.list_demands(session, enterprise_id=enterprise.id, limit=50).items
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
    result = service.list_demands(session, q=q, offset=page.offset, limit=page.per_page)
    return render(
        request,
        "enterprises/demands.html",
        {
            "items": result.items,
            "total": result.total,
            "page": page.page,
            "pages": page.pages(result.total),
            "q": q,
        },
    )


@router.get("/demands/{demand_id}", response_class=HTMLResponse)
def demand_page(
    request: Request, session: SessionDep, user: CurrentUser, demand_id: IdPath
) -> HTMLResponse:
    demand = service.get_demand(session, demand_id=demand_id)
    return render(request, "enterprises/demand.html", {"demand": demand})


# --------------------------------------------------------------------------- workspace


def _workspace_enterprise(user: Any) -> int:
    """The enterprise an enterprise user works for (admins have none to act as)."""
    user = perm.require_role(user, perm.ENTERPRISE_USER)
    if user.enterprise_id is None:
        raise PermissionDenied("账号未关联企业 (this account has no enterprise)")
    return int(user.enterprise_id)


SIGNAL_NAMES_ZH = {"bm25": "文本", "ipc": "分类号", "prior": "产业关联", "dense": "语义"}


def _engine_lines(explanation: dict[str, Any]) -> list[str]:
    """The matching engine's structured explanation (matching.schemas.ExplanationOut)."""
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


def explanation_lines(explanation: dict[str, Any] | None) -> list[str]:
    """A match explanation as short lines a person can read (keys vary by matcher)."""
    if not explanation:
        return []
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
    form: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from shuanglian.inventory.models import INTENTS, Feedback
    from shuanglian.inventory.push import push_list_for_enterprise

    enterprise_id = _workspace_enterprise(user)
    enterprise = service.get_enterprise(session, enterprise_id=enterprise_id)
    pushes = push_list_for_enterprise(session, actor=user, enterprise_id=enterprise_id)[:100]
    feedback = {
        fb.push_id: fb
        for fb in session.scalars(select(Feedback).where(Feedback.enterprise_id == enterprise_id))
    }
    demands = service.list_demands(session, enterprise_id=enterprise_id, limit=100).items
    return render(
        request,
        "workspace/enterprise.html",
        {
            "enterprise": enterprise,
            "pushes": pushes,
            "feedback": feedback,
            "intents": INTENTS,
            "demands": demands,
            "explain": explanation_lines,
            "errors": errors or {},
            "form": form or {},
            "flashes": [message] if message else [],
        },
        status_code=status_code,
    )


@router.get("/workspace/enterprise", response_class=HTMLResponse)
def enterprise_workspace(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    return _workspace(request, session, user)


_form_str = form_text


@router.post("/workspace/enterprise/profile", response_class=HTMLResponse, dependencies=[CsrfDep])
async def enterprise_profile_submit(
    request: Request, session: SessionDep, user: CurrentUser
) -> Response:
    enterprise_id = _workspace_enterprise(user)
    form = await request.form()
    scope = _form_str(form, "business_scope").strip()
    industry = _form_str(form, "industry_code").strip().upper()
    errors = {}
    if len(scope) > 5000:
        errors["business_scope"] = "经营范围不超过 5000 字 (at most 5000 characters)"
    if industry and not re.fullmatch(r"[A-T]?\d{2,4}|[A-T]", industry):
        errors["industry_code"] = "行业代码须符合 GB/T 4754-2017，如 C34 或 3411 (e.g. C34)"
    if errors:
        return _workspace(
            request,
            session,
            user,
            errors=errors,
            form=dict(business_scope=scope, industry_code=industry),
            status_code=422,
        )
    enterprise = service.get_enterprise(session, enterprise_id=enterprise_id)
    enterprise.business_scope = scope or None
    enterprise.industry_code = industry or None
    enterprise.search_text = service.enterprise_search_text(enterprise.name, scope)
    session.commit()
    return RedirectResponse("/workspace/enterprise#profile", status_code=303)


@router.post(
    "/workspace/enterprise/feedback/{push_id}",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
async def enterprise_feedback_submit(
    request: Request, session: SessionDep, user: CurrentUser, push_id: IdPath
) -> Response:
    from pydantic import ValidationError

    from shuanglian.inventory.feedback import submit_feedback
    from shuanglian.inventory.schemas import FeedbackIn

    enterprise_id = _workspace_enterprise(user)
    form = await request.form()
    key = f"feedback-{push_id}"
    try:
        prospect = int(_form_str(form, "prospect") or 0)
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
    except (ValueError, ValidationError, DomainError) as exc:
        session.rollback()
        message = exc.message if isinstance(exc, DomainError) else _first_error(exc)
        return _workspace(request, session, user, errors={key: message}, status_code=422)
    session.commit()
    return _workspace(request, session, user, message="已提交评价，谢谢 (feedback saved)")


def _first_error(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError) and exc.errors():
        return str(exc.errors()[0].get("msg", "输入无效 (invalid input)"))
    return "产业化前景须为 1–5 (prospect must be 1–5)"


def _demand_fields(form: Any) -> dict[str, Any]:
    budget_raw = _form_str(form, "budget").strip()
    deadline_raw = _form_str(form, "deadline").strip()
    try:
        budget = Decimal(budget_raw) if budget_raw else None
    except InvalidOperation as exc:
        raise DomainError(
            "预算须为数字，单位万元 (budget: number, 10k CNY)", field="budget"
        ) from exc
    if budget is not None and (not budget.is_finite() or budget > Decimal("1e9")):
        raise DomainError("预算超出范围 (budget out of range)", field="budget")
    try:
        deadline = date.fromisoformat(deadline_raw) if deadline_raw else None
    except ValueError as exc:
        raise DomainError(
            "截止日期格式为 YYYY-MM-DD (date as YYYY-MM-DD)", field="deadline"
        ) from exc
    title = _form_str(form, "title").strip()
    if len(title) > 500:
        raise DomainError("标题不超过 500 字 (title at most 500 characters)", field="title")
    return {
        "title": title,
        "description": _form_str(form, "description").strip()[:5000] or None,
        "industry_code": _form_str(form, "industry_code").strip().upper()[:5] or None,
        "budget": budget,
        "deadline": deadline,
        "region": _form_str(form, "region").strip()[:100] or None,
    }


@router.post("/workspace/enterprise/demands", response_class=HTMLResponse, dependencies=[CsrfDep])
async def enterprise_demand_create(
    request: Request, session: SessionDep, user: CurrentUser
) -> Response:
    enterprise_id = _workspace_enterprise(user)
    form = await request.form()
    try:
        service.create_demand(session, enterprise_id=enterprise_id, **_demand_fields(form))
    except DomainError as exc:
        session.rollback()
        echo = {k: v for k, v in form.items() if isinstance(v, str)}
        return _workspace(
            request,
            session,
            user,
            errors={f"demand-{exc.field or 'title'}": exc.message},
            form=echo,
            status_code=422,
        )
    session.commit()
    return RedirectResponse("/workspace/enterprise#demands", status_code=303)


@router.get("/workspace/enterprise/demands/{demand_id}", response_class=HTMLResponse)
def enterprise_demand_edit_page(
    request: Request, session: SessionDep, user: CurrentUser, demand_id: IdPath
) -> HTMLResponse:
    demand = _own_demand(session, user, demand_id)
    return render(
        request,
        "workspace/demand_edit.html",
        {"demand": demand, "errors": {}, "matches": _demand_matches(session, request, demand.id)},
    )


def _own_demand(session: Any, user: Any, demand_id: int) -> Any:
    enterprise_id = _workspace_enterprise(user)
    demand = service.get_demand(session, demand_id=demand_id)
    if demand.enterprise_id != enterprise_id:
        # Another enterprise's demand: same answer as a missing one.
        raise NotFound(f"需求不存在：{demand_id}（demand not found）")
    return demand


def _demand_matches(session: Any, request: Request, demand_id: int) -> dict[str, Any]:
    """Patents matched to the demand, or the reason there are none yet (index not built)."""
    from shuanglian.matching.service import IndexNotReady, match_demand

    try:
        matches = match_demand(
            session, settings=request.app.state.settings, demand_id=demand_id, top=10
        )
    except IndexNotReady as exc:
        return {"items": [], "note": exc.message}
    return {"items": matches, "note": None}


@router.post(
    "/workspace/enterprise/demands/{demand_id}",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
async def enterprise_demand_edit_submit(
    request: Request, session: SessionDep, user: CurrentUser, demand_id: IdPath
) -> Response:
    demand = _own_demand(session, user, demand_id)
    form = await request.form()
    try:
        fields = _demand_fields(form)
        if not fields["title"]:
            raise DomainError("需求标题不能为空（title is required）", field="title")
        status = _form_str(form, "status")
        if status not in service.DEMAND_STATUSES:
            raise DomainError("状态须为 open 或 closed (status)", field="status")
    except DomainError as exc:
        return render(
            request,
            "workspace/demand_edit.html",
            {"demand": demand, "errors": {exc.field or "title": exc.message}, "matches": None},
            status_code=422,
        )
    for key, value in fields.items():
        setattr(demand, key, value)
    demand.status = status
    demand.search_text = service.demand_search_text(demand.title, demand.description)
    session.commit()
    return RedirectResponse("/workspace/enterprise#demands", status_code=303)
