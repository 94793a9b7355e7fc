#!/usr/bin/env bash
# The checks that need a GPU, in one run on the lent H200 (see README, "GPU"): the GPU-marked tests,
# the build benchmark for Llama-3.2-1B and -3B, the streaming benchmark (Llama-3.3-70B streamed,
# Llama-3.2-1B streamed against in memory), a random-init build of the whole registry, and catalogue bench of
# Llama-3.2-1B at two levels on the GPU (bf16, the records' dtype), and catalogue evaluate of the same two levels on a local
# 96-question task with a word-level tokenizer (random-init weights: the scores measure nothing; the time and the GPU path do).
# Run from the repository root with the wheels the device lacks in .whl/ (pydantic, pandera, optipfair).
set -uo pipefail
OUT=${OUT:-/tmp/device-out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 3
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, transformers, optipfair; print('torch', torch.__version__, 'transformers', transformers.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$OUT/gpu.txt"
python3 -m pytest -q -p no:cacheprovider -m gpu tests/e2e/test_build.py tests/e2e/test_streaming.py tests/e2e/test_measure.py 2>&1 | tail -5 | tee "$OUT/gpu-tests.log"
python3 benchmarks/build_speed.py --models meta-llama/Llama-3.2-1B,meta-llama/Llama-3.2-3B --device cuda --workdir /tmp 2>&1 \
  | grep -v -E "Warn|Writing|Loading" | tee "$OUT/build-speed-gpu.log"
python3 benchmarks/stream_build.py --device cuda 2>&1 | grep -v -E "Warn|Writing|Loading" | tee "$OUT/stream-build-gpu.log"
start=$(date +%s)
python3 -m glu_catalogue build --force --device cuda --data /tmp/gpu-data --quiet > "$OUT/build-registry-gpu.log" 2>&1
echo "exit $? after $(python3 -c "import time; print(round(time.time() - $start))") s" | tee -a "$OUT/build-registry-gpu.log"
tail -30 "$OUT/build-registry-gpu.log"
python3 -m glu_catalogue bench --models meta-llama/Llama-3.2-1B --levels 0,40 --device cuda --data /tmp/gpu-data \
  --output /tmp/gpu-bench 2>&1 | tee "$OUT/bench-gpu.log"
python3 -c "import lm_eval" 2>/dev/null || { echo "lm_eval is not installed: evaluate skipped" | tee "$OUT/evaluate-gpu.log"; exit 0; }
python3 -c "
import sys; sys.path.insert(0, 'tests')
from pathlib import Path
from lm_eval_tasks import save_tokenizer, write_task
write_task(Path('/tmp/gpu-eval/tasks'), questions=96); save_tokenizer(Path('/tmp/gpu-eval/tokenizer'))
"
start=$(date +%s)
python3 -m glu_catalogue evaluate --models meta-llama/Llama-3.2-1B --levels 0,40 --tasks tiny_choice --include-path /tmp/gpu-eval/tasks \
  --tokenizer /tmp/gpu-eval/tokenizer --store-random-init --device cuda --data /tmp/gpu-data --output /tmp/gpu-eval/out 2>&1 \
  | grep -v -E "Warn|it/s\]" | tee "$OUT/evaluate-gpu.log"
echo "evaluate: $(python3 -c "import time; print(round(time.time() - $start))") s" | tee -a "$OUT/evaluate-gpu.log"
