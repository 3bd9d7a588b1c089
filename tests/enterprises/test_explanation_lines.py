"""The enterprise workspace shows why a patent was pushed as sentences, not raw data."""

from shuanglian.enterprises.pages import explanation_lines


def test_engine_explanation_reads_as_sentences():
    lines = explanation_lines(
        {
            "method": "engine",
            "summary": "",
            "terms": [{"term": "石膏", "contribution": 3.2}, {"term": "板材", "contribution": 1.1}],
            "ipc_shared": [{"code": "C04B", "title": "Lime; magnesia; slag; cements"}],
            "industry_links": [
                {
                    "ipc": "C04B",
                    "industry": "30",
                    "industry_name": "非金属矿物制品业",
                    "weight": 0.14,
                }
            ],
            "dense": None,
            "shares": {"bm25": 0.7, "ipc": 0.3, "prior": 0.0},
        }
    )
    text = "\n".join(lines)
    assert "石膏、板材" in text
    assert "C04B Lime" in text
    assert "C04B → 非金属矿物制品业" in text
    assert "文本 70%，分类号 30%" in text
    assert "{" not in text and "'term'" not in text


def test_other_matchers_keep_their_keys():
    assert explanation_lines({"reason": "行业相同", "industries": ["C30", "C31"]}) == [
        "行业相同",
        "industries: C30、C31",
    ]
    assert explanation_lines(None) == []
