"""PII capability: findings per file and column with confidence and masked examples, and the knowledge
graph of the upload."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from ppcti.api.capabilities import Capability
from ppcti.api.results import JSON_OBJECT, JSONBytes, kg_graph, pii_overview, result_file
from ppcti.api.routers.common import RunDir

router = APIRouter(tags=["pii"])


@router.get("/pii", summary="PII found, per file and column", response_class=JSONBytes, responses=JSON_OBJECT)
def get_pii(run_dir: RunDir) -> JSONBytes:
    return JSONBytes(pii_overview(run_dir))


@router.get(
    "/kg",
    summary="The knowledge graph as nodes and edges (cut for display)",
    response_class=JSONBytes,
    responses=JSON_OBJECT,
)
def get_kg(run_dir: RunDir) -> JSONBytes:
    return JSONBytes(kg_graph(run_dir))


@router.get("/kg.ttl", summary="The knowledge graph as Turtle", response_class=FileResponse)
def get_kg_turtle(run_dir: RunDir) -> FileResponse:
    return FileResponse(result_file(run_dir, "kg.ttl"), media_type="text/turtle", filename="kg.ttl")


def _context(run_dir: Path, _params: Mapping[str, str]) -> dict[str, Any]:
    return {"pii": pii_overview(run_dir), "kg_available": (run_dir / "kg.ttl").is_file()}


CAPABILITY = Capability(
    name="pii",
    title="Personal data",
    requires=("pii.json",),
    router=router,
    template="pii.html",
    context=_context,
)
