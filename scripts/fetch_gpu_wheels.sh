#!/usr/bin/env bash
# Download, on a machine with PyPI, the wheels scripts/gpu_check.sh installs on a GPU machine
# that has no network (Python 3.12, x86-64 Linux; torch, timm, scikit-learn, scikit-image,
# pandas, scipy, statsmodels, matplotlib already there).  docs/gpu-check.md.
#
#   scripts/fetch_gpu_wheels.sh [DIR]        (default: shared/wheels; never committed)
#
# The list is scripts/gpu_check_deps.py's `list`: the project's requirements with what they
# require, at the versions installed in the test env ($PYTHON, default the tox test env),
# minus what the GPU machine has.  One `pip download --no-deps` per wheel, so a package
# without a cp312 wheel is named, not silently resolved to another version.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-shared/wheels}
PYTHON=${PYTHON:-.tox/test/bin/python}
[ -x "$PYTHON" ] || PYTHON=/work/main/.tox/test/bin/python
PY_VERSION=${PY_VERSION:-3.12}
mkdir -p "$DIR"
mapfile -t WANTED < <("$PYTHON" scripts/gpu_check_deps.py list)
# manylinux2014 = manylinux_2_17; newer releases ship manylinux_2_28 only (glibc >= 2.28)
BINARY=(--platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64
    --platform manylinux_2_28_x86_64 --implementation cp --abi "cp${PY_VERSION/./}" --abi abi3)
QUIET=(--quiet --disable-pip-version-check)
compiled=()
for spec in "${WANTED[@]}"; do
    common=(download --no-deps --only-binary=:all: --python-version "$PY_VERSION" "${QUIET[@]}"
        -d "$DIR" "$spec")
    # compiled wheels for the target; pure-python ones (py3-none-any) with --platform any
    "$PYTHON" -m pip "${common[@]}" "${BINARY[@]}" 2>/dev/null && continue
    "$PYTHON" -m pip "${common[@]}" --platform any 2>/dev/null && continue
    # no wheel on PyPI (docopt, autograd-gamma): build one from the sdist, kept only if it
    # is pure Python (a compiled one built here would be for this machine's Python)
    build=$(mktemp -d)
    "$PYTHON" -m pip wheel --no-deps "${QUIET[@]}" -w "$build" "$spec" >/dev/null 2>&1 || true
    if ls "$build"/*-none-any.whl >/dev/null 2>&1; then
        mv "$build"/*-none-any.whl "$DIR"/
    else
        compiled+=("$spec")
    fi
    rm -rf "$build"
done
echo "$(ls "$DIR"/*.whl | wc -l) wheels, $(du -sh "$DIR" | cut -f1) in $DIR"
if [ ${#compiled[@]} -gt 0 ]; then
    # pyradiomics-bhklab ships a compiled sdist only: the radiomics methods, which the GPU
    # check does not run; gpu_check.sh lists what is missing in its summary
    echo "no Python ${PY_VERSION} wheel (compiled, sdist only): ${compiled[*]}" >&2
fi
