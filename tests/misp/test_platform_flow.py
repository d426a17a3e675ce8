"""The whole platform flow, each party in its own folder, through the command line and real servers.

holder keygen → ppcti run → encrypted query → blacklist owner encrypts a MISP feed → correlation
service correlates → holder decrypts and marks its STIX → publishes to TAXII and exports to MISP.
Afterwards every party's files are searched for values it may not see: the holder's addresses only at
the holder, the owner's list only at the owner, neither at the correlation service.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
from servers import child_env, ppcti_command, start_fhe_service, stop
from taxii2client.v21 import Collection, as_pages

pytest.importorskip("tenseal")
pytest.importorskip("pymisp")

pytestmark = pytest.mark.slow

#: Every IPv4 address and e-mail address in a text (one linear pass, then set intersection).
_TOKEN = re.compile(
    rb"[0-9a-z._%+-]+@[0-9a-z-]+(?:\.[0-9a-z-]+)+|(?<![0-9.])\d{1,3}(?:\.\d{1,3}){3}(?![0-9])"
)

#: On the owner's list only: addresses the holder never saw (checked against its events below).
OWNER_ONLY = ["192.0.2.201", "192.0.2.202", "198.18.7.7", "owner-only-drop@blacklist.example"]


def ppcti(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> str:
    done = subprocess.run(
        ppcti_command(*args),
        capture_output=True,
        text=True,
        env=env or child_env(),
        timeout=600,
        check=False,
        input=stdin,
    )
    assert done.returncode == 0, f"ppcti {args[0]} {args[1] if len(args) > 1 else ''}: {done.stderr[-3000:]}"
    return done.stdout


def _feed(folder: Path, values: list[str]) -> None:
    """The owner's MISP feed (what a MISP instance exports as a feed)."""
    event_uuid = "8d4b7a2e-3c1f-4e5a-9b6d-0f1e2d3c4b5a"
    attributes = []
    for i, value in enumerate(values):
        kind = "email-src" if "@" in value else "ip-src"
        attributes.append(
            {
                "uuid": f"8d4b7a2e-0000-4000-8000-{i:012d}",
                "type": kind,
                "value": value,
                "to_ids": True,
                "category": "Network activity",
                "timestamp": "1700000000",
            }
        )
    event = {
        "uuid": event_uuid,
        "info": "owner blacklist",
        "date": "2024-01-01",
        "analysis": "2",
        "threat_level_id": "2",
        "timestamp": "1700000000",
        "Orgc": {"name": "owner", "uuid": event_uuid},
        "Attribute": attributes,
    }
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_bytes(orjson.dumps({event_uuid: {"info": "owner blacklist"}}))
    (folder / f"{event_uuid}.json").write_bytes(orjson.dumps({"Event": event}))


def _files_contain(folder: Path, needles: list[str]) -> dict[str, list[str]]:
    """Which of ``needles`` occur in which file under ``folder`` (bytes, case-insensitive)."""
    found: dict[str, list[str]] = {}
    wanted = {n.lower() for n in needles}
    for path in folder.rglob("*"):
        if path.is_file():
            tokens = {t.decode() for t in _TOKEN.findall(path.read_bytes().lower())}
            hits = sorted(tokens & wanted)
            if hits:
                found[str(path.relative_to(folder))] = hits
    return found


def test_holder_owner_service_taxii_misp(
    sample_run: Path, tmp_path: Path, taxii_server: dict[str, str]
) -> None:
    holder, owner, service = tmp_path / "holder", tmp_path / "owner", tmp_path / "service"
    for folder in (holder, owner, service):
        folder.mkdir()
    # the holder: keys and its run (upload to a TEE service would replace `ppcti run` here)
    shutil.copytree(sample_run, holder / "run")
    ppcti("fhe", "keygen", "--out", str(holder / "keys"))
    aggregate = orjson.loads((holder / "run/cti/aggregate.json").read_bytes())
    observations = orjson.loads((holder / "run/cti/observations.json").read_bytes())
    holder_values = sorted(
        {o["value"] for o in observations["objects"] if o["type"] in ("ipv4-addr", "email-addr")}
    )
    attackers = [o["pattern"].split("'")[1] for o in aggregate["objects"] if o["type"] == "indicator"]
    events = (holder / "run/events.jsonl").read_text().lower()
    assert not [v for v in OWNER_ONLY if v.lower() in events]
    ppcti(
        "fhe",
        "encrypt-cti",
        str(holder / "run"),
        "--public",
        str(holder / "keys/public.key"),
        "--out",
        str(holder / "query"),
    )

    # the blacklist owner: its own MISP feed (three of the holder's attackers, known independently)
    listed = [a for a in attackers if "@" not in a][:2] + [a for a in attackers if "@" in a][:1]
    assert len(listed) == 3
    _feed(owner / "feed", listed + OWNER_ONLY)
    shutil.copy(holder / "keys/public.key", owner / "holder-public.key")
    out = ppcti(
        "fhe",
        "encrypt-blacklist",
        str(owner / "feed"),
        "--public",
        str(owner / "holder-public.key"),
        "--out",
        str(owner / "bl.fhe"),
        "--name",
        "owner-drop",
        "--threads",
        "1",
    )
    assert f"{len(listed) + len(OWNER_ONLY)} entries" in out

    # the correlation service: public key and encrypted blacklist only
    shutil.copy(holder / "keys/public.key", service / "public.key")
    shutil.copy(owner / "bl.fhe", service / "bl.fhe")
    proc, url = start_fhe_service(
        "--blacklist", str(service / "bl.fhe"), "--public", str(service / "public.key")
    )
    try:
        ppcti(
            "fhe",
            "request",
            "--server",
            url,
            "--query",
            str(holder / "query/query.fhe"),
            "--out",
            str(holder / "result.fhe"),
        )
    finally:
        (service / "service.log").write_text(stop(proc))

    # the holder decrypts: one yes/no per address, its STIX marked
    ppcti(
        "fhe",
        "decrypt",
        str(holder / "result.fhe"),
        "--secret",
        str(holder / "keys/secret.key"),
        "--mapping",
        str(holder / "query/mapping.json"),
        "--out",
        str(holder / "matches"),
        "--stix",
        str(holder / "run/cti/bundles.jsonl"),
    )
    matches = orjson.loads((holder / "matches/fhe_matches.json").read_bytes())["matches"]
    assert sorted(m["value"] for m in matches if m["found"]) == sorted(v.lower() for v in listed)
    marked = (holder / "run/cti/bundles.fhe.jsonl").read_text()
    assert "on blacklist owner-drop" in marked

    # publish: TAXII (aggregate and the marked bundles) and a MISP feed
    env = child_env(PPCTI_TAXII_USER=taxii_server["user"], PPCTI_TAXII_PASSWORD=taxii_server["password"])
    for source in (holder / "run", holder / "run/cti/bundles.fhe.jsonl"):
        ppcti(
            "taxii",
            "push",
            str(source),
            "--server",
            taxii_server["api_root"],
            "--collection",
            taxii_server["collection"],
            env=env,
        )
    coll = Collection(
        f"{taxii_server['api_root']}collections/{taxii_server['collection']}/",
        user=taxii_server["user"],
        password=taxii_server["password"],
    )
    published: list[dict[str, Any]] = [
        o for p in as_pages(coll.get_objects, per_request=5000) for o in p.get("objects", [])
    ]
    ids = {o["id"] for o in published}
    assert {o["id"] for o in aggregate["objects"]} <= ids
    assert any(o["type"] == "note" and "owner-drop" in o.get("content", "") for o in published)
    ppcti("misp", "export", str(holder / "run"), "--out", str(holder / "misp-feed"))
    feed_event = next(p for p in (holder / "misp-feed").glob("*.json") if p.name != "manifest.json")
    assert orjson.loads(feed_event.read_bytes())["Event"]["Tag"][0]["name"] == "tlp:amber"

    # what each party holds
    holder_only = [v for v in holder_values if v.lower() not in {x.lower() for x in listed}]
    assert _files_contain(service, holder_values + OWNER_ONLY) == {}
    assert _files_contain(owner, holder_only) == {}
    assert _files_contain(holder, OWNER_ONLY) == {}
    assert _files_contain(owner, listed)  # the owner's own plain list is where it belongs
