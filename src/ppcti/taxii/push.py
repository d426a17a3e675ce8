"""Push a bundle's objects to a TAXII 2.1 collection, in envelopes the server accepts.

A TAXII server limits the size of one request (``max_content_length`` of its API root); the aggregate of
a large run is bigger than that, so objects go in envelopes of at most that many bytes (and at most
``max_objects`` objects), each one's status checked before the next. A server may refuse an object it
already holds (medallion answers "Unable to process object"); refused objects whose id the collection's
manifest lists afterwards are counted as ``already_present``, not as failures, so a push can be repeated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ppcti.errors import FormatError, InputRefused, TaxiiError

#: Envelope size used when the API root does not say (TAXII servers commonly accept 10 MB).
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
#: Objects per envelope at most (keeps each status response small).
DEFAULT_MAX_OBJECTS = 1000


@dataclass(slots=True)
class PushSummary:
    objects: int
    envelopes: int
    succeeded: int = 0
    failed: int = 0
    already_present: int = 0
    status_ids: list[str] = field(default_factory=list)



#: Seconds one HTTP request to a TAXII server may take to connect, and to send each part of its answer.
DEFAULT_REQUEST_TIMEOUT = 30.0


def _connection(user: str | None, password: str | None, verify: bool | str, timeout: float) -> Any:
    """taxii2client's connection, with a timeout on every request (the library sets none)."""
    from requests.adapters import HTTPAdapter
    from taxii2client.common import _HTTPConnection

    class TimeoutAdapter(HTTPAdapter):
        def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            kwargs["timeout"] = kwargs.get("timeout") or timeout
            return super().send(request, **kwargs)

    conn = _HTTPConnection(user=user, password=password, verify=verify, version="2.1")
    for scheme in ("http://", "https://"):
        conn.session.mount(scheme, TimeoutAdapter())
    return conn

def bundle_objects(source: str | Path) -> list[dict[str, Any]]:
    """Objects of a run's ``cti/aggregate.json``, a bundle file, or a file of one bundle per line
    (``bundles.fhe.jsonl`` with the blacklist notes); an object repeated in several bundles once."""
    path = Path(source)
    if path.is_dir():
        path = path / "cti" / "aggregate.json"
    if not path.is_file():
        raise InputRefused("no STIX bundle (cti/aggregate.json) found", file=str(path))
    raw = path.read_bytes()
    try:
        docs = [orjson.loads(raw)]
    except orjson.JSONDecodeError:
        docs = []
        for number, line in enumerate(raw.splitlines(), start=1):
            if line.strip():
                try:
                    docs.append(orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    raise FormatError(f"not valid JSON ({exc.msg})", file=str(path), line=number) from None
    seen: set[tuple[Any, Any]] = set()
    out: list[dict[str, Any]] = []
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("type") != "bundle":
            raise FormatError("not a STIX bundle", file=str(path))
        for obj in doc.get("objects") or []:
            key = (obj.get("id"), obj.get("modified")) if isinstance(obj, dict) else None
            if key is not None and key not in seen:
                seen.add(key)
                out.append(obj)
    return out


def envelopes(objects: list[dict[str, Any]], max_bytes: int, max_objects: int) -> Iterator[list[bytes]]:
    """Serialised objects grouped so that each envelope stays under ``max_bytes``."""
    overhead = len(b'{"objects":[]}')
    batch: list[bytes] = []
    size = overhead
    for obj in objects:
        blob = orjson.dumps(obj)
        if len(blob) + overhead > max_bytes:
            raise TaxiiError(
                f"one {obj.get('type')} object is larger than the server accepts ({max_bytes} bytes)"
            )
        if batch and (size + len(blob) + 1 > max_bytes or len(batch) >= max_objects):
            yield batch
            batch, size = [], overhead
        batch.append(blob)
        size += len(blob) + 1
    if batch:
        yield batch


def push(
    objects: list[dict[str, Any]],
    collection_url: str,
    *,
    user: str | None = None,
    password: str | None = None,
    verify: bool | str = True,
    max_objects: int = DEFAULT_MAX_OBJECTS,
    timeout: int = 300,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
) -> PushSummary:
    """Add ``objects`` to the collection at ``collection_url`` (``.../collections/<id>/``).

    ``timeout`` bounds the wait for the server to finish adding; ``request_timeout`` each HTTP request
    (connecting, and each wait for bytes), so a server that accepts and never answers cannot hold the
    caller (a web request, a thread) for ever.
    """
    import requests
    from taxii2client.exceptions import TAXIIServiceException
    from taxii2client.v21 import ApiRoot, Collection, as_pages

    url = collection_url if collection_url.endswith("/") else collection_url + "/"
    conn = _connection(user, password, verify, request_timeout)
    try:
        collection = Collection(url, conn=conn)
        if not collection.can_write:
            raise TaxiiError("the collection does not accept writes for this user")
        api_root_url = url.split("collections/")[0]
        root = ApiRoot(api_root_url, conn=conn)
        max_bytes = int(root.max_content_length or DEFAULT_MAX_BYTES)
        summary = PushSummary(len(objects), 0)
        refused: list[str | None] = []
        for batch in envelopes(objects, max_bytes, max_objects):
            body = b'{"objects":[' + b",".join(batch) + b"]}"
            status = collection.add_objects(body.decode(), wait_for_completion=True, timeout=timeout)
            summary.envelopes += 1
            summary.succeeded += int(status.success_count or 0)
            refused += [f.get("id") for f in status.failures or [] if isinstance(f, dict)]
        if refused:
            held = {
                m.get("id")
                for page in as_pages(collection.get_manifest, per_request=5000)
                for m in page.get("objects", [])
            }
            summary.already_present = sum(1 for r in refused if r in held)
            summary.failed = len(refused) - summary.already_present
            summary.status_ids.append(status.id)
    except TAXIIServiceException as exc:
        raise TaxiiError(f"TAXII server refused the request: {exc}") from None
    except requests.HTTPError as exc:
        code = exc.response.status_code if exc.response is not None else "?"
        raise TaxiiError(f"TAXII server answered HTTP {code}") from None
    except requests.RequestException as exc:
        raise TaxiiError(f"TAXII server unreachable: {type(exc).__name__}") from None
    return summary
