"""``ppcti fhe serve``: the correlation server over HTTP, against the file tools' results."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fhe_helpers import plain_membership

from ppcti.errors import FHEError
from ppcti.fhe import correlate, encrypt_blacklist, encrypt_cti, keygen
from ppcti.fhe.remote import lookup, request_correlation
from ppcti_process import child_env, ppcti_command
from ppcti_process import start_fhe_service as start_service

BLACKLIST = ["203.0.113.0/24 ; SBL1", "198.51.100.7", "phish@evil.example", "2001:db8::/32"]
QUERIES = [
    "203.0.113.9",
    "203.0.114.9",
    "198.51.100.7",
    "198.51.100.8",
    "Phish@evil.example",
    "ok@good.example",
    "2001:db8::5",
    "2001:db9::5",
]
TOKEN = "test-token-not-a-secret"


@pytest.fixture(scope="module")
def service(keys: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("service")
    (tmp / "list.txt").write_text("\n".join(BLACKLIST) + "\n")
    encrypt_blacklist([tmp / "list.txt"], keys / "public.key", tmp / "bl.fhe", name="drop", threads=1)
    env = {**child_env(), "PPCTI_FHE_TOKEN": TOKEN}
    proc, url = start_service(
        "--blacklist", str(tmp / "bl.fhe"), "--public", str(keys / "public.key"), env=env
    )
    try:
        yield {"url": url, "tmp": tmp, "proc": proc}
    finally:
        proc.terminate()  # type: ignore[attr-defined]
        proc.communicate(timeout=30)  # type: ignore[attr-defined]


def test_lookup_matches_plain_membership(service: dict[str, Any], keys: Path) -> None:
    got = lookup(QUERIES, keys / "public.key", keys / "secret.key", service["url"], token=TOKEN)
    want = plain_membership(QUERIES, BLACKLIST)
    assert {v: got[v] for v in QUERIES} == {v: want[v.lower() if "@" in v else v] for v in QUERIES}
    assert sum(got.values()) == 4


def test_service_result_equals_file_tool(service: dict[str, Any], keys: Path, tmp_path: Path) -> None:
    """Same query, same blacklist: the service's answer decrypts like the CLI tool's."""
    (tmp_path / "q.txt").write_text("\n".join(QUERIES) + "\n")
    encrypt_cti(tmp_path / "q.txt", keys / "public.key", tmp_path / "q")
    query = (tmp_path / "q/query.fhe").read_bytes()
    remote = request_correlation(service["url"], query, blacklist="drop", token=TOKEN)
    correlate(
        keys / "public.key",
        tmp_path / "q/query.fhe",
        service["tmp"] / "bl.fhe",
        tmp_path / "local.fhe",
        threads=1,
    )
    from ppcti.fhe.decryption import decrypt

    (tmp_path / "remote.fhe").write_bytes(remote)
    found = []
    for name in ("remote", "local"):
        summary = decrypt(
            tmp_path / f"{name}.fhe", keys / "secret.key", tmp_path / "q/mapping.json", tmp_path / name
        )
        assert summary.blacklist == "drop"
        data = orjson.loads((tmp_path / name / "fhe_matches.json").read_bytes())
        found.append({m["value"]: m["found"] for m in data["matches"]})
    assert found[0] == found[1]
    assert sum(found[0].values()) == 4


def _get(url: str, token: str | None = TOKEN) -> tuple[int, Any]:
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, orjson.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, orjson.loads(exc.read())


def test_listing_and_token(service: dict[str, Any], keys: Path) -> None:
    status, listed = _get(service["url"] + "/v1/blacklists")
    assert status == 200
    assert [b["name"] for b in listed] == ["drop"]
    assert set(listed[0]["kinds"]) >= {"ip4/32", "email"}
    assert _get(service["url"] + "/v1/blacklists", token=None)[0] == 401
    assert _get(service["url"] + "/v1/blacklists", token="wrong")[0] == 401
    assert _get(service["url"] + "/v1/nothing")[0] == 404


def test_refusals_are_clear(service: dict[str, Any], keys: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    keygen(other)
    (tmp_path / "q.txt").write_text("192.0.2.1\n")
    encrypt_cti(tmp_path / "q.txt", other / "public.key", tmp_path / "q")
    query = (tmp_path / "q/query.fhe").read_bytes()
    with pytest.raises(FHEError, match="0 blacklists fit"):
        request_correlation(service["url"], query, token=TOKEN)
    with pytest.raises(FHEError, match=r"HTTP 400.*other FHE parameters"):
        request_correlation(service["url"], query, blacklist="drop", token=TOKEN)
    with pytest.raises(FHEError, match="HTTP 404"):
        request_correlation(service["url"], query, blacklist="nope", token=TOKEN)
    with pytest.raises(FHEError, match="bad magic"):
        request_correlation(service["url"], b"garbage", token=TOKEN)
    with pytest.raises(FHEError, match="HTTP 401"):
        request_correlation(service["url"], query, token=None)
    with pytest.raises(FHEError, match="unreachable"):
        request_correlation("http://127.0.0.1:9", query)


def test_lookup_command_reads_stdin(service: dict[str, Any], keys: Path) -> None:
    done = subprocess.run(
        ppcti_command("fhe", "lookup", "--server", service["url"], "--keys", str(keys)),
        input="198.51.100.7\nnot an address\n10.9.9.9\n",
        capture_output=True,
        text=True,
        env={**child_env(), "PPCTI_FHE_TOKEN": TOKEN},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert lines == [{"value": "198.51.100.7", "found": True}, {"value": "10.9.9.9", "found": False}]


def test_serve_refuses_a_blacklist_without_its_key(
    keys: Path, tmp_path: Path, service: dict[str, Any]
) -> None:
    other = tmp_path / "other"
    keygen(other)
    done = subprocess.run(
        ppcti_command(
            "fhe",
            "serve",
            "--blacklist",
            str(service["tmp"] / "bl.fhe"),
            "--public",
            str(other / "public.key"),
            "--listen",
            "127.0.0.1:0",
        ),
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "key the service was not given" in done.stderr
    assert "Traceback" not in done.stderr


def test_https_with_a_private_ca(keys: Path, service: dict[str, Any], tmp_path: Path) -> None:
    """--tls-cert/--tls-key serve HTTPS; the client checks the certificate against --cafile."""
    import shutil

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl command not installed")
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(tmp_path / "key.pem"),
            "-out",
            str(tmp_path / "cert.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    proc, url = start_service(
        "--blacklist",
        str(service["tmp"] / "bl.fhe"),
        "--public",
        str(keys / "public.key"),
        "--tls-cert",
        str(tmp_path / "cert.pem"),
        "--tls-key",
        str(tmp_path / "key.pem"),
    )
    try:
        assert url.startswith("https://")
        import ssl

        tls = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        got = lookup(["198.51.100.7", "198.51.100.8"], keys / "public.key", keys / "secret.key", url, tls=tls)
        assert got == {"198.51.100.7": True, "198.51.100.8": False}
        with pytest.raises(FHEError, match=r"TLS connection .* refused: CERTIFICATE_VERIFY_FAILED"):
            lookup(["198.51.100.7"], keys / "public.key", keys / "secret.key", url)
    finally:
        proc.terminate()  # type: ignore[attr-defined]
        proc.communicate(timeout=30)  # type: ignore[attr-defined]
