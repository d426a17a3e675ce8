"""The FHE capability end to end: the holder makes keys on their side, the server answers the run's
addresses as an encrypted query under the public key, a blacklist owner and the correlation server do
their parts, the holder decrypts, and the found bits uploaded back are shown per address. The server
never receives a secret key: one sent in its place is refused before anything is written."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from webapp_fixtures import PASSWORD, Finished

pytest.importorskip("tenseal")

from ppcti.fhe import correlate, decrypt, encrypt_blacklist
from ppcti.fhe.sources import select_addresses


def _holder_side(query_zip: bytes, keys: Path, blacklist: list[str], tmp: Path) -> bytes:
    """What happens away from the server: blacklist owner, correlation service, holder's decryption."""
    with zipfile.ZipFile(io.BytesIO(query_zip)) as zf:
        assert sorted(zf.namelist()) == ["mapping.json", "query.fhe"]
        zf.extractall(tmp / "q")
    (tmp / "list.txt").write_text("\n".join(blacklist) + "\n")
    encrypt_blacklist([tmp / "list.txt"], keys / "public.key", tmp / "bl.fhe")
    correlate(keys / "public.key", tmp / "q" / "query.fhe", tmp / "bl.fhe", tmp / "r.fhe", threads=1)
    decrypt(tmp / "r.fhe", keys / "secret.key", tmp / "q" / "mapping.json", tmp / "out")
    return (tmp / "out" / "fhe_matches.json").read_bytes()


def test_encrypted_query_and_found_bits(finished: Finished, fhe_keys: Path, tmp_path: Path) -> None:
    c, h, uid = finished.world.client, finished.acme, finished.upload_id
    run = finished.world.data / "runs" / uid
    ours = [a.value for a in select_addresses(run).addresses.values()]
    r = c.post(
        f"/api/v1/uploads/{uid}/fhe/query",
        files={"public_key": ("public.key", (fhe_keys / "public.key").read_bytes())},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        mapping = orjson.loads(zf.read("mapping.json"))
    assert [v["value"] for v in mapping["values"]] == ours
    assert str(finished.world.data) not in json.dumps(mapping)  # no server path in what the holder gets
    note = c.get(f"/api/v1/uploads/{uid}/fhe", headers=h).json()["query"]
    assert note["query_id"] == mapping["query_id"] and note["addresses"] == len(ours)
    listed = [ours[0], ours[-1], "192.0.2.200"]
    found = _holder_side(r.content, fhe_keys, listed, tmp_path)
    up = c.post(f"/api/v1/uploads/{uid}/fhe/matches", files={"matches": ("m.json", found)}, headers=h)
    assert up.status_code == 200, up.text
    view = c.get(f"/api/v1/uploads/{uid}/fhe", headers=h).json()
    assert {m["value"] for m in view["matches"] if m["found"]} == {ours[0], ours[-1]}
    assert view["found"] == 2 and len(view["matches"]) == len(ours)
    # the server's copy holds the found bits only
    kept = json.loads((run / "fhe-matches.json").read_text())
    assert all(set(m) == {"value", "found"} for m in kept["matches"])
    # nothing secret anywhere in the server's folders
    secret = (fhe_keys / "secret.key").read_bytes()[-32:]
    for path in finished.world.data.rglob("*"):
        assert not path.is_file() or secret not in path.read_bytes(), path


def test_a_secret_key_or_a_foreign_file_is_refused(finished: Finished, fhe_keys: Path) -> None:
    c, h, uid = finished.world.client, finished.acme, finished.upload_id
    secret = (fhe_keys / "secret.key").read_bytes()
    r = c.post(f"/api/v1/uploads/{uid}/fhe/query", files={"public_key": ("k", secret)}, headers=h)
    assert r.status_code == 400 and "secret key" in r.json()["detail"]
    assert "/tmp" not in r.text
    junk = c.post(f"/api/v1/uploads/{uid}/fhe/query", files={"public_key": ("k", b"hello")}, headers=h)
    assert junk.status_code == 400 and "not a ppcti FHE" in junk.json()["detail"]
    for bad in (
        b"{",
        b'{"matches": [{"value": 1}]}',
        b'{"matches": [{"value": "192.0.2.1", "found": true}]}',
    ):
        r = c.post(f"/api/v1/uploads/{uid}/fhe/matches", files={"matches": ("m.json", bad)}, headers=h)
        assert r.status_code == 400, bad


def test_fhe_page_gives_the_query_and_shows_yes_or_no(finished: Finished, fhe_keys: Path) -> None:
    browser = TestClient(finished.world.app)
    r = browser.post(
        "/signin", data={"email": "adam@acme.test", "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303
    uid = finished.upload_id
    page = browser.get(f"/uploads/{uid}/fhe")
    assert page.status_code == 200 and 'for="fhe-public-key"' in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    key = {"public_key": ("public.key", (fhe_keys / "public.key").read_bytes())}
    assert browser.post(f"/uploads/{uid}/fhe", files=key).status_code == 403
    got = browser.post(f"/uploads/{uid}/fhe", files=key, data={"csrf_token": csrf.group(1)})
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    ours = [a.value for a in select_addresses(finished.world.data / "runs" / uid).addresses.values()]
    found = {"matches": [{"value": v, "found": i == 0, "entries": []} for i, v in enumerate(ours)]}
    found["matches"].append({"value": "<script>alert(1)</script>", "found": True, "entries": []})
    shown = browser.post(
        f"/uploads/{uid}/fhe",
        files={"matches": ("fhe_matches.json", orjson.dumps(found))},
        data={"csrf_token": csrf.group(1)},
    )
    assert shown.status_code == 200 and 'id="fhe-saved"' in shown.text
    assert '<dd id="fhe-found">1</dd>' in shown.text
    assert shown.text.count('class="found-yes">yes</td>') == 1
    assert shown.text.count('class="found-no">no</td>') == len(ours) - 1
    assert "<script>alert" not in shown.text and "1 entries named addresses" in shown.text
    empty = browser.post(f"/uploads/{uid}/fhe", data={"csrf_token": csrf.group(1)})
    assert empty.status_code == 400 and 'role="alert"' in empty.text
