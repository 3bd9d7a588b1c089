"""The big screen (`/screen`): the same headline figures, live activity and rotating listings.

Figures that are still zero are not shown (an exhibition screen saying "签约 0" helps nobody);
they appear once they are not. Activity is anonymised: a visitor's name becomes its first
character and 先生/女士-free asterisks, an enterprise its province. Listing summaries never
start with "本实用新型公开了…": the patent boilerplate is stripped and the first sentence
that says what the technology does is kept.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shuanglian.dashboard.service import CONTRACT_KIND_NAMES, kept_figures, kept_table
from shuanglian.dashboard.summary import Pieces
from shuanglian.deals.models import Contract
from shuanglian.enterprises.models import Enterprise
from shuanglian.figures import BY_KEY, Scope, today_in_china
from shuanglian.patents.models import Institution
from shuanglian.supermarket.models import Inquiry, Listing, ListingDailyStat
from shuanglian.supermarket.service import MODES, featured_listings, unfence

SCREEN_KEYS = (
    "listings", "scans_today", "inquiries", "pooled", "enterprises_reached",
    "cooperation_intents", "contracts", "amount",
)  # fmt: skip
ACTIVITY_ROWS = 8

# "本发明公开了一种…", "本实用新型涉及…", "本申请提供了…", "The invention discloses…"
_BOILERPLATE = re.compile(
    r"^(?:本|该)(?:发明|实用新型|外观设计|申请|公开|专利|技术)(?:专利)?"
    r"(?:公开了|公开|涉及到?|提供了?|提出了?|属于|是|为|披露了?|揭示了?|所述的?)?\s*"
)
_EFFECT = re.compile(r"(能够|可以|可|有效|提高|降低|减少|解决|实现|避免|优点|有益效果|提升|节约)")
_SENTENCE = re.compile(r"(?<=[。；;！!？?])")


def _strip(sentence: str) -> str:
    text = _BOILERPLATE.sub("", sentence.strip())
    return text.lstrip("，,：: ")


def listing_summary(title: str, text: str | None, *, limit: int = 90) -> str:
    """ "title：what it does" in Chinese, from the title and the first meaningful sentence.

    A sentence that only repeats the title ("一种锂电池回收方法。") or describes the parts
    ("包括壳体…") says less than one naming an effect ("能够提高回收率…"), which is preferred.
    """
    sentences = [_strip(s) for s in _SENTENCE.split(text or "") if s.strip()]
    sentences = [
        s for s in sentences if len(s) > 4 and s.rstrip("。；;") not in (title, "一种" + title)
    ]
    chosen = next((s for s in sentences if _EFFECT.search(s)), sentences[0] if sentences else "")
    if chosen.startswith("一种") and title in chosen:
        chosen = chosen.split("，", 1)[1] if "，" in chosen else ""
    summary = f"{title}：{chosen}" if chosen else title
    return summary if len(summary) <= limit else summary[: limit - 1] + "…"


def _mask(name: str | None) -> str:
    """ "张三" → "张**": enough to feel live, never enough to identify a visitor."""
    name = (name or "").strip()
    return (name[:1] + "**") if name else "访客"


def latest_activity(session: Session, *, today: date) -> list[dict[str, Any]]:
    """Newest scans (per listing and day), inquiries and contracts, anonymised, newest first."""
    items: list[dict[str, Any]] = []
    scans = session.execute(
        select(ListingDailyStat.day, ListingDailyStat.scans, Listing.title)
        .join(Listing, Listing.id == ListingDailyStat.listing_id)
        .where(ListingDailyStat.scans > 0, Listing.status == "published")
        .order_by(ListingDailyStat.day.desc(), ListingDailyStat.id.desc())
        .limit(ACTIVITY_ROWS)
    )
    for day, n, title in scans:
        items.append({"on": day, "kind": "scan", "text": f"《{title}》被扫码 {n} 次",
                      "text_en": f"“{title}” scanned {n}×"})  # fmt: skip
    inquiries = session.execute(
        select(Inquiry.created_at, Inquiry.name, Listing.title)
        .join(Listing, Listing.id == Inquiry.listing_id)
        .order_by(Inquiry.created_at.desc(), Inquiry.id.desc())
        .limit(ACTIVITY_ROWS)
    )
    for at, name, title in inquiries:
        items.append({"on": at.date() if at else today, "kind": "inquiry",
                      "text": f"{_mask(name)} 咨询了《{title}》",
                      "text_en": f"{_mask(name)} asked about “{title}”"})  # fmt: skip
    contracts = session.execute(
        select(Contract.signed_on, Contract.kind, Institution.name, Enterprise.province)
        .join(Institution, Institution.id == Contract.institution_id)
        .join(Enterprise, Enterprise.id == Contract.enterprise_id)
        .order_by(Contract.signed_on.desc(), Contract.id.desc())
        .limit(ACTIVITY_ROWS)
    )
    for on, kind, inst, province in contracts:
        where = f"一家{province}企业" if province else "一家企业"
        kind_zh, kind_en = CONTRACT_KIND_NAMES.get(kind, (kind, kind))
        items.append({"on": on, "kind": "contract",
                      "text": f"{inst} 与{where}签订{kind_zh}合同",
                      "text_en": f"{inst} signed a {kind_en.lower()} contract"})  # fmt: skip
    items.sort(key=lambda i: i["on"], reverse=True)
    return items[:ACTIVITY_ROWS]


def screen_context(session: Session, *, today: date | None = None) -> dict[str, Any]:
    """Everything `/screen` shows; zero figures are dropped."""
    today = today or today_in_china()
    pieces = Pieces(session)
    values = kept_figures(session, SCREEN_KEYS, scope=Scope(), today=today, pieces=pieces)
    figures = [(BY_KEY[k], v) for k, v in values.items() if v]
    listings = featured_listings(session, limit=12)
    if listings:
        session.execute(select(Listing).where(Listing.id.in_([x.id for x in listings]))
                        .options(selectinload(Listing.institution)))  # fmt: skip
    provinces = kept_table(session, pieces, Scope(), "by_province", today)
    return {
        "figures": figures,
        "values": values,
        "listings": [(x, listing_summary(x.title, x.summary)) for x in listings],
        "activity": latest_activity(session, today=today),
        "province_table": provinces,
        "province_chart": provinces.chart_data(),
        "modes": MODES,
        "unfence": unfence,
    }
