"""Attacks capability: which malicious actions the entries show (classes with ATT&CK and CAPEC ids),
campaigns and anomalies (the ``attacks`` section of ``insights.json``), each classified entry
(``attacks.jsonl``: evidence names a field and a rule, never payload text) and the STIX attack patterns
and campaigns (``cti/attacks.json``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
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


#: Classified entries per page of the Attacks page.
PAGE_SIZE = 50


def _int_param(params: Mapping[str, str], name: str) -> int:
    """A non-negative whole number from the page's query, 0 when absent or not one."""
    value = params.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else 0


def _context(run_dir: Path, params: Mapping[str, str]) -> dict[str, Any]:
    attacks = read_json(run_dir, "insights.json").get("attacks")
    if not isinstance(attacks, dict):
        raise HTTPException(404, "this run's analysis has no attack classification")
    classes = [str(c.get("cls")) for c in attacks.get("classes", [])]
    chosen = params.get("class") or None
    if chosen not in classes:
        chosen = None
    offset = _int_param(params, "offset")

    def keep(r: dict[str, Any]) -> bool:
        return chosen is None or (r.get("attack") or {}).get("class") == chosen

    entries = page_jsonl(run_dir, "attacks.jsonl", offset=offset, limit=PAGE_SIZE, keep=keep)
    return {
        "attacks": attacks,
        "entries": entries,
        "chosen": chosen,
        "page_size": PAGE_SIZE,
        "previous": max(offset - PAGE_SIZE, 0) if offset else None,
        "next": offset + PAGE_SIZE if offset + PAGE_SIZE < entries["total"] else None,
        "has_stix": (run_dir / "cti" / "attacks.json").is_file(),
    }


CAPABILITY = Capability(
    name="attacks",
    title="Attacks",
    requires=("attacks.jsonl",),
    router=router,
    template="attacks.html",
    context=_context,
)
