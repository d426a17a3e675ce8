"""``ppcti misp ...``: documented interface, clear errors without tracebacks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson
from servers import child_env, ppcti_command


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ppcti_command("misp", *args),
        capture_output=True,
        text=True,
        env=child_env(**env),
        timeout=120,
        check=False,
    )


def test_modules_path_holds_the_module() -> None:
    done = _run("modules-path")
    assert done.returncode == 0
    folder = Path(done.stdout.strip())
    assert (folder / "expansion" / "ppcti_blacklist.py").is_file()


def test_export_errors_are_one_line(tmp_path: Path) -> None:
    done = _run("export", str(tmp_path), "--out", str(tmp_path / "feed"))
    assert done.returncode == 3
    assert "aggregate" in done.stderr and "Traceback" not in done.stderr
    (tmp_path / "cti").mkdir()
    (tmp_path / "cti" / "aggregate.json").write_text('{"type": "bundle", "id": "bundle--x", "objects": []}')
    done = _run("export", str(tmp_path), "--out", str(tmp_path / "feed"), "--hashes", "keyed")
    assert done.returncode == 2
    assert "keyed hashes need a key" in done.stderr
    done = _run(
        "export",
        str(tmp_path),
        "--out",
        str(tmp_path / "feed"),
        "--hashes",
        "keyed",
        PPCTI_MISP_HASH_KEY="zz",
    )
    assert done.returncode == 2 and "must be hex" in done.stderr


def test_export_keyed_from_environment(tmp_path: Path) -> None:
    bundle = {
        "type": "bundle",
        "id": "bundle--6a0c3f1e-2b4d-4e6f-8a1b-3c5d7e9f0a2b",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--7b1d4e2f-3c5e-4f7a-9b2c-4d6e8f0a1b3c",
                "created": "2023-01-01T00:00:00.000Z",
                "modified": "2023-01-01T00:00:00.000Z",
                "pattern": "[ipv4-addr:value = '203.0.113.5']",
                "pattern_type": "stix",
                "valid_from": "2023-01-01T00:00:00Z",
            }
        ],
    }
    (tmp_path / "agg.json").write_bytes(orjson.dumps(bundle))
    done = _run(
        "export",
        str(tmp_path / "agg.json"),
        "--out",
        str(tmp_path / "feed"),
        "--hashes",
        "keyed",
        PPCTI_MISP_HASH_KEY="00" * 32,
    )
    assert done.returncode == 0, done.stderr
    assert "1 objects" in done.stdout
    lines = (tmp_path / "feed" / "hashes-hmac-sha256.csv").read_text().splitlines()
    assert len(lines) == 1 and lines[0].endswith(",6a0c3f1e-2b4d-4e6f-8a1b-3c5d7e9f0a2b")
