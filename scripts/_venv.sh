# Shared set-up for scripts/*.sh: create .venv (once) and install the project
# with the extras given as arguments. torch is pinned to the CPU wheel by
# constraints.txt, so no CUDA packages are downloaded.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
extras="${1:-}"
target="."
[ -n "$extras" ] && target=".[$extras]"
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -c constraints.txt -e "$target"
