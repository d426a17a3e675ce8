"""Sharded correlation on the real Kafka broker: ``ppcti worker fhe`` processes and the requester.

The broker fixture is the bus tests' (``tests/kafka_fixtures.py``): skipped without a broker, failing
under ``CI=true`` or ``PPCTI_REQUIRE_KAFKA=1``. Every test has a topic prefix and group of its own.
"""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from ppcti.bus import BusSettings
from ppcti.bus.fhe import DEFAULT_FHE_MESSAGE_BYTES, correlate_over_kafka
from ppcti.errors import BusError, FHEError
from ppcti.fhe import decrypt
from ppcti.fhe.shards import shard_blacklist
from ppcti_process import child_env, ppcti_command

pytestmark = pytest.mark.kafka

SHARDS = 3


@pytest.fixture
def fhe_bus(bus_settings: BusSettings) -> BusSettings:
    """The bus tests' settings (a topic prefix of this test's own), with room for FHE messages."""
    return dataclasses.replace(bus_settings, max_message_bytes=DEFAULT_FHE_MESSAGE_BYTES)


@pytest.fixture(scope="module")
def shard_dir(shard_case: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("kafka-shards") / "shards"
    shard_blacklist(shard_case["dir"] / "bl.fhe", shard_case["keys"] / "public.key", SHARDS, out)
    return out


class Workers:
    """``ppcti worker fhe`` child processes of one group; stopped (or killed) at the end."""

    def __init__(self, settings: BusSettings, shards: Path, public: Path) -> None:
        self.settings, self.shards, self.public = settings, shards, public
        self.group = f"fhe-{uuid.uuid4().hex[:8]}"
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, *extra: str) -> subprocess.Popen[str]:
        args = ["worker", "fhe", "--shards", str(self.shards), "--public", str(self.public)]
        args += ["--group", self.group, "--bootstrap", self.settings.bootstrap, *extra]
        proc = subprocess.Popen(
            ppcti_command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(PPCTI_KAFKA_TOPIC_PREFIX=self.settings.topic_prefix, PYTHONUNBUFFERED="1"),
        )
        self.procs.append(proc)
        return proc

    def wait_members(self, count: int, timeout: float = 90.0) -> None:
        """Until ``count`` members of the group each own at least one partition."""
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": self.settings.bootstrap})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self.procs:
                assert proc.poll() is None, (
                    f"worker ended: {proc.stderr.read()[-2000:] if proc.stderr else ''}"
                )
            desc = admin.describe_consumer_groups([self.group])[self.group]
            try:
                members = desc.result(timeout=10).members
            except Exception:  # the group does not exist until the first member joins
                members = []
            if sum(1 for m in members if m.assignment.topic_partitions) >= count:
                return
            time.sleep(0.5)
        raise AssertionError(f"{count} workers did not get partitions within {timeout:g}s")

    def stop(self) -> list[str]:
        """SIGTERM every live worker; the stdout of all (one line per answered shard request)."""
        outs = []
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                out, _err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _err = proc.communicate()
            outs.append(out or "")
        return outs


@pytest.fixture
def workers(fhe_bus: BusSettings, shard_dir: Path, shard_case: dict[str, Any]) -> Iterator[Workers]:
    group = Workers(fhe_bus, shard_dir, shard_case["keys"] / "public.key")
    try:
        yield group
    finally:
        group.stop()


def _decrypted(result: bytes, case: dict[str, Any], tmp: Path) -> dict[str, bool]:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "result.fhe").write_bytes(result)
    decrypt(tmp / "result.fhe", case["keys"] / "secret.key", case["dir"] / "q/mapping.json", tmp / "out")
    matches = orjson.loads((tmp / "out/fhe_matches.json").read_bytes())["matches"]
    return {m["value"]: m["found"] for m in matches}


def test_two_workers_answer_like_the_unsharded_list(
    workers: Workers, fhe_bus: BusSettings, shard_case: dict[str, Any], tmp_path: Path
) -> None:
    workers.start()
    workers.start()
    workers.wait_members(2)
    query = shard_case["dir"] / "q/query.fhe"
    # the command line: same result file as the HTTP path writes
    done = subprocess.run(
        ppcti_command(
            "fhe",
            "request",
            "--kafka",
            fhe_bus.bootstrap,
            "--shards",
            str(SHARDS),
            "--query",
            str(query),
            "--out",
            str(tmp_path / "cli.fhe"),
            "--timeout",
            "120",
        ),
        capture_output=True,
        text=True,
        env=child_env(PPCTI_KAFKA_TOPIC_PREFIX=fhe_bus.topic_prefix),
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert (
        _decrypted((tmp_path / "cli.fhe").read_bytes(), shard_case, tmp_path / "cli") == shard_case["found"]
    )
    # the MISP module's round trip (encrypt, correlate on the shards, decrypt), values on standard input
    listed = [v for v, found in shard_case["found"].items() if found][:2]
    asked = [*listed, "172.16.3.3", "not-an-address"]
    done = subprocess.run(
        ppcti_command(
            "fhe",
            "lookup",
            "--kafka",
            fhe_bus.bootstrap,
            "--shards",
            str(SHARDS),
            "--keys",
            str(shard_case["keys"]),
            "--timeout",
            "120",
        ),
        input="\n".join(asked) + "\n",
        capture_output=True,
        text=True,
        env=child_env(PPCTI_KAFKA_TOPIC_PREFIX=fhe_bus.topic_prefix),
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    answers = {a["value"]: a["found"] for a in map(orjson.loads, done.stdout.splitlines())}
    assert answers == {listed[0]: True, listed[1]: True, "172.16.3.3": False}
    for i in range(3):
        result = correlate_over_kafka(fhe_bus, query.read_bytes(), SHARDS, blacklist="drop", timeout=120)
        assert _decrypted(result, shard_case, tmp_path / f"lib{i}") == shard_case["found"]
    outs = workers.stop()
    answered = [[line for line in out.splitlines() if line.startswith("answered")] for out in outs]
    assert all(answered), "both workers of the group should have answered shards"
    assert sum(len(a) for a in answered) >= 4 * SHARDS


@pytest.mark.slow
def test_a_killed_worker_loses_no_request(
    workers: Workers, fhe_bus: BusSettings, shard_case: dict[str, Any], tmp_path: Path
) -> None:
    victim = workers.start()
    workers.start()
    workers.wait_members(2)
    query = (shard_case["dir"] / "q/query.fhe").read_bytes()
    results: dict[int, bytes | BaseException] = {}

    def ask(i: int) -> None:
        try:
            results[i] = correlate_over_kafka(fhe_bus, query, SHARDS, timeout=180)
        except BaseException as exc:  # reported below, with the others
            results[i] = exc

    threads = [threading.Thread(target=ask, args=(i,), daemon=True) for i in range(6)]
    for thread in threads:
        thread.start()
    assert victim.stdout is not None
    line = victim.stdout.readline()  # the victim has answered one shard request: it is mid-stream
    assert line.startswith("answered"), line
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    by_victim = 1 + sum(1 for line in victim.stdout.read().splitlines() if line.startswith("answered"))
    for thread in threads:
        thread.join(timeout=240)
    assert len(results) == 6
    failures = {i: r for i, r in results.items() if isinstance(r, BaseException)}
    assert not failures
    for i, result in results.items():
        assert isinstance(result, bytes)
        assert _decrypted(result, shard_case, tmp_path / f"r{i}") == shard_case["found"]
    survivor_lines = [line for line in workers.stop()[1].splitlines() if line.startswith("answered")]
    assert by_victim < 6 * SHARDS <= by_victim + len(survivor_lines)
    # the survivor took over the victim's partitions: it answered every shard
    assert {line.rsplit(" shard ", 1)[1].split()[0] for line in survivor_lines} == {"0", "1", "2"}


def test_a_missing_shard_is_a_clear_timeout(
    workers: Workers, fhe_bus: BusSettings, shard_case: dict[str, Any]
) -> None:
    # a worker that answers one shard request and leaves: the other two shards never answer
    one = workers.start("--max-messages", "1")
    query = (shard_case["dir"] / "q/query.fhe").read_bytes()
    started = time.monotonic()
    with pytest.raises(BusError, match=r"no complete answer from shard\(s\) \d, \d of 3 within 20s") as err:
        correlate_over_kafka(fhe_bus, query, SHARDS, timeout=20)
    assert time.monotonic() - started < 60
    assert one.wait(timeout=30) == 0
    assert fhe_bus.topic("fhe-requests") in str(err.value)


def test_a_request_the_workers_cannot_answer_fails_at_once(
    workers: Workers, fhe_bus: BusSettings, shard_case: dict[str, Any]
) -> None:
    workers.start()
    workers.wait_members(1)  # its topic has 3 partitions before a 2-shard request could create one with 2
    query = (shard_case["dir"] / "q/query.fhe").read_bytes()
    started = time.monotonic()
    with pytest.raises(FHEError, match="refused the query: the request expects 2 shards"):
        correlate_over_kafka(fhe_bus, query, 2, timeout=120)
    assert time.monotonic() - started < 100
    small = dataclasses.replace(fhe_bus, max_message_bytes=200_000)
    with pytest.raises(FHEError, match="does not fit one 200000-byte message"):
        correlate_over_kafka(small, query, SHARDS, timeout=5)
