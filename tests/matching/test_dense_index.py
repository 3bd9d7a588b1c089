"""Stored dense vectors through the service: `index build` embeds, matches read, refresh adds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.engine.index import index_info
from shuanglian.enterprises.models import Enterprise
from shuanglian.matching import service
from shuanglian.patents.models import Patent
from tests.engine.fake_encoder import HashEncoder
from tests.matching.test_service import _seed


@pytest.fixture
def encoder(monkeypatch: pytest.MonkeyPatch) -> HashEncoder:
    """The encoder `SHUANGLIAN_ENCODER=test-hash` would name (no spec builds a fake one)."""
    enc = HashEncoder()
    monkeypatch.setitem(service._ENCODERS, "test-hash", enc)
    return enc


@pytest.fixture
def dense_settings(db_settings: Settings, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return db_settings.model_copy(update={"home": tmp_path / "home", "encoder": "test-hash"})


def test_build_stores_vectors_and_matches_embed_only_the_query(
    db_session: Session, dense_settings: Settings, encoder: HashEncoder
) -> None:
    ids = _seed(db_session)
    seen: list[tuple[str, int, int]] = []
    report = service.build_index(
        db_session,
        settings=dense_settings,
        progress=lambda name, done, total, _p: seen.append((name, done, total)),
    )
    assert report["encoder"] == "test:hash64"
    assert seen == [("patents", 2, 2), ("enterprises", 2, 2)]
    info = index_info(dense_settings.index_dir, name="patents")
    assert info["dense"] == {"encoder": "test:hash64", "dim": 64}
    assert sorted(k for k, _ in encoder.encoded) == ["passage"] * 4

    encoder.encoded.clear()
    matches = service.match_enterprise(
        db_session, settings=dense_settings, enterprise_id=ids["battery"]
    )
    assert matches[0].id == ids["cathode"]
    assert matches[0].explanation.dense is not None and "dense" in matches[0].signals
    assert [k for k, _ in encoder.encoded] == ["query"]


def test_refresh_embeds_only_new_rows_and_refuses_another_encoder(
    db_session: Session, dense_settings: Settings, encoder: HashEncoder
) -> None:
    ids = _seed(db_session)
    # Rows from before the build (the index's `created` has whole seconds only).
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    db_session.execute(update(Enterprise).values(updated_at=long_ago))
    db_session.execute(update(Patent).values(updated_at=long_ago))
    service.build_index(db_session, settings=dense_settings)
    newcomer = Enterprise(name="山东泰和石膏制品有限公司", business_scope="脱硫石膏、防火石膏板")
    db_session.add(newcomer)
    db_session.flush()
    encoder.encoded.clear()
    report = service.refresh_index(db_session, settings=dense_settings)
    assert report["enterprises"]["added_or_updated"] == 1
    assert [t for _, t in encoder.encoded] == ["山东泰和石膏制品有限公司\n脱硫石膏、防火石膏板"]

    other = dense_settings.model_copy(update={"encoder": "other-hash"})
    service._ENCODERS["other-hash"] = HashEncoder(name="test:other")
    try:
        with pytest.raises(service.IndexNotReady, match="shuanglian index build"):
            service.match_patent(db_session, settings=other, patent_id=ids["gypsum"])
    finally:
        del service._ENCODERS["other-hash"]
    # Without an encoder the same index answers with its lexical signals.
    plain = dense_settings.model_copy(update={"encoder": "none"})
    matches = service.match_patent(db_session, settings=plain, patent_id=ids["gypsum"])
    assert matches and "dense" not in matches[0].signals


def test_unknown_encoder_setting_is_a_clear_error(
    db_session: Session, dense_settings: Settings
) -> None:
    _seed(db_session)
    bad = dense_settings.model_copy(update={"encoder": "openai:embeddings"})
    with pytest.raises(service.DomainError, match="unknown encoder"):
        service.build_index(db_session, settings=bad)
