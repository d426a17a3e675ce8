"""The service as a process: refusal without --insecure-simulation, kill -9 mid-session, the CLI."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from pathlib import Path

import orjson
import pytest
from tee_helpers import ServiceHandle, files_containing, firewall_upload
from typer.testing import CliRunner

from ppcti.cli import app
from ppcti.tee.client import AttestedConnection
from ppcti.tee.policy import Policy, load_policy
from ppcti_process import child_env, start_tee_service


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
    process.wait(20)
    assert process.stdout is not None
    process.stdout.close()


def test_simulation_refuses_to_start_without_the_flag(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["tee", "serve", "--backend", "simulation", "--state", str(tmp_path / "s")]
    )
    assert result.exit_code != 0
    assert "--insecure-simulation" in str(result.exception) and "no TEE" in str(result.exception)
    assert not (tmp_path / "s").exists()


def test_hardware_backends_refuse_clearly_off_hardware(tmp_path: Path) -> None:
    for backend, words in (("gramine-sgx", "inside a Gramine SGX enclave"), ("tsm", "SEV-SNP or TDX guest")):
        result = CliRunner().invoke(
            app, ["tee", "serve", "--backend", backend, "--state", str(tmp_path / "s")]
        )
        assert result.exit_code != 0 and words in str(result.exception)


@pytest.mark.slow
def test_kill_9_mid_upload_then_restart_shreds_the_orphan(tmp_path: Path, sim_policy: Policy) -> None:
    state, tmp = tmp_path / "state", tmp_path / "tmp"
    tmp.mkdir()
    marker = f"CRASH{uuid.uuid4().hex[:12]}"
    env = child_env(TMPDIR=str(tmp), COLUMNS="300")
    server, url, _ = start_tee_service(state, env=env)
    link = AttestedConnection(url, sim_policy, timeout=30)
    try:
        session, sealed = _upload_half(link, state, marker)
    finally:
        stop(server, signal.SIGKILL)  # while the upload is still open: a clean disconnect would be shredded
        link.close()
    assert sealed.exists()  # the crash left the session behind
    again, _, lines = start_tee_service(state, env=env)
    try:
        text = "".join(lines)
        assert f"orphaned session {session}" in text and "shredd" in text
        assert list((state / "sessions").iterdir()) == []
    finally:
        stop(again)
    assert files_containing([state, tmp], marker) == []


def _upload_half(link: AttestedConnection, state: Path, marker: str) -> tuple[str, Path]:
    """Open a session and send part of an upload, until a sealed chunk is on disk; the upload stays open."""
    total = 4 * 1024 * 1024
    status, body = link.request(
        "POST",
        "/v1/sessions",
        orjson.dumps({"holder": "acme", "upload_name": "fw.txt", "upload_size": total}),
    )
    assert status == 201
    opened = orjson.loads(body)
    auth = {"Authorization": f"Bearer {opened['token']}"}
    assert link.request("PUT", f"/v1/sessions/{opened['session']}/public-key", b"not used", auth)[0] == 200
    conn = link.conn
    conn.putrequest("PUT", f"/v1/sessions/{opened['session']}/upload")
    conn.putheader("Authorization", auth["Authorization"])
    conn.putheader("Content-Length", str(total))
    conn.endheaders()
    line = (f"{marker} " * 100 + "\n").encode()
    conn.send(line * (3 * 1024 * 1024 // len(line)))
    sealed = state / "sessions" / opened["session"] / "upload.sealed"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not sealed.exists() or sealed.stat().st_size < 1024 * 1024):
        time.sleep(0.05)
    assert sealed.stat().st_size >= 1024 * 1024, "the upload never reached the disk"
    assert files_containing([state], marker) == [], "the upload touched the disk unsealed"
    return opened["session"], sealed


def test_policy_init_writes_loadable_commented_policies(tmp_path: Path) -> None:
    runner = CliRunner()
    production = tmp_path / "prod.yaml"
    assert runner.invoke(app, ["tee", "policy", "init", "--out", str(production)]).exit_code == 0
    text = production.read_text()
    for word in ("measurements", "min_svn", "allow_debug", "tcb_statuses", "max_evidence_age", "nonce"):
        assert f"\n{word}:" in text
    policy = load_policy(production)
    assert not policy.allow_simulation and not policy.allow_debug and policy.measurements == ()
    again = runner.invoke(app, ["tee", "policy", "init", "--out", str(production)])
    assert again.exit_code != 0 and "--force" in str(again.exception)
    sim = tmp_path / "sim.yaml"
    assert runner.invoke(app, ["tee", "policy", "init", "--simulation", "--out", str(sim)]).exit_code == 0
    assert "SIMULATION POLICY" in sim.read_text()
    loaded = load_policy(sim)
    assert loaded.allow_simulation and loaded.allow_debug and len(loaded.measurements) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("allow_debug: yes please\n", "allow_debug must be true or false"),
        ("colour: red\n", "unknown policy settings"),
        ("measurements:\n  - mr_enclave: zz\n", "not hexadecimal"),
        ("measurements:\n  - mrenclave: 00\n", "unknown measurement key"),
        ("tcb_statuses: [Fine]\n", "tcb_statuses must be a list"),
        ("max_evidence_age: -1\n", "whole number"),
        ("- just a list\n", "mapping of settings"),
    ],
    ids=["bool", "unknown", "hex", "key", "status", "age", "shape"],
)
def test_bad_policies_are_named(tmp_path: Path, text: str, message: str) -> None:
    from ppcti.errors import ConfigError

    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_policy(path)


def test_submit_and_verify_receipt_through_the_cli(
    service: ServiceHandle, public_key: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    policy = tmp_path / "policy.yaml"
    runner.invoke(app, ["tee", "policy", "init", "--out", str(policy)])
    upload = firewall_upload(tmp_path / "fw.txt", "cli")
    out = tmp_path / "out"
    args = [
        "tee",
        "submit",
        str(upload),
        "--holder",
        "acme",
        "--service",
        service.url,
        "--public",
        str(public_key),
        "--out",
        str(out),
        "--quiet",
        "--skip",
        "pii",
        "--skip",
        "analysis",
        "--skip",
        "report",
        "--nlp",
        "regex",
    ]
    refused = runner.invoke(app, [*args, "--policy", str(policy)])
    assert refused.exit_code != 0
    assert "simulation evidence" in str(refused.exception) and "DEBUG" in str(refused.exception)
    assert service.server.bytes_received == 0 and not out.exists()
    runner.invoke(app, ["tee", "policy", "init", "--simulation", "--force", "--out", str(policy)])
    done = runner.invoke(app, [*args, "--policy", str(policy)])
    assert done.exit_code == 0, done.output
    assert "SIMULATION — NOT ATTESTED" in done.output
    checked = runner.invoke(app, ["tee", "verify-receipt", str(out), "--policy", str(policy)])
    assert checked.exit_code == 0 and "receipt valid" in checked.output and "NOT ATTESTED" in checked.output
    (out / "events.jsonl").write_bytes(b"{}\n")
    broken = runner.invoke(app, ["tee", "verify-receipt", str(out)])
    assert broken.exit_code != 0 and "events.jsonl differs" in str(broken.exception)


def test_unreachable_or_plain_http_services_are_named(sim_policy: Policy) -> None:
    import socket

    from ppcti.errors import TeeError

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TeeError, match="cannot reach the service"):
        AttestedConnection(f"https://127.0.0.1:{port}", sim_policy, timeout=5).connect()
    with pytest.raises(TeeError, match=r"must be https://HOST:PORT"):
        AttestedConnection(f"http://127.0.0.1:{port}", sim_policy)
