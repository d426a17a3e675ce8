"""Export capability: the run's CTI for other platforms. A MISP event (JSON, as MISP's feeds and API take
it) and a MISP feed (``manifest.json`` and the event, zipped) built by ``ppcti.misp`` from
``cti/aggregate.json``, and a push of the aggregate's objects to a TAXII 2.1 collection
(``ppcti.taxii``).

The TAXII server's credentials come only in the request body: they are used for that push and are
neither stored nor logged, and error messages never quote them. The pushed-to address is chosen by a
signed-in holder user and is requested by the server, so a deployment that must not reach some networks
from the server restricts them at the network level (docs/web.md).
"""

from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import pymisp  # noqa: F401 (an optional dependency: without it the capability is absent)
import taxii2client  # noqa: F401 (the same)
from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ppcti.api.capabilities import Capability, PageAction
from ppcti.api.results import JSON_OBJECT, JSONBytes, result_file
from ppcti.api.routers.common import RunDir
from ppcti.errors import ConfigError
from ppcti.misp.export import build_event, load_aggregate
from ppcti.misp.feed import write_feed
from ppcti.taxii.push import bundle_objects, push

log = logging.getLogger(__name__)

router = APIRouter(tags=["export"])

AGGREGATE = "cti/aggregate.json"


#: The query parameter that adds the run's observations to a MISP export (off: they stay with the holder).
Observations = Annotated[
    bool,
    Query(
        description="Also export the run's observations (traffic and messages, with the holder's own "
        "addresses and its recipients) as network-connection and email objects: for the holder's own MISP"
    ),
]


def misp_event(run_dir: Path, observations: bool = False) -> tuple[Any, Any]:
    """The run's aggregate as one ``pymisp.MISPEvent``, with what it holds."""
    return build_event(load_aggregate(result_file(run_dir, AGGREGATE), observations=observations))


@router.get(
    "/export/misp/event",
    summary="The run's CTI as one MISP event (JSON, as in a MISP feed)",
    response_class=JSONBytes,
    responses=JSON_OBJECT,
)
def get_misp_event(run_dir: RunDir, observations: Observations = False) -> JSONBytes:
    event, _summary = misp_event(run_dir, observations)
    return JSONBytes(event.to_feed(with_meta=False))


def feed_zip(run_dir: Path, hashes: str, observations: bool = False) -> bytes:
    """A MISP feed folder (``manifest.json``, ``<uuid>.json``, optionally ``hashes.csv``) as a ZIP."""
    event, _summary = misp_event(run_dir, observations)
    with tempfile.TemporaryDirectory(prefix="ppcti-feed-") as tmp:
        write_feed([event], tmp, hashes=hashes)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(Path(tmp).iterdir()):
                zf.write(path, f"misp-feed/{path.name}")
    return buffer.getvalue()


@router.get(
    "/export/misp/feed",
    summary="The run's CTI as a MISP feed folder (ZIP download)",
    response_class=Response,
    responses={200: {"description": "A ZIP archive", "content": {"application/zip": {}}}},
)
def get_misp_feed(
    run_dir: RunDir,
    hashes: Annotated[
        Literal["none", "md5"],
        Query(description="md5 adds MISP's hashes.csv (every value's MD5: enumerable, docs/misp.md)"),
    ] = "none",
    observations: Observations = False,
) -> Response:
    return Response(
        feed_zip(run_dir, hashes, observations),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="misp-feed.zip"'},
    )


class TaxiiPush(BaseModel):
    server: str = Field(
        min_length=8, max_length=2000, description="The TAXII 2.1 API root, e.g. https://taxii.example/api1/"
    )
    collection: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._~-]+$")
    user: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, max_length=1000)
    verify_tls: bool = True

    def __repr__(self) -> str:  # never the password, wherever the object is printed
        return f"TaxiiPush(server={self.server!r}, collection={self.collection!r})"

    __str__ = __repr__


class TaxiiPushOut(BaseModel):
    objects: int
    envelopes: int
    succeeded: int
    failed: int
    already_present: int


def collection_url(server: str, collection: str) -> str:
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("server: give the TAXII API root as an http(s) address")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError("server: no credentials, query or fragment in the address (send user and password)")
    return f"{server.rstrip('/')}/collections/{collection}/"


def push_run(run_dir: Path, body: TaxiiPush) -> TaxiiPushOut:
    url = collection_url(body.server, body.collection)
    objects = bundle_objects(result_file(run_dir, AGGREGATE))
    summary = push(
        objects, url, user=body.user or None, password=body.password or None, verify=body.verify_tls
    )
    log.info(
        "TAXII push: %d objects, %d added, %d failed", summary.objects, summary.succeeded, summary.failed
    )
    return TaxiiPushOut(
        objects=summary.objects,
        envelopes=summary.envelopes,
        succeeded=summary.succeeded,
        failed=summary.failed,
        already_present=summary.already_present,
    )


@router.post(
    "/export/taxii",
    summary="Push the run's STIX objects to a TAXII 2.1 collection",
    response_model=TaxiiPushOut,
    responses={
        400: {"description": "The address is not a TAXII API root"},
        502: {"description": "The TAXII server refused the push or could not be reached"},
    },
)
def post_taxii(run_dir: RunDir, body: TaxiiPush) -> TaxiiPushOut:
    return push_run(run_dir, body)


def _context(run_dir: Path, _params: Mapping[str, str]) -> dict[str, Any]:
    _event, summary = misp_event(run_dir)
    return {"misp": summary}


def _action(action: PageAction) -> dict[str, Any]:
    form = {k: v for k, v in action.form.items() if isinstance(v, str)}
    try:
        body = TaxiiPush(
            server=form.get("server", "").strip(),
            collection=form.get("collection", "").strip(),
            user=form.get("user") or None,
            password=form.get("password") or None,
            verify_tls=form.get("skip_tls_verify") != "on",
        )
    except ValueError:
        raise ConfigError("give the TAXII API root (http or https) and the collection's id") from None
    return {"pushed": push_run(action.run_dir, body)}


CAPABILITY = Capability(
    name="export",
    title="MISP / TAXII",
    requires=(AGGREGATE,),
    router=router,
    template="export.html",
    context=_context,
    action=_action,
)
