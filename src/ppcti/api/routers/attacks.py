"""Attacks capability: which malicious actions the entries show (classes with ATT&CK and CAPEC ids),
campaigns and anomalies (the ``attacks`` section of ``insights.json``), each classified entry
(``attacks.jsonl``: evidence names a field and a rule, never payload text) and the STIX attack patterns
and campaigns (``cti/attacks.json``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse

from ppcti.api.capabilities import Capability
from ppcti.api.results import JSON_OBJECT, JSONBytes, page_jsonl, read_json, result_file
from ppcti.api.routers.common import RunDir
from ppcti.api.schemas import Page

router = APIRouter(tags=["attacks"])


@router.get(
    "/attacks",
    summary="Attack classes, campaigns, anomalies and profiles",
    response_class=JSONBytes,
    responses=JSON_OBJECT,
)
def get_attacks(run_dir: RunDir) -> JSONBytes:
    attacks = read_json(run_dir, "insights.json").get("attacks")
    if not isinstance(attacks, dict):
        raise HTTPException(404, "this run's analysis has no attack classification")
    return JSONBytes(attacks)


@router.get("/attacks/entries", summary="Classified entries (paged)", response_model=Page)
def get_attack_entries(
    run_dir: RunDir,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    attack_class: Annotated[
        str | None, Query(alias="class", max_length=100, description="Only entries of this class")
    ] = None,
) -> Page:
    def keep(r: dict[str, Any]) -> bool:
        return attack_class is None or (r.get("attack") or {}).get("class") == attack_class

    return Page(**page_jsonl(run_dir, "attacks.jsonl", offset=offset, limit=limit, keep=keep))


@router.get(
    "/attacks/stix",
    summary="STIX 2.1 attack patterns, campaigns and their indicators (download)",
    response_class=FileResponse,
)
def download_attack_stix(run_dir: RunDir) -> FileResponse:
    return FileResponse(
        result_file(run_dir, "cti/attacks.json"),
        media_type="application/stix+json;version=2.1",
        filename="stix-attacks.json",
    )


CAPABILITY = Capability(name="attacks", title="Attacks", requires=("attacks.jsonl",), router=router)
