"""JSON routes of challenges under /api/v1/challenges, on the same services as the pages.

What a caller sees follows the same privacy rules as the pages: hidden details come back as
null with `details_hidden` saying why; applications, milestones, messages and evidence answer
404 to anyone who is not a party.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response
from pydantic import Field

from shuanglian.accounts.models import User
from shuanglian.attachments import MAX_ATTACHMENT_BYTES
from shuanglian.challenges import service
from shuanglian.challenges.models import Application, Challenge, Verification
from shuanglian.challenges.report import verification_report_pdf
from shuanglian.challenges.schemas import (
    ActionIn,
    ApplicationIn,
    ApplicationOut,
    ChallengeIn,
    ChallengeOut,
    IndicatorOut,
    MeasurementOut,
    MessageOut,
    MilestoneOut,
    PaymentIn,
    SuggestionOut,
    TextIn,
    VerificationIn,
    VerificationOut,
)
from shuanglian.challenges.states import CHALLENGE_MACHINE
from shuanglian.errors import DomainError
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, PageDep, SessionDep
from shuanglian.web.schemas import (
    ERROR_RESPONSES,
    FILE_RESPONSES,
    PDF_RESPONSES,
    ListResponse,
    SafeStr,
)

router = APIRouter(prefix="/challenges", tags=["challenges"], responses=ERROR_RESPONSES)


def challenge_out(session: object, user: User | None, ch: Challenge) -> ChallengeOut:
    """The challenge as this user may see it."""
    hidden = service.details_hidden_reason(session, user, ch)  # type: ignore[arg-type]
    owner = service.is_owner(user, ch)
    return ChallengeOut(
        id=ch.id,
        title=ch.title,
        summary=ch.summary,
        status=ch.status,
        status_label=CHALLENGE_MACHINE.state_label(ch.status),
        enterprise=service.enterprise_label(session, user, ch),  # type: ignore[arg-type]
        industry_code=ch.industry_code,
        region=ch.region,
        budget=ch.budget,
        payment_terms=None if hidden else ch.payment_terms,
        application_deadline=ch.application_deadline,
        delivery_deadline=ch.delivery_deadline,
        ip_owner=ch.ip_owner,
        licence_back=ch.licence_back,
        ip_terms=None if hidden else ch.ip_terms,
        visibility=ch.visibility,
        anonymous=ch.anonymous if owner else False,
        published_at=ch.published_at,
        problem=None if hidden else ch.problem,
        indicators=None
        if hidden
        else [
            IndicatorOut(
                id=i.id,
                name=i.name,
                unit=i.unit,
                comparison=i.comparison,
                target=i.target,
                target_max=i.target_max,
                method=i.method,
                requirement=service.requirement_text(i),
            )
            for i in ch.indicators
        ],
        details_hidden=hidden,
        actions=[t.action for t in service.challenge_actions(session, actor=user, ch=ch)],  # type: ignore[arg-type]
    )


def application_out(app: Application) -> ApplicationOut:
    return ApplicationOut(
        id=app.id,
        challenge_id=app.challenge_id,
        team_name=app.team_name,
        team_members=list(app.team_members or []),
        patent_ids=list(app.patent_ids or []),
        approach=app.approach,
        price=app.price,
        duration_days=app.duration_days,
        status=app.status,
        reject_reason=app.reject_reason,
        institution_id=app.institution_id,
        milestones=[MilestoneOut.model_validate(m, from_attributes=True) for m in app.milestones],
    )


def verification_out(ver: Verification) -> VerificationOut:
    return VerificationOut(
        id=ver.id,
        run=ver.run,
        verdict=ver.verdict,
        note=ver.note,
        recorded_at=ver.recorded_at,
        measurements=[
            MeasurementOut(
                indicator_id=m.indicator_id,
                indicator=m.indicator.name,
                value=m.value,
                unit=m.indicator.unit,
                requirement=service.requirement_text(m.indicator),
                passed=m.passed,
                measured_on=m.measured_on,
                place=m.place,
                verifier=m.verifier,
            )
            for m in ver.measurements
        ],
    )


@router.get("", response_model=ListResponse[ChallengeOut], summary="榜单列表 / public challenges")
def list_challenges_api(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=30)] = None,
    industry: Annotated[str | None, Query(max_length=100)] = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
) -> ListResponse[ChallengeOut]:
    result = service.search_challenges(
        session,
        q=q,
        status=status or None,
        industry=industry,
        region=region,
        offset=page.offset,
        limit=page.per_page,
    )
    return ListResponse(
        items=[challenge_out(session, user, c) for c in result.items],
        total=result.total,
        offset=page.offset,
        limit=page.per_page,
    )


@router.get("/mine", response_model=list[ChallengeOut], summary="本企业的榜单 / my challenges")
def my_challenges_api(session: SessionDep, user: CurrentUser) -> list[ChallengeOut]:
    return [
        challenge_out(session, user, c)
        for c in service.list_enterprise_challenges(session, actor=user)
    ]


@router.get(
    "/my-applications",
    response_model=list[ApplicationOut],
    summary="我的揭榜申请 / my applications",
)
def my_applications_api(session: SessionDep, user: CurrentUser) -> list[ApplicationOut]:
    return [application_out(a) for a in service.list_my_applications(session, actor=user)]


@router.post(
    "",
    response_model=ChallengeOut,
    status_code=201,
    dependencies=[CsrfDep],
    summary="出题（草稿）/ post a draft challenge",
)
def create_challenge_api(
    session: SessionDep,
    user: CurrentUser,
    body: ChallengeIn,
    enterprise_id: Annotated[
        int | None, Query(ge=1, le=2_147_483_647, description="admin only")
    ] = None,
) -> ChallengeOut:
    ch = service.create_challenge(session, actor=user, data=body, enterprise_id=enterprise_id)
    return challenge_out(session, user, ch)


@router.post(
    "/from-demand/{demand_id}",
    response_model=ChallengeOut,
    status_code=201,
    dependencies=[CsrfDep],
    summary="由技术需求生成榜单 / a draft from a demand",
)
def from_demand_api(session: SessionDep, user: CurrentUser, demand_id: IdPath) -> ChallengeOut:
    ch = service.challenge_from_demand(session, actor=user, demand_id=demand_id)
    return challenge_out(session, user, ch)


@router.get("/{challenge_id}", response_model=ChallengeOut, summary="榜单详情 / a challenge")
def get_challenge_api(session: SessionDep, user: CurrentUser, challenge_id: IdPath) -> ChallengeOut:
    return challenge_out(
        session, user, service.get_challenge(session, challenge_id=challenge_id, actor=user)
    )


@router.put(
    "/{challenge_id}",
    response_model=ChallengeOut,
    dependencies=[CsrfDep],
    summary="修改草稿 / edit a draft",
)
def update_challenge_api(
    session: SessionDep, user: CurrentUser, challenge_id: IdPath, body: ChallengeIn
) -> ChallengeOut:
    ch = service.update_challenge(session, actor=user, challenge_id=challenge_id, data=body)
    return challenge_out(session, user, ch)


@router.post(
    "/{challenge_id}/actions",
    response_model=ChallengeOut,
    dependencies=[CsrfDep],
    summary="发布/截止/开始/验题/重验/撤回 / take a step",
)
def challenge_action_api(
    session: SessionDep, user: CurrentUser, challenge_id: IdPath, body: ActionIn
) -> ChallengeOut:
    ch = service.act_on_challenge(
        session, actor=user, challenge_id=challenge_id, action=body.action, reason=body.reason
    )
    return challenge_out(session, user, ch)


@router.post(
    "/{challenge_id}/nda",
    response_model=ChallengeOut,
    dependencies=[CsrfDep],
    summary="接受保密协议 / accept the NDA",
)
def accept_nda_api(session: SessionDep, user: CurrentUser, challenge_id: IdPath) -> ChallengeOut:
    service.accept_nda(session, actor=user, challenge_id=challenge_id)
    return challenge_out(
        session, user, service.get_challenge(session, challenge_id=challenge_id, actor=user)
    )


@router.get(
    "/{challenge_id}/suggestions",
    response_model=list[SuggestionOut],
    summary="推送建议 / what the engine routed it to",
)
def suggestions_api(
    session: SessionDep, user: CurrentUser, challenge_id: IdPath
) -> list[SuggestionOut]:
    rows = service.list_suggestions(session, actor=user, challenge_id=challenge_id)
    return [SuggestionOut.model_validate(r, from_attributes=True) for r in rows]


@router.get(
    "/{challenge_id}/applications",
    response_model=list[ApplicationOut],
    summary="揭榜申请 / applications (enterprise: all; a team: its own)",
)
def applications_api(
    session: SessionDep, user: CurrentUser, challenge_id: IdPath
) -> list[ApplicationOut]:
    apps = service.list_applications(session, actor=user, challenge_id=challenge_id)
    return [application_out(a) for a in apps]


@router.post(
    "/{challenge_id}/applications",
    response_model=ApplicationOut,
    status_code=201,
    dependencies=[CsrfDep],
    summary="领题 / apply on behalf of a team",
)
def apply_api(
    session: SessionDep, user: CurrentUser, challenge_id: IdPath, body: ApplicationIn
) -> ApplicationOut:
    app = service.apply_to_challenge(session, actor=user, challenge_id=challenge_id, data=body)
    return application_out(app)


@router.get(
    "/applications/{application_id}",
    response_model=ApplicationOut,
    summary="一份申请 / one application (parties only)",
)
def application_api(
    session: SessionDep, user: CurrentUser, application_id: IdPath
) -> ApplicationOut:
    return application_out(
        service.get_application(session, application_id=application_id, actor=user)
    )


@router.post(
    "/applications/{application_id}/actions",
    response_model=ApplicationOut,
    dependencies=[CsrfDep],
    summary="入围/选中/不予选中/撤回 / decide an application",
)
def application_action_api(
    session: SessionDep, user: CurrentUser, application_id: IdPath, body: ActionIn
) -> ApplicationOut:
    app = service.decide_application(
        session, actor=user, application_id=application_id, action=body.action, reason=body.reason
    )
    return application_out(app)


@router.get(
    "/applications/{application_id}/messages",
    response_model=list[MessageOut],
    summary="消息 / messages (parties only)",
)
def messages_api(
    session: SessionDep, user: CurrentUser, application_id: IdPath
) -> list[MessageOut]:
    rows = service.list_messages(session, actor=user, application_id=application_id)
    return [MessageOut.model_validate(m, from_attributes=True) for m in rows]


@router.post(
    "/applications/{application_id}/messages",
    response_model=MessageOut,
    status_code=201,
    dependencies=[CsrfDep],
    summary="发消息 / send a message",
)
def post_message_api(
    session: SessionDep, user: CurrentUser, application_id: IdPath, body: TextIn
) -> MessageOut:
    msg = service.post_message(session, actor=user, application_id=application_id, body=body.body)
    return MessageOut.model_validate(msg, from_attributes=True)


class MilestoneActionIn(ActionIn):
    note: SafeStr | None = Field(default=None, max_length=5000)


@router.post(
    "/milestones/{milestone_id}/actions",
    response_model=MilestoneOut,
    dependencies=[CsrfDep],
    summary="提交/验收/退回里程碑 / move a milestone",
)
def milestone_action_api(
    session: SessionDep, user: CurrentUser, milestone_id: IdPath, body: MilestoneActionIn
) -> MilestoneOut:
    ms = service.act_on_milestone(
        session,
        actor=user,
        milestone_id=milestone_id,
        action=body.action,
        note=body.note,
        reason=body.reason,
    )
    return MilestoneOut.model_validate(ms, from_attributes=True)


@router.post(
    "/milestones/{milestone_id}/payments",
    response_model=MilestoneOut,
    dependencies=[CsrfDep],
    summary="登记付款 / record a payment",
)
def payment_api(
    session: SessionDep, user: CurrentUser, milestone_id: IdPath, body: PaymentIn
) -> MilestoneOut:
    ms = service.record_payment(
        session,
        actor=user,
        milestone_id=milestone_id,
        amount=body.amount,
        paid_on=body.paid_on,
        note=body.note,
    )
    return MilestoneOut.model_validate(ms, from_attributes=True)


@router.get(
    "/{challenge_id}/verifications",
    response_model=list[VerificationOut],
    summary="验题记录 / verification runs (parties only)",
)
def verifications_api(
    session: SessionDep, user: CurrentUser, challenge_id: IdPath
) -> list[VerificationOut]:
    runs = service.list_verifications(session, actor=user, challenge_id=challenge_id)
    return [verification_out(v) for v in runs]


@router.post(
    "/{challenge_id}/verifications",
    response_model=VerificationOut,
    status_code=201,
    dependencies=[CsrfDep],
    summary="录入验题结果 / record a verification run",
)
def verify_api(
    session: SessionDep, user: CurrentUser, challenge_id: IdPath, body: VerificationIn
) -> VerificationOut:
    ver = service.record_verification(
        session,
        actor=user,
        challenge_id=challenge_id,
        measurements=body.measurements,
        note=body.note,
        application_id=body.application_id,
    )
    return verification_out(ver)


@router.get(
    "/{challenge_id}/report.pdf",
    response_class=Response,
    responses=PDF_RESPONSES,
    summary="验题报告 PDF / verification report",
)
def report_api(session: SessionDep, user: CurrentUser, challenge_id: IdPath) -> Response:
    pdf = verification_report_pdf(session, actor=user, challenge_id=challenge_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="verification-{challenge_id}.pdf"'},
    )


@router.post(
    "/files/{scope}/{ref_id}/upload",
    status_code=201,
    dependencies=[CsrfDep],
    summary="上传附件 / attach a file (challenge, milestone or measurement)",
)
def upload_api(
    session: SessionDep,
    user: CurrentUser,
    scope: str,
    ref_id: IdPath,
    file: Annotated[UploadFile, File(description="pdf, png, jpg, xlsx, docx, csv or txt")],
) -> dict[str, object]:
    data = file.file.read(MAX_ATTACHMENT_BYTES + 1)
    if scope not in ("challenge", "milestone", "measurement"):
        raise DomainError(f"未知的附件类别 (unknown scope): {scope}", field="scope")
    row = service.attach_file(
        session, actor=user, scope=scope, ref_id=ref_id, filename=file.filename or "", data=data
    )
    return {"id": row.id, "filename": row.filename, "size": row.size, "sha256": row.sha256}


@router.get(
    "/files/{attachment_id}",
    response_class=Response,
    responses=FILE_RESPONSES,
    summary="下载附件 / a file",
)
def download_api(session: SessionDep, user: CurrentUser, attachment_id: IdPath) -> Response:
    row = service.readable_attachment(session, actor=user, attachment_id=attachment_id)
    return file_response(row)


def file_response(row: object) -> Response:
    """A stored attachment as a download (never rendered inline: it may be HTML-like text)."""
    from urllib.parse import quote

    name = getattr(row, "filename", "file")
    return Response(
        getattr(row, "data", b""),
        media_type=getattr(row, "content_type", "application/octet-stream"),
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )
