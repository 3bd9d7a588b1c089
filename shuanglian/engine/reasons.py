"""Explanations in plain words: the shared words as written, reasons in sentences, a level.

The engine's `Explanation` speaks in index terms (stems, joined pairs, IPC tokens); this turns
it into what a person reads (zh-CN first, English with lang="en"):

* one list of shared words, each as it appears in the two texts (锂电池, or
  锂电池 ↔ lithium battery across languages), a pair replacing its own parts;
* sentences: 「双方都涉及：锂电池、正极材料」, 「同属专利分类 H01M（…）」,
  「专利分类 H01M 电池 ↔ 贵公司行业 C38 电气机械和器材制造业（近似对应）」, 「同一地区」;
* the calibrated match (engine.calibrate) as a percent and 匹配度 高/中/低; generic words
  (服务, 信息, 系统, 数据, method, system …) never carry a match alone: a hit with nothing
  but generic words in common, no shared IPC and no industry link is weak whatever its score.

Pure: the texts and the names of codes are passed in by the caller (matching.service).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shuanglian.engine.calibrate import LEVELS, MEDIUM, level
from shuanglian.engine.records import Explanation
from shuanglian.text.bilingual import glosses, is_specific_translation
from shuanglian.text.elements import is_element
from shuanglian.text.informativeness import informativeness
from shuanglian.text.surface import surface_form
from shuanglian.text.tokenize import is_specific

# Shared words listed per hit.
MAX_WORDS = 6
# A one-character word is listed only when general Chinese uses it this rarely
# (`informativeness`: 镍 0.62, 锂 0.70, 泵 0.68, 阀 0.71), never 高 0.39, 用 0.37 or 含 0.51:
# 「双方都涉及：正极材料、电池、高」 read as if "high" were a topic the two share.
MIN_ONE_CHARACTER_INFORMATIVENESS = 0.6
# The most a hit without any evidence to show may read: the top of 低.
WEAK_CAP = MEDIUM - 0.01
# When no hit reaches this level the list is introduced as weak (see `list_notice`).
NOTICE_ZH = "暂无高度匹配的成果，以下为最接近的几项（匹配较弱，仅供参考）"
NOTICE_EN = "No strong match yet; the closest few are shown below (weak matches)"
# The same for a list of enterprises (成果 are patents and listings, not companies).
NOTICE_ENTERPRISES_ZH = "暂无高度匹配的企业，以下为最接近的几家（匹配较弱，仅供参考）"
NOTICE_ENTERPRISES_EN = "No strongly matching enterprise yet; the closest few are shown below"


@dataclass(frozen=True, slots=True)
class SharedWord:
    """A word both texts contain, as each writes it (the same unless across languages)."""

    query: str
    doc: str
    cross_lingual: bool = False
    generic: bool = False

    def label(self) -> str:
        """锂电池, or 锂电池 ↔ lithium battery when the two texts use different languages."""
        return f"{self.query} ↔ {self.doc}" if self.cross_lingual else self.query


@dataclass(slots=True)
class Reasons:
    """What a page, the API and a push list show for one hit."""

    words: list[SharedWord] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    level: str = "low"
    level_label: str = "低"
    percent: float = 0.0
    weak: bool = True
    # Something a person could check: a specific shared word, a shared patent class or an
    # industry link. A push round never sends a pair without it (inventory.push).
    evidence: bool = False

    def summary(self) -> str:
        """The sentences on one line."""
        return "；".join(self.sentences)


def shared_words(
    explanation: Explanation,
    *,
    query_text: str,
    doc_text: str | None = None,
    limit: int = MAX_WORDS,
) -> list[SharedWord]:
    """The explanation's matched terms as the words written in each text, best first.

    A term found in neither text as a word (a pair whose words are apart) is left out; a pair
    that is written together replaces its own words; without `doc_text` the document side of
    a cross-language word is the dictionary's gloss.
    """
    out: list[SharedWord] = []
    seen: set[tuple[str, str]] = set()
    for match in explanation.terms:
        if match.source:
            q = next((s for t in match.source if (s := surface_form(t, query_text))), None)
            if doc_text is not None:
                d = surface_form(match.term, doc_text)
            else:
                first = next((t for t in match.source if t in (q or "")), None)
                found = glosses(first, limit=1) if first else []
                d = found[0] if found else None
            cross = True
        else:
            q = surface_form(match.term, query_text)
            d = surface_form(match.term, doc_text) if doc_text is not None else q
            cross = False
        if not q or not d:
            continue
        if len(q) == 1 and _is_han(q) and not _names_something(q):
            continue
        if "_" in match.term and not match.source and _is_han(match.term):
            continue  # Chinese words read well alone: 锂电池、正极材料, not 锂电池正极材料
        key = (q.lower(), d.lower())
        if key in seen:
            continue
        seen.add(key)
        # Across languages a generic word on either side makes the pair generic: GPS ↔ 系统
        # (the dictionary's 全球定位系统) says nothing about a firm that offers 系统设计; so
        # does a loose translation (建设 ↔ build: `is_specific_translation`).
        specific = is_specific_translation if match.source else is_specific
        generic = not specific(match.term) or not all(is_specific(s) for s in match.source)
        out.append(SharedWord(query=q, doc=d, cross_lingual=cross, generic=generic))
    # A phrase written together stands for its words: drop words it contains.
    kept = [
        w
        for w in out
        if not any(
            o is not w and w.query.lower() in o.query.lower() and w.doc.lower() in o.doc.lower()
            for o in out
        )
    ]
    return kept[:limit]


def describe(
    explanation: Explanation | None,
    *,
    query_text: str,
    doc_text: str | None = None,
    lang: str = "zh",
    ipc_names: Mapping[str, str | None] | None = None,
    industry_names: Mapping[str, str | None] | None = None,
    enterprise_is_reader: bool = False,
    same_region: bool = False,
    shown_interest: bool = False,
) -> Reasons:
    """Plain-word reasons for one hit (lang 'zh' or 'en'); `shown_interest`: the enterprise
    has asked to talk about, license or buy a patent of the same class before (「贵企业曾对同类
    专利表示有意向」), a reason beside the evidence, not part of it."""
    if explanation is None:
        return Reasons(level_label=_level_label("low", lang))
    en = lang == "en"
    ipc_names = {k: _short(v) for k, v in (ipc_names or {}).items()}
    industry_names = industry_names or {}
    words = shared_words(explanation, query_text=query_text, doc_text=doc_text)
    specific = [w for w in words if not w.generic]
    sentences: list[str] = []
    if specific:
        # Generic words are listed only beside a specific one.
        shown = (
            "、".join(w.label() for w in words) if not en else ", ".join(w.label() for w in words)
        )
        sentences.append(f"Both mention: {shown}" if en else f"双方都涉及：{shown}")
    ipc = [c for c in explanation.ipc_shared if len(c) >= 4][:1]
    if ipc:
        code = ipc[0]
        name = ipc_names.get(code)
        named = f"{code}（{name}）" if name and not en else f"{code} ({name})" if name else code
        sentences.append(f"Same patent class {named}" if en else f"同属专利分类 {named}")
    for link in explanation.industry_links[:1]:
        ipc_name = ipc_names.get(link.ipc_subclass) or ""
        ind_name = industry_names.get(link.industry) or ""
        who = (
            ("your industry" if en else "贵公司行业")
            if enterprise_is_reader
            else ("industry" if en else "企业行业")
        )
        if en:
            sentences.append(
                f"Patent class {link.ipc_subclass} {ipc_name} ↔ {who} {link.industry} "
                f"{ind_name} (approximate)".replace("  ", " ")
            )
        else:
            sentences.append(
                f"专利分类 {link.ipc_subclass} {ipc_name} ↔ {who} {link.industry} "
                f"{ind_name}（近似对应）".replace("  ", " ")
            )
    if same_region:
        sentences.append("Same region" if en else "同一地区")
    if shown_interest:
        who_zh, who_en = (
            ("贵企业", "Your company") if enterprise_is_reader else ("该企业", "This company")
        )
        sentences.append(
            f"{who_en} has shown interest in similar patents"
            if en
            else f"{who_zh}曾对同类专利表示有意向"
        )
    percent = max(0.0, min(1.0, float(explanation.match)))
    lvl = level(percent)
    has_evidence = bool(specific or ipc or explanation.industry_links)
    if not has_evidence:
        # Nothing a person could check: the level and the number must both say weak
        # (a page read 「匹配度 低 47%」 when the words could not be shown).
        lvl = "low"
        percent = min(percent, WEAK_CAP)
        if words:
            # Across languages both sides: 「交通」 alone is no generic word, 交通 ↔ connected
            # is (the dictionary's "to be connected").
            generic_list = (
                ", ".join(w.label() for w in words) if en else "、".join(w.label() for w in words)
            )
            sentences.append(
                f"Only generic words in common ({generic_list})"
                if en
                else f"仅有泛用词相同（{generic_list}），不足以说明相关"
            )
    weak = lvl == "low"
    if weak:
        sentences.append("Weak match, for reference only" if en else "匹配较弱，仅供参考")
    return Reasons(
        words=words,
        sentences=sentences,
        level=lvl,
        level_label=_level_label(lvl, lang),
        percent=round(percent, 3),
        weak=weak,
        evidence=has_evidence,
    )


def _short(name: str | None) -> str | None:
    """A class title's first clause, at most 24 characters (IPC titles run to a paragraph)."""
    if not name:
        return name
    head = name.split(";")[0].split("；")[0].strip()
    return head if len(head) <= 24 else head[:23] + "…"


def _is_han(term: str) -> bool:
    return "\u3400" <= term[0] <= "\u9fff"


def _level_label(lvl: str, lang: str) -> str:
    zh, en = LEVELS[lvl]
    return en if lang == "en" else zh


# How many hits a list shows when none of them is at least 'medium'.
WEAK_SHOWN = 3


def list_notice(
    levels: Sequence[str], *, lang: str = "zh", enterprises: bool = False
) -> str | None:
    """「暂无高度匹配的成果…」 (of enterprises: 「…的企业…」) when no hit of a list is at least
    'medium', else None."""
    if any(lv in ("high", "medium") for lv in levels):
        return None
    if enterprises:
        return NOTICE_ENTERPRISES_EN if lang == "en" else NOTICE_ENTERPRISES_ZH
    return NOTICE_EN if lang == "en" else NOTICE_ZH


def _names_something(char: str) -> bool:
    """Whether a one-character Chinese word is worth listing: a chemical element (碳 is
    carbon, however common), or a character general Chinese uses rarely (泵, 阀)."""
    return is_element(char) or informativeness(char) >= MIN_ONE_CHARACTER_INFORMATIVENESS
