#!/usr/bin/env bash
# The GPU check (docs/gpu-check.md): one command, at most 8 minutes on one NVIDIA GPU.
#
#   scripts/gpu_check.sh [options] [OUT_DIR]       (OUT_DIR default: $OUT, else ./gpu-check)
#
#   --device cuda|cpu     cuda (default) | cpu: the fallback the test suite runs
#   --wheels DIR          wheels of the requirements that machine lacks
#                         (default shared/wheels; scripts/fetch_gpu_wheels.sh brings them)
#   --work DIR            run folders, cohort cache, installed wheels (default $TMPDIR/flb-gpu-check)
#   --budget-s S          the whole command's time budget (default 480)
#   --patients N, --images-per-patient K   a smaller synthetic cohort (default: the default one)
#   --net-params P        appended to every net's parameters, e.g. max_steps=2,width=8
#   --cpu-seeds N         seeds of the CPU arm, run at once (default 3)
#   --skip-tests          not the CUDA-marked tests
#
# Runs the CUDA-marked tests, unet-transfer and unet-transfer[profile=paper-px] on the device,
# unet-transfer on the CPU, and checks CPU/GPU agreement and determinism; writes summary.md,
# summary.json, logs/ and each run's tables into OUT_DIR.  Exit 0: every check passed;
# 1: a check failed; 2: it could not start (no CUDA, requirements missing).
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
WHEELS=shared/wheels
WORK=${TMPDIR:-/tmp}/flb-gpu-check
OUT_DIR=${OUT:-gpu-check}
BUDGET=480
pass=()
while [ $# -gt 0 ]; do
    case $1 in
    --wheels) WHEELS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --budget-s) BUDGET=$2; shift 2 ;;
    --device | --patients | --images-per-patient | --net-params | --cpu-seeds)
        pass+=("$1" "$2"); shift 2 ;;
    --skip-tests) pass+=("$1"); shift ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "gpu_check.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) OUT_DIR=$1; shift ;;
    esac
done
mkdir -p "$OUT_DIR" "$WORK" || exit 2
OUT_DIR=$(cd "$OUT_DIR" && pwd)
WORK=$(cd "$WORK" && pwd)
# the repository first, then the wheels installed for this machine (never the system's
# site-packages: a --target folder holds only what that machine lacked)
SITE=$WORK/site
export PYTHONPATH="$PWD:$SITE${PYTHONPATH:+:$PYTHONPATH}"
missing=$("$PYTHON" scripts/gpu_check_deps.py missing) || exit 2
if [ -n "$missing" ]; then
    if [ -d "$WHEELS" ]; then
        "$PYTHON" scripts/gpu_check_deps.py install "$WHEELS" "$SITE" || exit 2
    else
        echo "gpu_check.sh: missing $(echo "$missing" | tr '\n' ' ')and no wheel folder" \
            "$WHEELS: bring it with scripts/fetch_gpu_wheels.sh $WHEELS (on a machine with PyPI)" >&2
    fi
fi
exec "$PYTHON" scripts/gpu_check.py --out "$OUT_DIR" --work "$WORK" \
    --budget-s "$((BUDGET - SECONDS))" ${pass[@]+"${pass[@]}"}
