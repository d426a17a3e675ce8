"""FHE capability: the holder's side of private blacklist correlation (docs/fhe.md), with a server that
only ever sees public keys and ciphertexts.

The holder makes a key pair on their own machine (``ppcti fhe keygen``) and uploads the public key; the
server answers the run's addresses as an encrypted query (CTIEncrypt-K, ``ppcti.fhe.encrypt_cti``): the
ZIP holds ``query.fhe`` (ciphertexts, for the correlation service) and ``mapping.json`` (which slot holds
which address). The server built the query from addresses it already holds, so the mapping tells it
nothing new; it keeps neither the query nor the mapping, only a note of the query's id and key id. The
correlation result is encrypted under the holder's key and is decrypted by the holder alone
(``ppcti fhe decrypt``). If the holder then chooses to upload ``fhe_matches.json``, the page shows
found / not found per address; that file holds only the found bits (never a secret key or a ciphertext
decryption), and the server keeps only the entries for addresses of this run.

No route accepts, stores or uses a secret key: a secret-key file sent as the public key is refused.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import tenseal  # noqa: F401 (an optional dependency: without it the capability is absent)
from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response

from ppcti.api.capabilities import Capability, PageAction
from ppcti.api.results import JSON_OBJECT, JSONBytes
from ppcti.api.routers.common import RunDir
from ppcti.errors import FHEError
from ppcti.fhe.decryption import MATCHES_NAME
from ppcti.fhe.fileformat import parse_bytes
from ppcti.fhe.query import MAPPING_NAME, QUERY_NAME
from ppcti.outdir import write_atomic

router = APIRouter(tags=["fhe"])

#: What the server notes about the last query it made (ids and counts, no address).
QUERY_NOTE = "fhe-query.json"
#: The found bits the holder chose to upload.
MATCHES = "fhe-matches.json"
#: Largest public key accepted (SEAL BFV public and relinearisation keys are a few MB).
MAX_KEY_BYTES = 64 * 1024 * 1024
#: Largest matches file accepted.
MAX_MATCHES_BYTES = 16 * 1024 * 1024


def _read_limited(stream: Any, limit: int, what: str) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise FHEError(f"{what} is larger than {limit} bytes")
    if not data:
        raise FHEError(f"{what} is empty")
    return bytes(data)


def make_query(run_dir: Path, public_key: bytes) -> bytes:
    """The run's addresses encrypted under ``public_key``, as a ZIP of ``query.fhe`` and ``mapping.json``."""
    from ppcti.fhe import encrypt_cti

    try:  # checked in memory first: nothing but a well-formed public key file is written anywhere
        parse_bytes(public_key, "public-key", "uploaded key")
    except FHEError as exc:
        if "secret-key" in exc.message:
            raise FHEError("this is a secret key: keep it on your machine and upload public.key") from None
        raise
    with tempfile.TemporaryDirectory(prefix="ppcti-fhe-") as tmp:
        key_path = Path(tmp) / "public.key"
        key_path.write_bytes(public_key)
        out = Path(tmp) / "query"
        summary = encrypt_cti(run_dir, key_path, out)
        mapping = orjson.loads((out / MAPPING_NAME).read_bytes())
        # server paths mean nothing on the holder's machine
        mapping.update(input=run_dir.name, bundles_path=None)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(out / QUERY_NAME, QUERY_NAME)
            zf.writestr(MAPPING_NAME, orjson.dumps(mapping))
    note = {
        "query_id": mapping["query_id"],
        "key_id": mapping["key_id"],
        "params_fingerprint": mapping["params_fingerprint"],
        "addresses": summary.addresses,
        "ciphertexts": summary.ciphertexts,
        "query_bytes": summary.query_bytes,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    write_atomic(run_dir / QUERY_NOTE, orjson.dumps(note))
    return buffer.getvalue()


def _zip_response(data: bytes) -> Response:
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="fhe-query.zip"'},
    )


@router.post(
    "/fhe/query",
    summary="Encrypt the run's addresses under the holder's public key (ZIP: query.fhe, mapping.json)",
    response_class=Response,
    responses={
        200: {"description": "A ZIP archive", "content": {"application/zip": {}}},
        400: {"description": "Not a public key file (or a secret key)"},
    },
)
def post_fhe_query(
    run_dir: RunDir,
    public_key: Annotated[UploadFile, File(description="public.key from `ppcti fhe keygen`")],
) -> Response:
    return _zip_response(make_query(run_dir, _read_limited(public_key.file, MAX_KEY_BYTES, "public key")))


def _run_addresses(run_dir: Path) -> set[str]:
    from ppcti.fhe.sources import select_addresses

    return {a.value for a in select_addresses(run_dir).addresses.values()}


def keep_matches(run_dir: Path, raw: bytes) -> dict[str, Any]:
    """Check an uploaded ``fhe_matches.json`` and keep its found bits for this run's addresses."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise FHEError(f"not valid JSON: upload the {MATCHES_NAME} that ppcti fhe decrypt wrote") from None
    rows = doc.get("matches") if isinstance(doc, dict) else None
    if not isinstance(rows, list) or not all(
        isinstance(r, dict) and isinstance(r.get("value"), str) and isinstance(r.get("found"), bool)
        for r in rows
    ):
        raise FHEError(f'not a {MATCHES_NAME}: expected {{"matches": [{{"value": ..., "found": true}}]}}')
    ours = _run_addresses(run_dir)
    kept = [{"value": r["value"], "found": r["found"]} for r in rows if r["value"] in ours]
    if not kept:
        raise FHEError("none of these addresses is one of this upload's: was the query made for it?")
    stored = {
        "matches": kept,
        "ignored": len(rows) - len(kept),
        "uploaded": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    write_atomic(run_dir / MATCHES, orjson.dumps(stored))
    return stored


def fhe_view(run_dir: Path) -> dict[str, Any]:
    """The last query's note and the uploaded found bits (found first), when there are any."""
    note = run_dir / QUERY_NOTE
    matches = run_dir / MATCHES
    stored = orjson.loads(matches.read_bytes()) if matches.is_file() else None
    rows = sorted(stored["matches"], key=lambda r: (not r["found"], r["value"])) if stored else None
    return {
        "query": orjson.loads(note.read_bytes()) if note.is_file() else None,
        "matches": rows,
        "found": sum(1 for r in rows if r["found"]) if rows else 0,
        "ignored": stored.get("ignored", 0) if stored else 0,
        "uploaded": stored.get("uploaded") if stored else None,
    }


@router.post(
    "/fhe/matches",
    summary="Upload the found bits the holder decrypted (fhe_matches.json) to show them",
    response_class=JSONBytes,
    responses={**JSON_OBJECT, 400: {"description": "Not an fhe_matches.json of this upload"}},
)
def post_fhe_matches(
    run_dir: RunDir,
    matches: Annotated[UploadFile, File(description="fhe_matches.json from `ppcti fhe decrypt`")],
) -> JSONBytes:
    keep_matches(run_dir, _read_limited(matches.file, MAX_MATCHES_BYTES, "matches file"))
    return JSONBytes(fhe_view(run_dir))


@router.get(
    "/fhe",
    summary="The last encrypted query made, and the found bits the holder uploaded",
    response_class=JSONBytes,
    responses=JSON_OBJECT,
)
def get_fhe(run_dir: RunDir) -> JSONBytes:
    return JSONBytes(fhe_view(run_dir))


def _context(run_dir: Path, _params: Mapping[str, str]) -> dict[str, Any]:
    return {"fhe": fhe_view(run_dir)}


def _action(action: PageAction) -> dict[str, Any] | Response:
    key, found = action.form.get("public_key"), action.form.get("matches")
    if key is not None and not isinstance(key, str) and key.filename:
        return _zip_response(make_query(action.run_dir, _read_limited(key.file, MAX_KEY_BYTES, "public key")))
    if found is not None and not isinstance(found, str) and found.filename:
        keep_matches(action.run_dir, _read_limited(found.file, MAX_MATCHES_BYTES, "matches file"))
        return {"fhe": fhe_view(action.run_dir), "saved": True}
    raise FHEError("choose a file: your public.key, or the fhe_matches.json you decrypted")


CAPABILITY = Capability(
    name="fhe",
    title="FHE correlation",
    requires=("events.jsonl",),
    router=router,
    template="fhe.html",
    context=_context,
    action=_action,
)
