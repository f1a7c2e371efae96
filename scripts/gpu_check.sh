#!/usr/bin/env bash
# The checks that need a CUDA device, for a machine with one: the gpu-marked tests, the
# whole suite with CUDA visible (device="auto" then picks it), the GPU benchmark and a
# default fit at the reference scale on the GPU. Logs and records go to OUTDIR.
#
#     bash scripts/gpu_check.sh [OUTDIR]      (PYTHON=... to choose the interpreter)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="$(realpath -m "${1:-gpu-check}")"
mkdir -p "$out"
py="${PYTHON:-python3}"
export OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1
nvidia-smi -L
"$py" -c "import torch, sklearn, skorch, numpy; print('torch', torch.__version__, \
torch.cuda.get_device_name(), 'sklearn', sklearn.__version__, 'skorch', skorch.__version__, \
'numpy', numpy.__version__)"

echo "== gpu-marked tests (deterministic CUDA kernels asked for)"
CUBLAS_WORKSPACE_CONFIG=:4096:8 timeout 180 "$py" -m pytest -p no:cacheprovider \
    -m "slow or not slow" -v -rs tests/test_gpu.py >"$out/gpu-tests.log" 2>&1
echo "exit $?"; grep -E "PASSED|FAILED|SKIPPED|ERROR|passed|failed" "$out/gpu-tests.log" | tail -20

echo "== the whole suite, CUDA visible"
workers=$(( $(nproc) > 8 ? 8 : $(nproc) ))
timeout 240 "$py" -m pytest -p no:cacheprovider -m "slow or not slow" -q -n "$workers" \
    --ignore tests/test_gpu.py >"$out/suite.log" 2>&1
echo "exit $?"; grep -E "^(FAILED|ERROR)|passed|failed" "$out/suite.log" | tail -30

echo "== benchmarks/bench_gpu.py"
(cd benchmarks && timeout 120 "$py" bench_gpu.py --out "$out/gpu.jsonl") >"$out/bench-gpu.log" 2>&1
echo "exit $?"; tail -25 "$out/bench-gpu.log"

echo "== a default fit at the reference scale (4,917 x 100 x 136) on the GPU"
(cd benchmarks && timeout 150 "$py" bench_time_to_result.py --parts fit --device cuda \
    --seeds 0,1 --fit-threads 4 --out "$out/time-to-result-gpu.jsonl") >"$out/ttr.log" 2>&1
echo "exit $?"; tail -8 "$out/ttr.log"
