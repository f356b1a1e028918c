#!/usr/bin/env bash
# Ready for a GPU (issue 21): run the real model (SmolLM2-135M-Instruct, GGUF) on CUDA in float32 and bfloat16
# against CPU float32 results (parity of class log-probabilities, agreement of predictions) and measure tokens per
# second against the GPU's matmul rate; bounded to 10 minutes. The last line is the JSON of benchmarks/eval_gpu.py.
#
#   bash benchmarks/gpu_check.sh                 # on a machine with a CUDA GPU (make install first)
#   bash benchmarks/gpu_check.sh --rows 100      # fewer rows per task; any eval_gpu.py option passes through
#   bash benchmarks/gpu_check.sh --device cpu --model DIR --task FILE --rows 4   # a dry run of the logic (tests)
#
# Exit status: 0 all checks passed, 1 a check failed, 2 no CUDA device, 124 the 10 minutes ran out.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
[ -x "$PY" ] || PY="$(command -v python3)"
if [[ " $* " != *" --device cpu "* ]]; then
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
exec timeout "${GPU_CHECK_TIMEOUT:-600}" "$PY" benchmarks/eval_gpu.py "$@"
