"""scripts/kafka itself: a second broker on other ports, started, checked and stopped idempotently."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from ppcti.bus import BusSettings, Publisher

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "kafka"


def _free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as a, socket.socket() as b:
            try:
                a.bind(("127.0.0.1", 0))
                port = a.getsockname()[1]
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise AssertionError("no two free neighbouring ports")


def test_start_status_stop_are_idempotent(tmp_path: Path, kafka_bootstrap: str) -> None:
    port = _free_port_pair()
    env = {k: v for k, v in os.environ.items() if k != "PPCTI_KAFKA_CONTROLLER_PORT"}
    env.update({"PPCTI_KAFKA_PORT": str(port), "PPCTI_KAFKA_HOME": str(tmp_path / "kafka")})
    shared_libs = ROOT / ".kafka" / "libs"
    if (shared_libs / ".pom.sha256").is_file():  # reuse the jars the main broker runs from
        env["PPCTI_KAFKA_LIBS"] = str(shared_libs)

    def run(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(SCRIPT), command], env=env, capture_output=True, text=True, timeout=300, check=False
        )

    assert run("status").returncode == 1
    try:
        started = run("start")
        assert started.returncode == 0, started.stderr
        assert f"ready on 127.0.0.1:{port}" in started.stdout
        assert (tmp_path / "kafka" / "data" / "meta.properties").is_file()
        again = run("start")
        assert again.returncode == 0
        assert "already running" in again.stdout
        status = run("status")
        assert status.returncode == 0
        assert f"running on 127.0.0.1:{port}" in status.stdout

        settings = BusSettings(f"127.0.0.1:{port}", connect_timeout_s=10)
        with Publisher(settings) as publisher:
            publisher.publish("insights", {"ok": True}, run_id="r", holder="h")
        assert publisher.report.delivered == 1
    finally:
        stopped = run("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stdout
    assert run("status").returncode == 1
    assert "not running" in run("stop").stdout
