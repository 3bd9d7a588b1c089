"""`shuanglian demo seed` end to end on a fresh database of each backend, run twice.

The demo data is imported exactly as `make demo-data` does (init, imports, index build), then the
seed runs twice: the first run must bring every part of the platform to life through the real
services, the second must create nothing and change no total.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.accounts.service import authenticate, create_user, get_user_by_username
from shuanglian.audit import AuditEntry
from shuanglian.config import Settings
from shuanglian.db import make_engine
from shuanglian.demo import (
    DEMO_PASSWORD,
    VALUE_REASON,
    derived_self_assessment,
    lead_code,
    seed_demo,
)
from shuanglian.errors import DomainError
from shuanglian.inventory.models import Push, SelfAssessment
from shuanglian.patents.models import Institution, Patent
from shuanglian.supermarket.models import Listing
from tests.test_cli import cli_env, run_json  # noqa: F401  (cli_env is a fixture)

DEMO = Path(__file__).resolve().parents[1] / "demo"


def _load_demo(env: dict[str, str]) -> None:
    """The import steps of the Makefile's `demo-data` target, in the same order."""
    steps = [
        ("init",),
        (
            "import", "patents", str(DEMO / "patents_cnipa_sample.csv"),
            "--institution", "中科大数据研究院",
        ),
        ("import", "patents", str(DEMO / "patents_uspto_sample.xml")),
        (
            "import", "patents", str(DEMO / "patents_nvidia.csv"), "--format", "csv",
            "--mapping", str(DEMO / "patents_nvidia.mapping.json"),
            "--institution", "NVIDIA Corporation",
        ),
        ("import", "enterprises", str(DEMO / "enterprises_2002_sample.csv")),
        ("import", "demands", str(DEMO / "demands.csv")),
        ("index", "build"),
    ]  # fmt: skip
    for args in steps:
        code, out = run_json(env, *args)
        assert code == 0, (args, out)


@contextmanager
def _session(env: dict[str, str]) -> Iterator[Session]:
    settings = Settings(
        home=Path(env["SHUANGLIAN_HOME"]), database_url=env["SHUANGLIAN_DATABASE_URL"] or None
    )
    engine = make_engine(settings)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def test_demo_seed_brings_the_platform_to_life_and_is_idempotent(cli_env):  # noqa: F811
    _load_demo(cli_env)
    code, first = run_json(cli_env, "demo", "seed")
    assert code == 0, first
    created, totals = first["created"], first["totals"]
    # 10 CNIPA records (2 still pending) + 150 NVIDIA grants; the 6 USPTO ones have no holder.
    assert created["inventory_items"] == created["self_assessments"] == 160
    assert totals["pool"] == created["pool_entries"] == 158
    assert totals["awaiting_review"] == 2
    assert totals["listings_published"] == created["listings"] == 158
    assert totals["listings_featured"] == 4
    assert totals["pushes"] == created["pushes"] > 0 and created["push_rounds"] == 1
    assert totals["feedback"] == created["feedback"] == 3
    assert sorted(first["users_created"]) == [
        "admin",
        "ent",
        "manager",
        "manager2",
        "manager3",
        "pilot",
        "reviewer",
        "tto",
    ]
    assert first["tiers"] is not None and sum(first["tiers"].values()) == 158
    # The bureau's province map needs the institutions' addresses, which the imports lack.
    assert created["institutions_placed"] == 2

    code, second = run_json(cli_env, "demo", "seed")
    assert code == 0, second
    assert second["created_total"] == 0 and set(second["created"].values()) == {0}
    assert second["totals"] == totals

    with _session(cli_env) as session:
        regions = dict(session.execute(select(Institution.name, Institution.region)).all())
        assert regions["中科大数据研究院"] == "河南省郑州市"
        users = {u.username: u for u in session.scalars(select(User))}
        assert {u: users[u].role for u in users} == first["login"]["users"]
        for name in users:
            assert authenticate(session, username=name, password=DEMO_PASSWORD) is not None
        # `ent` belongs to a firm whose pushes are about its business: the most specific
        # words shared push after push (sum of each push's strongest shared word), among
        # firms with three or more pushes; not the generic hub with the most pushes.
        strongest: dict[int, list[float]] = {}
        for firm, explanation in session.execute(select(Push.enterprise_id, Push.explanation)):
            parts = [t["contribution"] for t in explanation.get("terms") or []]
            strongest.setdefault(firm, []).append(max(parts, default=0.0))
        total = {f: sum(v) for f, v in strongest.items() if len(v) >= 3}
        ent_firm = users["ent"].enterprise_id
        assert ent_firm in total and total[ent_firm] == max(total.values())
        hub = max(strongest, key=lambda f: len(strongest[f]))
        assert ent_firm == hub or total[ent_firm] > sum(strongest[hub])
        # Decisions were taken by the demo people, as the audit log shows.
        actors = set(
            session.scalars(select(AuditEntry.actor_name).where(AuditEntry.action.like("review.%")))
        )
        assert {"tto", "reviewer"} <= actors
        reasons = session.scalars(select(SelfAssessment.value_reason)).all()
        assert len(reasons) == 160 and all(r.startswith(VALUE_REASON) for r in reasons)
        featured = session.scalars(select(Listing).where(Listing.featured.is_(True))).all()
        assert all(item.status == "published" and item.modes != "," for item in featured)
        # Chinese listings are featured and newest: the catalogue does not open on English.
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in x.title) for x in featured)
        newest = session.scalars(select(Listing).order_by(Listing.id.desc()).limit(4)).all()
        assert {x.id for x in newest} == {x.id for x in featured}


def test_demo_seed_before_import_is_one_clear_error(cli_env):  # noqa: F811
    run_json(cli_env, "init")
    code, out = run_json(cli_env, "demo", "seed")
    assert code == 2 and "先导入演示专利" in out["error"]["message"]


PATENT_TYPES = st.sampled_from(["invention", "utility_model", None])
STATUSES = st.sampled_from([None, "有权-审定授权", "审中-实质审查", "有权", "授权"])


@given(
    ptype=PATENT_TYPES, status=STATUSES, granted=st.booleans(), lang=st.sampled_from(["zh", "en"])
)
def test_derived_self_assessment_is_always_valid_and_explained(ptype, status, granted, lang):
    patent = Patent(
        application_number="CN202223220665.2",
        title="一种无人机机载多功能盒" if lang == "zh" else "Managing deferred contexts",
        patent_type=ptype,
        legal_status=status,
        grant_date=date(2023, 5, 1) if granted else None,
        language=lang,
        main_ipc="B64U20/80",
        ipc_codes=[],
        cpc_codes=[],
    )
    form = derived_self_assessment(patent)
    is_granted = granted or (status is not None and ("有权" in status or "授权" in status))
    assert form.trl == (6 if is_granted and ptype == "invention" else 5 if is_granted else 4)
    assert form.value_grade == {6: "高", 5: "中", 4: "低"}[form.trl]
    assert form.transfer_mode == ("转让" if form.trl == 6 else "许可")
    assert form.implementation_status == "未实施"
    assert form.value_reason.startswith(VALUE_REASON)
    assert patent.title in form.scenarios
    assert form.industry_codes and form.industry_codes[0] == "C37"  # B64U: aircraft → 37


def test_lead_code_falls_back_to_cpc_but_skips_y_tags():
    patent = Patent(title="t", main_ipc=None, ipc_codes=[], cpc_codes=["Y02D30/70", "H04W52/02"])
    assert lead_code(patent) == "H04W52/02"
    assert lead_code(Patent(title="t", main_ipc=None, ipc_codes=[], cpc_codes=[])) is None


def test_demo_seed_never_takes_over_an_account_of_another_role(db_session, settings):
    inst = Institution(name="中科大数据研究院")
    db_session.add(inst)
    db_session.flush()
    db_session.add(
        Patent(
            application_key="CN1",
            application_number="CN1",
            title="一种无人机",
            institution_id=inst.id,
        )
    )
    create_user(db_session, username="tto", password=DEMO_PASSWORD, role="tech_manager")
    with pytest.raises(DomainError, match="tto"):
        seed_demo(db_session, settings=settings)
    assert get_user_by_username(db_session, username="tto").role == "tech_manager"
