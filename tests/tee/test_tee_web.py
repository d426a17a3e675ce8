"""The API's receipt check: a holder uploads the folder ``ppcti tee submit`` wrote (zipped) and gets what
was verified; a changed result file, a foreign policy or a hostile archive is refused with the reason."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from tee_helpers import ServiceHandle, firewall_upload

from conftest import SIM_MEASUREMENT
from ppcti.tee.client import submit
from ppcti.tee.policy import Policy, policy_template
from ppcti.web.app import create_app
from webapp_fixtures import World, add_people, settings_for


@pytest.fixture
def site(tmp_path: Path) -> Iterator[World]:
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'web.db'}", tmp_path / "data"))
    add_people(app.state.ppcti.db)
    with TestClient(app) as client:
        yield World(client=client, app=app, data=tmp_path / "data")


@pytest.fixture
def results(service: ServiceHandle, tmp_path: Path, public_key: Path, sim_policy: Policy) -> Path:
    upload = firewall_upload(tmp_path / "fw.log", f"WEB{uuid.uuid4().hex[:8]}")
    out = tmp_path / "results"
    submit(
        upload,
        holder="acme",
        service_url=service.url,
        policy=sim_policy,
        public_key=public_key,
        out=out,
        options={"nlp": "regex"},
        progress=lambda *_: None,
        poll=0.1,
    )
    return out


def _zip(folder: Path, change: str | None = None, extra: tuple[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = f"results/{path.relative_to(folder).as_posix()}"
                data = path.read_bytes()
                zf.writestr(name, data + b"\n" if name.endswith(change or "\0") else data)
        if extra:
            zf.writestr(*extra)
    return buffer.getvalue()


def _check(site: World, headers: dict[str, str], archive: bytes, policy: str | None = None) -> Any:
    files = {"results": ("results.zip", archive, "application/zip")}
    if policy is not None:
        files["policy"] = ("policy.yaml", policy.encode(), "application/yaml")
    return site.client.post("/api/v1/tee/receipts", files=files, headers=headers)


def test_a_good_receipt_is_checked_with_and_without_the_policy(site: World, results: Path) -> None:
    headers = site.token("adam@acme.test")
    plain = _check(site, headers, _zip(results))
    assert plain.status_code == 200, plain.text
    body = plain.json()
    assert body["valid"] and body["simulation"] and not body["policy_checked"]
    receipt_files = {p.name for p in results.rglob("*") if p.is_file()} - {"receipt.json", "attestation.json"}
    assert body["results_checked"] == len(receipt_files)
    judged = _check(site, headers, _zip(results), policy_template(simulation_measurement=SIM_MEASUREMENT))
    assert judged.status_code == 200, judged.text
    assert judged.json()["policy_checked"] and judged.json()["measurement"] == SIM_MEASUREMENT


def test_changed_results_a_strict_policy_and_hostile_archives_are_refused(site: World, results: Path) -> None:
    headers = site.token("adam@acme.test")
    changed = _check(site, headers, _zip(results, change="events.jsonl"))
    assert changed.status_code == 400 and "events.jsonl differs" in changed.json()["detail"]
    strict = _check(site, headers, _zip(results), policy_template(simulation_measurement=None))
    assert strict.status_code == 400 and "fails the policy" in strict.json()["detail"]
    escaping = _check(site, headers, _zip(results, extra=("../escape.txt", b"x")))
    assert escaping.status_code == 400 and "outside its folder" in escaping.json()["detail"]
    assert not (results.parent / "escape.txt").exists()
    junk = _check(site, headers, b"not a zip")
    assert junk.status_code == 400 and "not a readable ZIP" in junk.json()["detail"]
    assert site.client.post("/api/v1/tee/receipts", files={"results": ("r.zip", b"x")}).status_code == 401


@pytest.mark.parametrize("name", ["../secret.txt", "/etc/passwd", "a/../../b", "..\\\\b", ""])
def test_a_receipt_cannot_name_files_outside_its_folder(tmp_path: Path, name: str) -> None:
    from ppcti.errors import TeeError
    from ppcti.tee.receipt import result_path

    with pytest.raises(TeeError, match="outside its folder"):
        result_path(tmp_path, name)
    assert result_path(tmp_path, "cti/aggregate.json") == tmp_path / "cti" / "aggregate.json"
