"""HTML pages of challenges: the public list, a challenge, posting and editing (enterprise),
applying (institution staff, technology managers), comparing applications side by side,
milestones and messages, and the verification form with evidence files.

Handlers parse the form, call one service, commit, and redirect; a refused step re-renders the
form with the message next to its field (or the error page for a button).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile

from shuanglian.accounts import permissions as perm
from shuanglian.attachments import MAX_ATTACHMENT_BYTES, list_attachments
from shuanglian.challenges import service
from shuanglian.challenges.api import file_response
from shuanglian.challenges.models import COMPARISONS, VISIBILITIES, Application, Challenge
from shuanglian.challenges.report import verification_report_pdf
from shuanglian.challenges.schemas import (
    ApplicationIn,
    ChallengeIn,
    IndicatorIn,
    MeasurementIn,
    MemberIn,
    MilestoneIn,
)
from shuanglian.challenges.states import (
    APPLICATION_MACHINE,
    APPLICATION_STATES,
    CHALLENGE_MACHINE,
    MILESTONE_MACHINE,
    MILESTONE_STATES,
    PUBLIC_STATES,
    STATES,
)
from shuanglian.errors import DomainError
from shuanglian.importing import readable_error
from shuanglian.pilots.service import suggest_for_challenge
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, PageDep, SessionDep
from shuanglian.web.forms import FormDep, form_text
from shuanglian.web.i18n import pick_lang
from shuanglian.web.templating import render
from shuanglian.workflow import available_actions

router = APIRouter(include_in_schema=False)
M = TypeVar("M", bound=BaseModel)
# While the teams work and verify, the parties may need a pilot platform for scale-up.
PILOT_STAGES = ("in_progress", "verifying", "failed")


def _render(
    request: Request, name: str, ctx: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """`render` with the three state tables' labels, which every challenge page shows."""
    ctx = {
        "state_labels": STATES,
        "app_states": APPLICATION_STATES,
        "ms_states": MILESTONE_STATES,
        **ctx,
    }
    return render(request, name, ctx, status_code=status_code)


def build(model: type[M], field_prefix: str = "", **data: Any) -> M:
    """A schema from form values; a value of the wrong shape becomes a field error."""
    try:
        return model(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        field = f"{field_prefix}{loc}" if loc else field_prefix.rstrip(".") or None
        raise DomainError(readable_error(first), field=field) from exc


def _rows(form: FormData, *names: str) -> list[dict[str, str]]:
    """Repeated form fields (one per row) as dicts; rows whose typed fields are all blank are
    dropped (a select such as the comparison always has a value, so it does not count)."""
    columns = {n: [v if isinstance(v, str) else "" for v in form.getlist(n)] for n in names}
    count = max((len(v) for v in columns.values()), default=0)
    rows = []
    for i in range(count):
        row = {n: (columns[n][i] if i < len(columns[n]) else "").strip() for n in names}
        if any(v for n, v in row.items() if n != "ind_cmp"):
            rows.append(row)
    return rows


def _date(raw: str, field: str) -> date | str:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        if not raw.strip():
            raise DomainError(f"请填写日期 ({field} is required)", field=field) from None
        raise DomainError(f"日期格式应为 YYYY-MM-DD ({field})", field=field) from None


def challenge_input_from_form(form: FormData) -> ChallengeIn:
    indicators = []
    for i, row in enumerate(
        _rows(form, "ind_name", "ind_unit", "ind_cmp", "ind_target", "ind_max", "ind_method")
    ):
        if not row["ind_target"]:
            raise DomainError(
                f"指标“{row['ind_name']}”缺少目标值 (target required)",
                field=f"indicators.{i}.target",
            )
        indicators.append(
            build(
                IndicatorIn,
                f"indicators.{i}.",
                name=row["ind_name"],
                unit=row["ind_unit"],
                comparison=row["ind_cmp"] or ">=",
                target=row["ind_target"],
                target_max=row["ind_max"] or None,
                method=row["ind_method"],
            )
        )
    if not form_text(form, "budget").strip():
        raise DomainError("请填写榜额 (budget is required)", field="budget")
    return build(
        ChallengeIn,
        title=form_text(form, "title"),
        summary=form_text(form, "summary"),
        problem=form_text(form, "problem"),
        industry=form_text(form, "industry") or None,
        region=form_text(form, "region") or None,
        budget=form_text(form, "budget"),
        payment_terms=form_text(form, "payment_terms"),
        application_deadline=_date(form_text(form, "application_deadline"), "application_deadline"),
        delivery_deadline=_date(form_text(form, "delivery_deadline"), "delivery_deadline"),
        ip_owner=form_text(form, "ip_owner") or "enterprise",
        licence_back=form_text(form, "licence_back") == "on",
        ip_terms=form_text(form, "ip_terms"),
        visibility=form_text(form, "visibility") or "public",
        nda_text=form_text(form, "nda_text") or None,
        anonymous=form_text(form, "anonymous") == "on",
        indicators=indicators,
    )


def _form_echo(form: FormData) -> dict[str, Any]:
    echo: dict[str, Any] = {k: form_text(form, k) for k in form if not k.startswith("ind_")}
    echo["indicators"] = _rows(
        form, "ind_name", "ind_unit", "ind_cmp", "ind_target", "ind_max", "ind_method"
    )
    return echo


def _challenge_echo(ch: Challenge) -> dict[str, Any]:
    from shuanglian.web.templating import format_number

    return {
        "title": ch.title,
        "summary": ch.summary,
        "problem": ch.problem,
        "industry": ch.industry_code or "",
        "region": ch.region or "",
        "budget": format_number(ch.budget).replace(",", ""),
        "payment_terms": ch.payment_terms,
        "application_deadline": ch.application_deadline.isoformat(),
        "delivery_deadline": ch.delivery_deadline.isoformat(),
        "ip_owner": ch.ip_owner,
        "licence_back": "on" if ch.licence_back else "",
        "ip_terms": ch.ip_terms,
        "visibility": ch.visibility,
        "nda_text": ch.nda_text or "",
        "anonymous": "on" if ch.anonymous else "",
        "indicators": [
            {
                "ind_name": i.name,
                "ind_unit": i.unit,
                "ind_cmp": i.comparison,
                "ind_target": service._num(i.target),
                "ind_max": service._num(i.target_max),
                "ind_method": i.method,
            }
            for i in ch.indicators
        ],
    }


def _industries() -> list[Any]:
    from shuanglian.reference.gbt4754 import industries_at_level

    return list(industries_at_level("大类"))


def _editor(
    request: Request,
    *,
    form: dict[str, Any],
    challenge: Challenge | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return _render(
        request,
        "challenges/edit.html",
        {
            "form": form,
            "challenge": challenge,
            "errors": errors or {},
            "comparisons": COMPARISONS,
            "visibilities": VISIBILITIES,
            "industries": _industries(),
            "today": service.today_utc().isoformat(),
        },
        status_code=status_code,
    )


# --------------------------------------------------------------------------- lists
@router.get("/challenges", response_class=HTMLResponse)
def challenges_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=30)] = None,
    industry: Annotated[str | None, Query(max_length=100)] = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    status = status if status in PUBLIC_STATES else None
    result = service.search_challenges(
        session,
        q=q,
        status=status,
        industry=industry or None,
        region=region,
        offset=page.offset,
        limit=page.per_page,
    )
    return _render(
        request,
        "challenges/list.html",
        {
            "items": result.items,
            "params": {
                "q": q or "",
                "status": status or "",
                "industry": industry or "",
                "region": region or "",
            },
            "states": [
                (s, CHALLENGE_MACHINE.state_label(s, "zh"), CHALLENGE_MACHINE.state_label(s, "en"))
                for s in PUBLIC_STATES
            ],
            "label": lambda c: service.enterprise_label(session, user, c, lang=pick_lang(request)),
            "industries": _industries(),
            **page.context(result.total),
        },
    )


@router.get("/challenges/mine", response_class=HTMLResponse)
def my_challenges_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    from shuanglian.enterprises.models import Demand

    items = service.list_enterprise_challenges(session, actor=user)
    demands: list[Demand] = []
    if user is not None and user.enterprise_id is not None:
        demands = list(
            session.scalars(
                select(Demand)
                .where(Demand.enterprise_id == user.enterprise_id)
                .order_by(Demand.id.desc())
                .limit(50)
            )
        )
    return _render(request, "challenges/mine.html", {"items": items, "demands": demands})


@router.get("/challenges/my-applications", response_class=HTMLResponse)
def my_applications_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    items = service.list_my_applications(session, actor=user)
    return _render(request, "challenges/my_applications.html", {"items": items})


# --------------------------------------------------------------------------- post / edit
@router.get("/challenges/new", response_class=HTMLResponse)
def new_challenge_page(request: Request, user: CurrentUser) -> HTMLResponse:
    perm.require_role(user, perm.ENTERPRISE_USER)
    return _editor(request, form={"indicators": []})


@router.post("/challenges/new", response_class=HTMLResponse, dependencies=[CsrfDep])
def new_challenge_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    perm.require_role(user, perm.ENTERPRISE_USER)
    try:
        ch = service.create_challenge(session, actor=user, data=challenge_input_from_form(form))
        if form.get("do") == "publish":
            service.act_on_challenge(session, actor=user, challenge_id=ch.id, action="publish")
    except DomainError as exc:
        session.rollback()
        return _editor(
            request,
            form=_form_echo(form),
            errors={exc.field or "title": exc.message},
            status_code=422,
        )
    return RedirectResponse(f"/challenges/{ch.id}", status_code=303)


@router.post("/challenges/from-demand", dependencies=[CsrfDep])
def from_demand_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    raw = form_text(form, "demand_id")
    if not raw.isdigit():
        raise DomainError("请选择技术需求 (choose a demand)", field="demand_id")
    ch = service.challenge_from_demand(session, actor=user, demand_id=int(raw))
    return RedirectResponse(f"/challenges/{ch.id}/edit", status_code=303)


@router.get("/challenges/{challenge_id:int}/edit", response_class=HTMLResponse)
def edit_challenge_page(
    request: Request, session: SessionDep, user: CurrentUser, challenge_id: IdPath
) -> HTMLResponse:
    ch = service.get_challenge(session, challenge_id=challenge_id, actor=user)
    perm.require_enterprise(user, ch.enterprise_id)
    return _editor(request, form=_challenge_echo(ch), challenge=ch)


@router.post(
    "/challenges/{challenge_id:int}/edit", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def edit_challenge_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, challenge_id: IdPath
) -> Response:
    ch = service.get_challenge(session, challenge_id=challenge_id, actor=user)
    perm.require_enterprise(user, ch.enterprise_id)
    try:
        service.update_challenge(
            session, actor=user, challenge_id=ch.id, data=challenge_input_from_form(form)
        )
        if form.get("do") == "publish":
            service.act_on_challenge(session, actor=user, challenge_id=ch.id, action="publish")
    except DomainError as exc:
        session.rollback()
        return _editor(
            request,
            form=_form_echo(form),
            challenge=ch,
            errors={exc.field or "title": exc.message},
            status_code=422,
        )
    return RedirectResponse(f"/challenges/{ch.id}", status_code=303)


# --------------------------------------------------------------------------- one challenge
@router.get("/challenges/{challenge_id:int}", response_class=HTMLResponse)
def challenge_page(
    request: Request, session: SessionDep, user: CurrentUser, challenge_id: IdPath
) -> HTMLResponse:
    ch = service.get_challenge(session, challenge_id=challenge_id, actor=user)
    owner = service.is_owner(user, ch)
    hidden = service.details_hidden_reason(session, user, ch)
    mine = service.list_applications(session, actor=user, challenge_id=ch.id) if user else []
    party = service.is_party(session, user, ch)
    runs = service.list_verifications(session, actor=user, challenge_id=ch.id) if party else []
    return _render(
        request,
        "challenges/detail.html",
        {
            "ch": ch,
            "owner": owner,
            "hidden": hidden,
            "enterprise": service.enterprise_label(session, user, ch, lang=pick_lang(request)),
            "state": CHALLENGE_MACHINE.state_label(ch.status, "zh"),
            "state_en": CHALLENGE_MACHINE.state_label(ch.status, "en"),
            "actions": service.challenge_actions(session, actor=user, ch=ch),
            "apps": mine,
            "app_label": APPLICATION_MACHINE.state_label,
            "can_apply": (
                user is not None
                and user.role in service.SOLVER_ROLES
                and ch.status == "published"
                and not hidden
            ),
            "suggestions": service.list_suggestions(session, actor=user, challenge_id=ch.id)
            if owner
            else [],
            "runs": runs,
            "requirement": service.requirement_text,
            "files": list_attachments(session, scope="challenge", ref_ids=[ch.id])
            if not hidden
            else [],
            "num": service._num,
            "deal_teams": [a for a in mine if a.status == "accepted"]
            if party and ch.status == "verified"
            else [],
            "platforms": suggest_for_challenge(session, actor=user, challenge_id=ch.id, limit=5)
            if party and ch.status in PILOT_STAGES
            else None,
        },
    )


@router.post("/challenges/{challenge_id:int}/action", dependencies=[CsrfDep])
def challenge_action_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, challenge_id: IdPath
) -> Response:
    service.act_on_challenge(
        session,
        actor=user,
        challenge_id=challenge_id,
        action=form_text(form, "action"),
        reason=form_text(form, "reason") or None,
    )
    return RedirectResponse(f"/challenges/{challenge_id}", status_code=303)


@router.post("/challenges/{challenge_id:int}/nda", dependencies=[CsrfDep])
def nda_submit(session: SessionDep, user: CurrentUser, challenge_id: IdPath) -> Response:
    service.accept_nda(session, actor=user, challenge_id=challenge_id)
    return RedirectResponse(f"/challenges/{challenge_id}", status_code=303)


@router.post("/challenges/{challenge_id:int}/files/upload", dependencies=[CsrfDep])
def challenge_file_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, challenge_id: IdPath
) -> Response:
    _store_uploads(session, user, form, "file", scope="challenge", ref_id=challenge_id)
    return RedirectResponse(f"/challenges/{challenge_id}", status_code=303)


def _store_uploads(
    session: Any, user: Any, form: FormData, name: str, *, scope: str, ref_id: int
) -> int:
    count = 0
    for item in form.getlist(name):
        if isinstance(item, UploadFile) and item.filename:
            data = item.file.read(MAX_ATTACHMENT_BYTES + 1)
            service.attach_file(
                session, actor=user, scope=scope, ref_id=ref_id, filename=item.filename, data=data
            )
            count += 1
    return count


@router.get("/challenges/files/{attachment_id:int}")
def file_download(session: SessionDep, user: CurrentUser, attachment_id: IdPath) -> Response:
    return file_response(
        service.readable_attachment(session, actor=user, attachment_id=attachment_id)
    )


@router.get("/challenges/{challenge_id:int}/report.pdf")
def report_pdf(session: SessionDep, user: CurrentUser, challenge_id: IdPath) -> Response:
    pdf = verification_report_pdf(session, actor=user, challenge_id=challenge_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="verification-{challenge_id}.pdf"'},
    )


# --------------------------------------------------------------------------- apply
def _apply_form(
    request: Request,
    session: Any,
    user: Any,
    ch: Challenge,
    *,
    form: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from shuanglian.inventory.models import PoolEntry
    from shuanglian.patents.models import Patent

    stmt = (
        select(Patent)
        .join(PoolEntry, PoolEntry.patent_id == Patent.id)
        .where(PoolEntry.active.is_(True))
        .order_by(Patent.id.desc())
        .limit(200)
    )
    if user.role == perm.INSTITUTION_STAFF and user.institution_id is not None:
        stmt = stmt.where(Patent.institution_id == user.institution_id)
    return _render(
        request,
        "challenges/apply.html",
        {
            "ch": ch,
            "form": form,
            "errors": errors or {},
            "patents": list(session.scalars(stmt)),
            "today": service.today_utc().isoformat(),
        },
        status_code=status_code,
    )


def application_input_from_form(form: FormData) -> ApplicationIn:
    members = [
        build(MemberIn, f"members.{i}.", name=r["member_name"], role=r["member_role"])
        for i, r in enumerate(_rows(form, "member_name", "member_role"))
    ]
    milestones = []
    for i, r in enumerate(_rows(form, "ms_title", "ms_deliverable", "ms_due", "ms_amount")):
        milestones.append(
            build(
                MilestoneIn,
                f"milestones.{i}.",
                title=r["ms_title"],
                deliverable=r["ms_deliverable"],
                due_on=_date(r["ms_due"], f"milestones.{i}.due_on"),
                amount=r["ms_amount"] or "0",
            )
        )
    for name in ("price", "duration_days"):
        if not form_text(form, name).strip():
            raise DomainError(
                f"请填写{'报价' if name == 'price' else '工期'} ({name} is required)", field=name
            )
    return build(
        ApplicationIn,
        team_name=form_text(form, "team_name"),
        members=members,
        patent_ids=[
            int(v) for v in form.getlist("patent_ids") if isinstance(v, str) and v.isdigit()
        ],
        approach=form_text(form, "approach"),
        price=form_text(form, "price"),
        duration_days=form_text(form, "duration_days"),
        milestones=milestones,
    )


@router.get("/challenges/{challenge_id:int}/apply", response_class=HTMLResponse)
def apply_page(
    request: Request, session: SessionDep, user: CurrentUser, challenge_id: IdPath
) -> HTMLResponse:
    user = perm.require_role(user, *service.SOLVER_ROLES)
    ch = service.get_challenge(session, challenge_id=challenge_id, actor=user)
    return _apply_form(request, session, user, ch, form={})


@router.post(
    "/challenges/{challenge_id:int}/apply", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def apply_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, challenge_id: IdPath
) -> Response:
    user = perm.require_role(user, *service.SOLVER_ROLES)
    ch = service.get_challenge(session, challenge_id=challenge_id, actor=user)
    try:
        app = service.apply_to_challenge(
            session, actor=user, challenge_id=ch.id, data=application_input_from_form(form)
        )
    except DomainError as exc:
        session.rollback()
        echo: dict[str, Any] = {k: form_text(form, k) for k in form}
        echo["members"] = _rows(form, "member_name", "member_role")
        echo["milestones"] = _rows(form, "ms_title", "ms_deliverable", "ms_due", "ms_amount")
        echo["patent_ids"] = [v for v in form.getlist("patent_ids") if isinstance(v, str)]
        return _apply_form(
            request,
            session,
            user,
            ch,
            form=echo,
            errors={exc.field or "team_name": exc.message},
            status_code=422 if exc.status == 400 else exc.status,
        )
    return RedirectResponse(f"/challenges/{ch.id}/applications/{app.id}", status_code=303)


# --------------------------------------------------------------------------- compare and solve
@router.get("/challenges/{challenge_id:int}/applications", response_class=HTMLResponse)
def applications_page(
    request: Request, session: SessionDep, user: CurrentUser, challenge_id: IdPath
) -> HTMLResponse:
    ch = service.get_challenge(session, challenge_id=challenge_id, actor=user)
    perm.require_enterprise(user, ch.enterprise_id)
    apps = service.list_applications(session, actor=user, challenge_id=ch.id)
    return _render(
        request,
        "challenges/applications.html",
        {
            "ch": ch,
            "apps": apps,
            "app_label": APPLICATION_MACHINE.state_label,
            "app_actions": {
                a.id: available_actions(session, machine=APPLICATION_MACHINE, obj=a, actor=user)
                for a in apps
            },
            "num": service._num,
        },
    )


@router.get(
    "/challenges/{challenge_id:int}/applications/{application_id:int}", response_class=HTMLResponse
)
def application_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    challenge_id: IdPath,
    application_id: IdPath,
) -> HTMLResponse:
    app = service.get_application(session, application_id=application_id, actor=user)
    if app.challenge_id != challenge_id:
        return RedirectResponse(
            f"/challenges/{app.challenge_id}/applications/{app.id}", status_code=308
        )  # type: ignore[return-value]
    from shuanglian.patents.models import Patent

    patents = list(session.scalars(select(Patent).where(Patent.id.in_(app.patent_ids or [0]))))
    files = list_attachments(session, scope="milestone", ref_ids=[m.id for m in app.milestones])
    return _render(
        request,
        "challenges/application.html",
        {
            "app": app,
            "ch": app.challenge,
            "owner": service.is_owner(user, app.challenge),
            "team": service.is_team_party(session, user, app),
            "enterprise": service.enterprise_label(
                session, user, app.challenge, lang=pick_lang(request)
            ),
            "patents": patents,
            "messages": service.list_messages(session, actor=user, application_id=app.id),
            "app_label": APPLICATION_MACHINE.state_label,
            "ms_label": MILESTONE_MACHINE.state_label,
            "app_actions": available_actions(
                session, machine=APPLICATION_MACHINE, obj=app, actor=user
            ),
            "ms_actions": {
                m.id: available_actions(session, machine=MILESTONE_MACHINE, obj=m, actor=user)
                for m in app.milestones
            },
            "files": {m.id: [f for f in files if f.ref_id == m.id] for m in app.milestones},
            "num": service._num,
            "today": service.today_utc().isoformat(),
        },
    )


def _app_url(session: Any, application_id: int) -> str:
    app = session.get(Application, application_id)
    return f"/challenges/{app.challenge_id}/applications/{app.id}" if app else "/challenges"


@router.post("/challenges/applications/{application_id:int}/action", dependencies=[CsrfDep])
def application_action_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, application_id: IdPath
) -> Response:
    app = service.decide_application(
        session,
        actor=user,
        application_id=application_id,
        action=form_text(form, "action"),
        reason=form_text(form, "reason") or None,
    )
    back = form_text(form, "back")
    if back == "list":
        return RedirectResponse(f"/challenges/{app.challenge_id}/applications", status_code=303)
    return RedirectResponse(_app_url(session, app.id), status_code=303)


@router.post("/challenges/applications/{application_id:int}/messages", dependencies=[CsrfDep])
def message_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, application_id: IdPath
) -> Response:
    service.post_message(
        session, actor=user, application_id=application_id, body=form_text(form, "body")
    )
    return RedirectResponse(_app_url(session, application_id) + "#messages", status_code=303)


@router.post("/challenges/milestones/{milestone_id:int}/upload", dependencies=[CsrfDep])
def milestone_action_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, milestone_id: IdPath
) -> Response:
    """One form per milestone: a step (submit with files, accept, return) or a payment."""
    action = form_text(form, "action")
    if action == "pay":
        service.record_payment(
            session,
            actor=user,
            milestone_id=milestone_id,
            amount=form_text(form, "amount") or "0",  # type: ignore[arg-type]
            paid_on=_date(form_text(form, "paid_on"), "paid_on"),  # type: ignore[arg-type]
            note=form_text(form, "note") or None,
        )
    else:
        ms = service.act_on_milestone(
            session,
            actor=user,
            milestone_id=milestone_id,
            action=action,
            note=form_text(form, "note") or None,
            reason=form_text(form, "reason") or None,
        )
        if action == "submit":
            _store_uploads(session, user, form, "files", scope="milestone", ref_id=ms.id)
    from shuanglian.challenges.models import Milestone

    ms_row = session.get(Milestone, milestone_id)
    return RedirectResponse(
        _app_url(session, ms_row.application_id if ms_row else 0), status_code=303
    )


# --------------------------------------------------------------------------- verify
def _verify_form(
    request: Request,
    session: Any,
    user: Any,
    ch: Challenge,
    *,
    form: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    accepted = [
        a
        for a in service.list_applications(session, actor=user, challenge_id=ch.id)
        if a.status == "accepted"
    ]
    return _render(
        request,
        "challenges/verify.html",
        {
            "ch": ch,
            "form": form,
            "errors": errors or {},
            "accepted": accepted,
            "requirement": service.requirement_text,
            "today": service.today_utc().isoformat(),
        },
        status_code=status_code,
    )


@router.get("/challenges/{challenge_id:int}/verify", response_class=HTMLResponse)
def verify_page(
    request: Request, session: SessionDep, user: CurrentUser, challenge_id: IdPath
) -> HTMLResponse:
    ch = service.get_challenge(session, challenge_id=challenge_id, actor=user)
    perm.require_enterprise(user, ch.enterprise_id)
    return _verify_form(request, session, user, ch, form={})


@router.post(
    "/challenges/{challenge_id:int}/verify/upload",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def verify_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, challenge_id: IdPath
) -> Response:
    ch = service.get_challenge(session, challenge_id=challenge_id, actor=user)
    perm.require_enterprise(user, ch.enterprise_id)
    try:
        measurements = []
        for i, ind in enumerate(ch.indicators):
            raw = form_text(form, f"value_{ind.id}").strip()
            if not raw:
                raise DomainError(
                    f"请填写指标“{ind.name}”的测量值 (value required)",
                    field=f"measurements.{i}.value",
                )
            measurements.append(
                build(
                    MeasurementIn,
                    f"measurements.{i}.",
                    indicator_id=ind.id,
                    value=raw,
                    measured_on=_date(
                        form_text(form, f"date_{ind.id}"), f"measurements.{i}.measured_on"
                    ),
                    place=form_text(form, f"place_{ind.id}"),
                    verifier=form_text(form, f"verifier_{ind.id}"),
                )
            )
        app_raw = form_text(form, "application_id")
        ver = service.record_verification(
            session,
            actor=user,
            challenge_id=ch.id,
            measurements=measurements,
            note=form_text(form, "note") or None,
            application_id=int(app_raw) if app_raw.isdigit() else None,
        )
        for m in ver.measurements:
            _store_uploads(
                session, user, form, f"evidence_{m.indicator_id}", scope="measurement", ref_id=m.id
            )
    except DomainError as exc:
        session.rollback()
        session.refresh(ch)
        return _verify_form(
            request,
            session,
            user,
            ch,
            form={k: form_text(form, k) for k in form},
            errors={exc.field or "note": exc.message},
            status_code=422,
        )
    return RedirectResponse(f"/challenges/{ch.id}#verification", status_code=303)
