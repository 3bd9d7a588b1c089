"""Every stored code's name for people, in zh-CN and English, looked up by the enum's name.

Each enum keeps its one `{value: (zh, en)}` table where it is defined (a domain's models, its
state machine or its schemas); this module only gathers those tables under short names, so
pages (`enum_label("patent_type", p.patent_type)`), the CLI and the test that hunts untranslated
values (tests/web/test_chinese_interface.py) all read the same table. `COLUMNS` says which
table names each stored column's values; that test fails when an enum-like column has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

Pair = tuple[str, str]
Table = Mapping[str, Pair]

# "<table>.<column>" → the enum naming its values. Columns whose values people read.
COLUMNS: dict[str, str] = {
    "users.role": "role",
    "account_applications.status": "account_application_status",
    "institutions.kind": "institution_kind",
    "patents.patent_type": "patent_type",
    "inventory_reviewers.level": "review_level",
    "inventory_items.status": "inventory_status",
    "inventory_self_assessments.implementation_status": "implementation_status",
    "inventory_self_assessments.transfer_mode": "transfer_mode",
    "inventory_self_assessments.value_grade": "value_grade",
    "inventory_feedback.intent": "intent",
    "inventory_feedback.source": "feedback_source",
    "demands.status": "demand_status",
    "demands.visibility": "demand_visibility",
    "market_listings.status": "listing_status",
    "challenges.status": "challenge_status",
    "challenges.visibility": "challenge_visibility",
    "challenges.ip_owner": "ip_owner",
    "challenge_applications.status": "application_status",
    "challenge_milestones.status": "milestone_status",
    "challenge_verifications.verdict": "verdict",
    "challenge_suggestions.kind": "suggestion_kind",
    "pilot_platforms.level": "pilot_level",
    "pilot_platforms.services": "pilot_service",  # a fenced list: ",lab,pilot,"
    "pilot_bookings.service": "pilot_service",
    "pilot_bookings.status": "booking_status",
    "deal_managers.certification_level": "certification_level",
    "deals.stage": "deal_stage",
    "deals.source": "deal_source",
    "deals.closed_reason": "close_reason",
    "deal_activities.kind": "activity_kind",
    "deal_activities.from_stage": "deal_stage",
    "deal_activities.to_stage": "deal_stage",
    "deal_documents.kind": "document_kind",
    "deal_services.kind": "service_kind",
    "deal_services.status": "service_status",
    "deal_contracts.kind": "contract_kind",
    "deal_contracts.payment_mode": "payment_mode",
    "deal_contracts.seller_nature": "party_nature",
    "deal_contracts.buyer_nature": "party_nature",
    "deal_contracts.ip_type": "ip_type",
}


@cache
def enum_tables() -> dict[str, Table]:
    """Every enum's table by name (imported on first use: no import-time coupling)."""
    from shuanglian.accounts.models import APPLICATION_STATUSES
    from shuanglian.accounts.permissions import ROLE_LABELS
    from shuanglian.challenges.models import IP_OWNERS, SUGGESTION_KINDS, VERDICTS, VISIBILITIES
    from shuanglian.challenges.states import APPLICATION_STATES, MILESTONE_STATES
    from shuanglian.challenges.states import STATES as CHALLENGE_STATES
    from shuanglian.deals import schemas as deals
    from shuanglian.deals.pipeline import STAGES
    from shuanglian.enterprises.service import DEMAND_STATUS_LABELS, DEMAND_VISIBILITY
    from shuanglian.inventory import models as inventory
    from shuanglian.inventory.feedback import SOURCE_LABELS
    from shuanglian.inventory.review import STATES as INVENTORY_STATES
    from shuanglian.patents.institutions import INSTITUTION_KINDS
    from shuanglian.patents.models import PATENT_TYPES
    from shuanglian.pilots.models import LEVELS, SERVICES
    from shuanglian.pilots.service import BOOKING_STATES
    from shuanglian.supermarket.models import LISTING_STATUSES
    from shuanglian.supermarket.service import MODES

    return {
        "role": ROLE_LABELS,
        "account_application_status": APPLICATION_STATUSES,
        "institution_kind": INSTITUTION_KINDS,
        "patent_type": PATENT_TYPES,
        "review_level": inventory.REVIEW_LEVELS,
        "inventory_status": INVENTORY_STATES,
        "implementation_status": inventory.IMPLEMENTATION_STATUS_LABELS,
        "transfer_mode": inventory.TRANSFER_MODE_LABELS,
        "value_grade": inventory.VALUE_GRADE_LABELS,
        "intent": inventory.INTENT_LABELS,
        "feedback_source": SOURCE_LABELS,
        "demand_status": DEMAND_STATUS_LABELS,
        "demand_visibility": DEMAND_VISIBILITY,
        "listing_status": LISTING_STATUSES,
        "listing_mode": MODES,
        "challenge_status": CHALLENGE_STATES,
        "challenge_visibility": VISIBILITIES,
        "ip_owner": IP_OWNERS,
        "application_status": APPLICATION_STATES,
        "milestone_status": MILESTONE_STATES,
        "verdict": VERDICTS,
        "suggestion_kind": SUGGESTION_KINDS,
        "pilot_level": LEVELS,
        "pilot_service": SERVICES,
        "booking_status": BOOKING_STATES,
        "certification_level": deals.CERT_LEVELS,
        "deal_stage": STAGES,
        "deal_source": deals.SOURCES,
        "close_reason": deals.CLOSE_REASONS,
        "activity_kind": deals.ACTIVITY_KINDS,
        "document_kind": deals.DOCUMENT_KINDS,
        "service_kind": deals.SERVICE_KINDS,
        "service_status": deals.SERVICE_STATUSES,
        "contract_kind": deals.CONTRACT_KINDS,
        "payment_mode": deals.PAYMENT_MODES,
        "party_nature": deals.PARTY_NATURES,
        "ip_type": deals.IP_TYPES,
    }


def label(enum: str, value: str | None, lang: str = "zh") -> str:
    """`value`'s name in `lang` ("zh" or "en"); "" for no value, the value itself only when
    the table lacks it (an old row), never a KeyError on a page."""
    if value is None or value == "":
        return ""
    pair = enum_tables()[enum].get(value)
    if pair is None:
        return value
    return pair[1] if lang == "en" else pair[0]
