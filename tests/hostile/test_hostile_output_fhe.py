"""``ppcti fhe`` on hostile files: a message with file (and line) and exit 2/3, never a traceback or a
"0 addresses" success; --out that cannot be written is refused before any work."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hostile_output_helpers import check, run

pytest.importorskip("tenseal")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("fhe")
    check(run("fhe", "keygen", "--out", "keys", cwd=work, tmpdir=work / "tmp"), codes={0})
    return work / "keys"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"# nothing\n", "no IPv4, IPv6 or e-mail address", id="comments-only"),
        pytest.param(os.urandom(64) + b"\xff", "q.bin", id="random-bytes"),
        pytest.param(b"203.0.113.7\nalice.secret@example\n", "q.bin:2: not an IPv4", id="bad-line"),
    ],
)
def test_encrypt_cti_refuses_like_encrypt_blacklist(
    keys: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / "q.bin").write_bytes(content)
    result = run("fhe", "encrypt-cti", "q.bin", "--public", str(keys / "public.key"), "--out", "q",
                 cwd=tmp_path, tmpdir=tmp_path / "tmp")
    check(result, codes={2, 3}, planted=("alice.secret",))
    assert message in result.stderr.replace("\n", "")
    assert not (tmp_path / "q").exists()


@pytest.mark.parametrize(
    "mapping",
    [b"{not json", b'{"format": "ppcti-fhe-mapping/1", "values": 5, "batches": []}'],
    ids=["broken-json", "values-int"],
)
def test_decrypt_with_a_malformed_mapping(keys: Path, tmp_path: Path, mapping: bytes) -> None:
    (tmp_path / "mapping.json").write_bytes(mapping)
    (tmp_path / "result.fhe").write_bytes(b"")
    result = run("fhe", "decrypt", "result.fhe", "--secret", str(keys / "secret.key"), "--mapping",
                 "mapping.json", "--out", "m", cwd=tmp_path, tmpdir=tmp_path / "tmp")
    check(result, codes={2})
    assert "mapping.json" in result.stderr
    assert not (tmp_path / "m").exists()


def test_out_that_is_a_file_is_refused_first(keys: Path, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("mine")
    (tmp_path / "q.txt").write_text("203.0.113.7\n")
    result = run("fhe", "encrypt-cti", "q.txt", "--public", str(keys / "public.key"), "--out", "taken",
                 cwd=tmp_path, tmpdir=tmp_path / "tmp")
    check(result, codes={2})
    assert "--out names a file" in result.stderr
    assert (tmp_path / "taken").read_text() == "mine"


LAUNCHER = """
import pathlib, sys, time
from ppcti.fhe import blacklist

marker = pathlib.Path(sys.argv[1])

def slow_row(task):
    marker.write_text("x")
    time.sleep(120)
    return b""

blacklist._encrypt_row = slow_row
sys.argv = ["ppcti", *sys.argv[2:]]
from ppcti.cli import main
main()
"""


def test_ctrl_c_to_the_process_group_during_parallel_encryption(keys: Path, tmp_path: Path) -> None:
    """As a terminal's Ctrl-C reaches every process of the job: the worker processes stay quiet, the
    command says it was interrupted, exits 130 and leaves no blacklist file."""
    import signal
    import subprocess
    import sys
    import time

    from hostile_output_helpers import env_for

    (tmp_path / "bl.txt").write_text("".join(f"198.18.{i // 250}.{i % 250}\n" for i in range(2000)))
    (tmp_path / "launcher.py").write_text(LAUNCHER)
    marker = tmp_path / "reached"
    args = [sys.executable, "launcher.py", str(marker), "fhe", "encrypt-blacklist", "bl.txt", "--public",
            str(keys / "public.key"), "--out", "bl.fhe", "--threads", "2"]
    (tmp_path / "tmp").mkdir()
    proc = subprocess.Popen(args, cwd=tmp_path, env=env_for(tmp_path / "tmp"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stdout + stderr
    assert "interrupted by SIGINT" in stderr
    assert not (tmp_path / "bl.fhe").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bl.fhe")]
    assert not list((tmp_path / "tmp").iterdir())
