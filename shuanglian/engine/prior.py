"""Industry prior: how strongly an IPC subclass links to a GB/T 4754 industry.

The weights come from outside the engine (shuanglian.reference builds them from the
IPC → NACE → ISIC → GB/T 4754 concordance chain); the engine only needs the arrays. Codes are
matched by prefix so a 4-digit 小类 ('3041') finds a link given at 大类 level ('30').
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from shuanglian.engine.ipc import ipc_subclass

_DIGITS = re.compile(r"\d+")


def industry_key(code: str | None) -> str | None:
    """The digits of a GB/T 4754 code ('C3041' → '3041'); None when there are none."""
    if not code:
        return None
    m = _DIGITS.search(code)
    return m.group() if m else None


@dataclass
class IndustryLink:
    """IPC subclass × industry weights: `weights[s, i]` links `ipc_subclasses[s]` to
    `industries[i]` (GB/T 4754 digits at any level: '30', '304', '3041')."""

    ipc_subclasses: list[str]
    industries: list[str]
    weights: np.ndarray
    _sub_index: dict[str, int] = field(init=False, repr=False)
    _ind_index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, dtype=np.float32)
        shape = (len(self.ipc_subclasses), len(self.industries))
        if self.weights.shape != shape:
            raise ValueError(
                f"权重矩阵形状应为 {shape} (weights must be {shape}), got {self.weights.shape}"
            )
        self._sub_index = {s.upper(): i for i, s in enumerate(self.ipc_subclasses)}
        self._ind_index = {}
        for i, code in enumerate(self.industries):
            key = industry_key(code)
            if key is not None:
                self._ind_index.setdefault(key, i)

    def industry_index(self, code: str | None) -> int:
        """Row of `code` in `industries` by longest prefix of its digits; -1 when unknown."""
        key = industry_key(code)
        while key:
            idx = self._ind_index.get(key)
            if idx is not None:
                return idx
            key = key[:-1]
        return -1

    def subclass_indices(self, ipc_codes: Sequence[str]) -> list[int]:
        """Rows of the subclasses of `ipc_codes` that the link knows (each once)."""
        seen: dict[int, None] = {}
        for code in ipc_codes:
            sub = ipc_subclass(code)
            if sub and sub in self._sub_index:
                seen.setdefault(self._sub_index[sub], None)
        return list(seen)

    def industry_profile(self, ipc_codes: Sequence[str]) -> np.ndarray:
        """Mean link row over the query's subclasses: a weight per industry (zeros if none)."""
        rows = self.subclass_indices(ipc_codes)
        if not rows:
            return np.zeros(len(self.industries), dtype=np.float32)
        return self.weights[rows].mean(axis=0)

    def doc_subclass_matrix(self, docs_ipc: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """docs × subclasses incidence, each row summing to 1 (a doc's subclasses share it)."""
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for d, codes in enumerate(docs_ipc):
            subs = self.subclass_indices(codes)
            for s in subs:
                rows.append(d)
                cols.append(s)
                vals.append(1.0 / len(subs))
        return sp.csr_matrix(
            (np.asarray(vals, np.float32), (rows, cols)),
            shape=(len(docs_ipc), len(self.ipc_subclasses)),
        )
