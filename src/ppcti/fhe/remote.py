"""The holder's side of the correlation service: send a query, get the encrypted result, decrypt.

:func:`request_correlation` is ``ppcti fhe correlate`` over HTTP(S); :func:`lookup` is the whole round
trip for a handful of values (what the MISP module asks), returning one found/not-found per value and
keeping every intermediate file in a private temporary folder that is removed afterwards.
"""

from __future__ import annotations

import os
import ssl
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import quote

import orjson

from ppcti.errors import FHEError
from ppcti.fhe.decryption import decrypt
from ppcti.fhe.encoding import canonical_address
from ppcti.fhe.fileformat import parse_bytes
from ppcti.fhe.query import encrypt_cti

#: Seconds a correlation request may take (a large blacklist on two cores takes minutes).
DEFAULT_TIMEOUT = 900.0


def request_correlation(
    server: str,
    query: bytes,
    *,
    blacklist: str | None = None,
    token: str | None = None,
    tls: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> bytes:
    """POST a query container to the service; the verified result container's bytes."""
    url = server.rstrip("/") + "/v1/correlate"
    if blacklist is not None:
        url += "?blacklist=" + quote(blacklist, safe="")
    req = urllib.request.Request(url, data=query, method="POST")
    req.add_header("Content-Type", "application/octet-stream")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=tls) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        try:
            message = orjson.loads(exc.read()).get("error", exc.reason)
        except (orjson.JSONDecodeError, AttributeError):
            message = exc.reason
        raise FHEError(f"correlation service refused the query (HTTP {exc.code}): {message}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ssl.SSLError):
            raise FHEError(f"TLS connection to the correlation service refused: {reason.reason}") from None
        raise FHEError(f"correlation service unreachable: {reason}") from None
    parse_bytes(body, "result", "service response")  # refuse a damaged answer before anyone decrypts it
    return body


def lookup(
    values: Sequence[str],
    public: str | os.PathLike[str],
    secret: str | os.PathLike[str],
    server: str | Callable[[bytes], bytes],
    *,
    blacklist: str | None = None,
    token: str | None = None,
    tls: ssl.SSLContext | None = None,
) -> dict[str, bool]:
    """Found/not-found per canonical address; values that are not addresses are left out of the query.

    ``server`` is the correlation service's URL, or a function that takes the query container and
    returns the result container (the sharded Kafka path, :func:`ppcti.bus.fhe.correlate_over_kafka`).
    """
    wanted = {}
    for value in values:
        found = canonical_address(value)
        if found is not None:
            wanted[value] = found[1]
    if not wanted:
        return {}
    with tempfile.TemporaryDirectory(prefix="ppcti-lookup-") as tmp:
        work = Path(tmp)
        (work / "values.txt").write_text("\n".join(sorted(set(wanted.values()))) + "\n", encoding="utf-8")
        encrypt_cti(work / "values.txt", public, work / "q")
        query = (work / "q" / "query.fhe").read_bytes()
        if callable(server):
            result = server(query)
        else:
            result = request_correlation(server, query, blacklist=blacklist, token=token, tls=tls)
        (work / "result.fhe").write_bytes(result)
        decrypt(work / "result.fhe", secret, work / "q" / "mapping.json", work / "out")
        matches = orjson.loads((work / "out" / "fhe_matches.json").read_bytes())["matches"]
    found_by_value = {m["value"]: bool(m["found"]) for m in matches}
    return {value: found_by_value.get(canon, False) for value, canon in wanted.items()}
