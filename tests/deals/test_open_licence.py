"""Open licence: declared and published → taken by two enterprises (two PDFs) → exclusive
licence refused → withdrawn, both licences still valid; lapsed and expired patents refused."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from shuanglian.deals import open_licences as ol
from shuanglian.deals.contracts import create_contract
from shuanglian.deals.distribution import distribution
from shuanglian.errors import DomainError, PermissionDenied
from shuanglian.supermarket.service import get_listing, search_listings, today_in_china
from tests.deals.helpers import build_world, contract_data
from tests.notices import english_notices
from tests.web.factories import make_enterprise, make_patent, make_user

TERMS = {
    "fee_mode": "lump_sum",
    "fee_amount": "5",
    "payment_method": "银行转账，一次付清",
    "term_years": 3,
}


def _take(session, w, enterprise, user, licence_id):  # type: ignore[no-untyped-def]
    return ol.take_open_licence(
        session,
        actor=user,
        licence_id=licence_id,
        data={
            "enterprise_id": enterprise.id,
            "notice": f"{enterprise.name}书面通知：实施该专利。",
            "notice_on": today_in_china().isoformat(),
            "paid_amount": "5",
            "payment_reference": f"转账-{enterprise.id}",
        },
    )


def test_declare_take_twice_refuse_exclusive_withdraw(db_session) -> None:
    w = build_world(db_session)
    declaration = ol.declare_open_licence(
        db_session, actor=w.staff, data={"patent_id": w.patent.id, **TERMS}
    )
    listing = get_listing(db_session, listing_id=w.listing.id)
    assert "open_licence" in listing.modes and "5 万元" in (listing.open_licence_terms or "")
    found = search_listings(db_session, mode="open_licence", institution_id=w.inst.id)
    assert [x.id for x in found.items] == [w.listing.id]

    second = make_enterprise(db_session)
    second_user = make_user(db_session, "enterprise_user", enterprise_id=second.id)
    with pytest.raises(PermissionDenied):
        _take(db_session, w, second, w.ent_user, declaration.id)
    first_contract = _take(db_session, w, w.ent, w.ent_user, declaration.id)
    second_contract = _take(db_session, w, second, second_user, declaration.id)
    with pytest.raises(DomainError, match="已获得"):
        _take(db_session, w, second, second_user, declaration.id)
    for contract, enterprise in ((first_contract, w.ent), (second_contract, second)):
        assert contract.kind == "open_licence" and contract.subtype == "ordinary"
        assert contract.valid_until == ol._add_years(today_in_china(), 3)
        pdf = ol.licence_pdf(db_session, actor=w.staff, contract_id=contract.id)
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        for needle in (
            "专利开放许可证",
            contract.number,
            enterprise.name,
            w.inst.name,
            w.patent.application_number,
            "5 万元",
        ):
            assert needle in text
    assert (
        distribution(db_session, actor=w.staff, contract_id=first_contract.id).inventors_owed == 2.5
    )

    with pytest.raises(DomainError) as err:
        create_contract(db_session, actor=w.staff, data=contract_data(w, "licence", "exclusive"))
    assert err.value.field == "subtype" and "开放许可" in err.value.message
    with pytest.raises(DomainError):
        create_contract(db_session, actor=w.staff, data=contract_data(w, "licence", "sole"))
    ordinary = create_contract(
        db_session, actor=w.staff, data=contract_data(w, "licence", "ordinary")
    )
    assert ordinary.subtype == "ordinary"

    ol.withdraw_open_licence(
        db_session, actor=w.staff, licence_id=declaration.id, note="转为独占许可谈判"
    )
    listing = get_listing(db_session, listing_id=w.listing.id)
    assert "open_licence" not in listing.modes and "撤回" in (listing.open_licence_terms or "")
    holders = ol.holders_of(db_session, licence_id=declaration.id)
    assert {c.id for c in holders} == {first_contract.id, second_contract.id}
    assert all(c.status == "in_force" and c.valid_until > today_in_china() for c in holders)
    with pytest.raises(DomainError, match="撤回"):
        _take(db_session, w, make_enterprise(db_session), w.admin, declaration.id)
    exclusive = create_contract(
        db_session, actor=w.staff, data=contract_data(w, "licence", "exclusive")
    )
    assert exclusive.subtype == "exclusive"
    db_session.expire(w.listing)
    assert w.listing.deals_signed == 4
    notices = english_notices(db_session, data=(w.patent.title, "转为独占许可谈判"))
    taken = notices["open_licence.taken"]
    assert taken.title_en == f"An enterprise has taken an open licence: {w.patent.title}"
    assert taken.body_en == f"Contract {second_contract.number}, paid 5 × 10k CNY"
    withdrawn = notices["open_licence.withdrawn"].body_en or ""
    assert withdrawn.startswith("The open licence declaration was withdrawn on ")
    assert withdrawn.endswith("remain valid. (转为独占许可谈判)")


def test_declaration_rules(db_session) -> None:
    w = build_world(db_session)
    utility = make_patent(
        db_session, w.inst, patent_type="utility_model", expiry_date=date(2033, 1, 1)
    )
    with pytest.raises(DomainError) as err:
        ol.declare_open_licence(db_session, actor=w.staff, data={"patent_id": utility.id, **TERMS})
    assert err.value.field == "evaluation_report_ref"
    ol.declare_open_licence(
        db_session,
        actor=w.staff,
        data={
            "patent_id": utility.id,
            **TERMS,
            "evaluation_report": True,
            "evaluation_report_ref": "PJ2025-001",
        },
    )
    lapsed = make_patent(db_session, w.inst, legal_status="未缴年费终止失效")
    with pytest.raises(DomainError, match="失效"):
        ol.declare_open_licence(db_session, actor=w.staff, data={"patent_id": lapsed.id, **TERMS})
    with pytest.raises(DomainError) as err:
        ol.declare_open_licence(
            db_session,
            actor=w.staff,
            data={
                "patent_id": w.patent.id,
                "fee_mode": "royalty",
                "payment_method": "按年结算",
                "term_years": 3,
            },
        )
    assert err.value.field == "royalty_rate"
    with pytest.raises(PermissionDenied):
        ol.declare_open_licence(
            db_session, actor=w.ent_user, data={"patent_id": w.patent.id, **TERMS}
        )
    create_contract(db_session, actor=w.staff, data=contract_data(w, "licence", "exclusive"))
    with pytest.raises(DomainError, match="独占或排他"):
        ol.declare_open_licence(db_session, actor=w.staff, data={"patent_id": w.patent.id, **TERMS})


def test_licences_refused_on_lapsed_or_beyond_expiry(db_session) -> None:
    w = build_world(db_session)
    near = make_patent(db_session, w.inst, expiry_date=today_in_china() + timedelta(days=400))
    with pytest.raises(DomainError) as err:
        create_contract(
            db_session,
            actor=w.staff,
            data=contract_data(w, "licence", "ordinary", patent_id=near.id),
        )
    assert err.value.field == "valid_until"
    lapsed = make_patent(db_session, w.inst, legal_status="无权-视为放弃")
    for kind, sub in (("licence", "ordinary"), ("transfer", "patent_right")):
        with pytest.raises(DomainError) as err:
            create_contract(
                db_session, actor=w.staff, data=contract_data(w, kind, sub, patent_id=lapsed.id)
            )
        assert err.value.field == "patent_id"
    # An open licence taken near expiry ends with the patent.
    declaration = ol.declare_open_licence(
        db_session, actor=w.staff, data={"patent_id": near.id, **TERMS}
    )
    contract = _take(db_session, w, w.ent, w.ent_user, declaration.id)
    assert contract.valid_until == near.expiry_date
