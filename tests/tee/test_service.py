"""Whole sessions through the real service on loopback: outputs, receipts, cleanup, isolation, limits."""

from __future__ import annotations

import tempfile
import threading
import uuid
from pathlib import Path

import orjson
import pytest
from tee_helpers import FAST, ServiceHandle, files_containing, firewall_upload

from ppcti.errors import TeeError
from ppcti.pipeline import RunOptions, run_pipeline
from ppcti.tee.client import AttestedConnection, submit
from ppcti.tee.limits import Limits
from ppcti.tee.policy import Policy
from ppcti.tee.receipt import verify_receipt_dir
from ppcti.tee.verify import SIMULATION_VERDICT

RUN_FILES = {
    "events.jsonl",
    "rejects.jsonl",
    "summary.json",
    "pii.json",
    "kg.ttl",
    "insights.json",
    "report.html",
}


def test_submit_writes_what_run_writes_plus_fhe_attestation_receipt(
    service: ServiceHandle, sim_policy: Policy, public_key: Path, tmp_path: Path, private_tmp: Path
) -> None:
    marker = f"MRK{uuid.uuid4().hex[:12]}"
    upload = firewall_upload(tmp_path / "fw.txt", marker)
    out = tmp_path / "out"
    stages: list[str] = []
    result = submit(
        upload,
        holder="acme",
        service_url=service.url,
        policy=sim_policy,
        public_key=public_key,
        out=out,
        options={"nlp": "regex"},
        progress=lambda stage, done, total: stages.append(stage),
        poll=0.1,
    )
    reference = tmp_path / "reference"
    run_pipeline([upload], RunOptions(holder="acme", out=reference, nlp="regex"))
    made = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    expected = {p.relative_to(reference).as_posix() for p in reference.rglob("*") if p.is_file()}
    assert expected >= RUN_FILES
    assert made == expected | {"query.fhe", "mapping.json", "attestation.json", "receipt.json"}
    assert (out / "events.jsonl").read_bytes() == (reference / "events.jsonl").read_bytes()
    assert stages[0].startswith("upload") and stages[-1] == "seal results"
    receipt = orjson.loads((out / "receipt.json").read_bytes())["receipt"]
    assert receipt["verdict"] == SIMULATION_VERDICT
    assert receipt["upload"]["sha256"] == result.upload_sha256
    assert receipt["files_removed"] is True
    assert set(receipt["results"]) == made - {"attestation.json", "receipt.json"}
    attestation = orjson.loads((out / "attestation.json").read_bytes())
    assert attestation["verdict"] == SIMULATION_VERDICT and "SIMULATION" in attestation["WARNING"]
    verify_receipt_dir(out, policy=sim_policy)
    # nothing of the upload is left with the service: state folder, temp folder, shared memory
    assert files_containing([service.state, private_tmp, Path("/dev/shm")], marker) == []
    assert list((service.state / "sessions").iterdir()) == []
    assert files_containing([out], marker)  # while the results do hold it (the check can fail)


def test_receipt_tampering_is_caught_offline(
    service: ServiceHandle, sim_policy: Policy, public_key: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    upload = firewall_upload(tmp_path / "fw.txt", "tamper")
    submit(
        upload,
        holder="acme",
        service_url=service.url,
        policy=sim_policy,
        public_key=public_key,
        out=out,
        options=FAST,
        poll=0.1,
    )
    verify_receipt_dir(out)
    document = orjson.loads((out / "receipt.json").read_bytes())
    document["receipt"]["session_key_destroyed_at"] = "2000-01-01T00:00:00.000Z"
    (out / "receipt.json").write_bytes(orjson.dumps(document))
    with pytest.raises(TeeError, match="signature does not verify"):
        verify_receipt_dir(out)


def test_concurrent_sessions_never_see_each_others_files(
    service: ServiceHandle, sim_policy: Policy, public_key: Path, tmp_path: Path
) -> None:
    markers = [f"ISO{uuid.uuid4().hex[:10]}" for _ in range(2)]
    errors: list[BaseException] = []
    seen_folders: list[set[str]] = []

    def one(index: int) -> None:
        try:
            upload = firewall_upload(tmp_path / f"up{index}.txt", markers[index])
            submit(
                upload,
                holder=f"holder{index}",
                service_url=service.url,
                policy=sim_policy,
                public_key=public_key,
                out=tmp_path / f"out{index}",
                options=FAST,
                poll=0.05,
            )
        except BaseException as exc:  # reported below
            errors.append(exc)

    def watch(stop: threading.Event) -> None:
        while not stop.is_set():
            names = {p.name for p in (service.state / "sessions").iterdir()}
            if len(names) > 1:
                seen_folders.append(names)
            stop.wait(0.02)

    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(stop,))
    watcher.start()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watcher.join()
    assert errors == []
    for index, marker in enumerate(markers):
        other = markers[1 - index]
        out = tmp_path / f"out{index}"
        assert files_containing([out], marker), "own data missing"
        assert files_containing([out], other) == [], "another session's data leaked in"
        assert orjson.loads((out / "receipt.json").read_bytes())["receipt"]["holder"] == f"holder{index}"
    assert seen_folders, "the two sessions never overlapped; the test proved nothing"


def test_upload_over_the_limit_is_refused_clearly(
    service_factory, sim_policy: Policy, public_key: Path, tmp_path: Path
) -> None:
    handle = service_factory(Limits(max_upload_bytes=1000))
    upload = firewall_upload(tmp_path / "big.txt", "big", lines=50)
    with pytest.raises(
        TeeError, match=r"HTTP 413\): upload of \d+ bytes is over the service's limit of 1000"
    ):
        submit(
            upload,
            holder="acme",
            service_url=handle.url,
            policy=sim_policy,
            public_key=public_key,
            out=tmp_path / "o",
        )
    assert list((handle.state / "sessions").iterdir()) == []


def test_too_many_sessions_are_refused_and_timeouts_shred(service_factory, sim_policy: Policy) -> None:
    handle = service_factory(Limits(max_sessions=1, session_timeout=1))
    link = AttestedConnection(handle.url, sim_policy)
    body = orjson.dumps({"holder": "a", "upload_name": "x.txt", "upload_size": 10})
    status, answer = link.request("POST", "/v1/sessions", body)
    assert status == 201
    opened = orjson.loads(answer)
    status, answer = link.request("POST", "/v1/sessions", body)
    assert status == 503 and b"busy" in answer
    link.close()
    folder = handle.state / "sessions" / opened["session"]
    assert folder.is_dir()
    handle.service.store.expire(now=opened["deadline"] + 5)
    assert not folder.exists()
    status, answer = AttestedConnection(handle.url, sim_policy).request(
        "GET", f"/v1/sessions/{opened['session']}", headers={"Authorization": f"Bearer {opened['token']}"}
    )
    assert status == 404


def test_a_session_needs_its_token(service: ServiceHandle, sim_policy: Policy) -> None:
    link = AttestedConnection(service.url, sim_policy)
    status, answer = link.request(
        "POST", "/v1/sessions", orjson.dumps({"holder": "a", "upload_name": "x.txt", "upload_size": 10})
    )
    session = orjson.loads(answer)["session"]
    status, _ = link.request("GET", f"/v1/sessions/{session}", headers={"Authorization": "Bearer wrong"})
    link.close()
    assert status == 404


def test_failed_processing_is_reported_and_shredded(
    service: ServiceHandle, sim_policy: Policy, public_key: Path, tmp_path: Path
) -> None:
    upload = tmp_path / "notes.txt"
    upload.write_text("nothing that looks like a log line\n" * 5)
    with pytest.raises(TeeError, match="no file in the upload holds a recognised log format"):
        submit(
            upload,
            holder="acme",
            service_url=service.url,
            policy=sim_policy,
            public_key=public_key,
            out=tmp_path / "o",
            poll=0.05,
        )
    assert list((service.state / "sessions").iterdir()) == []
    assert tempfile.gettempdir() != "/tmp"  # the fixture's private folder was in force
