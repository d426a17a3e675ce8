"""CTI capability: what the STIX 2.1 aggregate holds, a searchable list of indicators, the downloads."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from ppcti.api.capabilities import Capability
from ppcti.api.results import JSON_OBJECT, JSONBytes, cti_overview, result_file
from ppcti.api.routers.common import RunDir

router = APIRouter(tags=["cti"])


@router.get(
    "/cti",
    summary="Object counts and indicators of the STIX aggregate",
    response_class=JSONBytes,
    responses=JSON_OBJECT,
)
def get_cti(
    run_dir: RunDir,
    q: Annotated[
        str, Query(max_length=200, description="Keep indicators whose name or pattern has this.")
    ] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONBytes:
    overview = cti_overview(run_dir)
    needle = q.lower()
    found = [
        i for i in overview["indicators"] if not needle or needle in f"{i['name']} {i['pattern']}".lower()
    ]
    return JSONBytes({**overview, "indicators": found[offset : offset + limit], "matching": len(found)})


@router.get("/cti/stix", summary="Download the STIX 2.1 aggregate bundle", response_class=FileResponse)
def download_stix(run_dir: RunDir) -> FileResponse:
    return FileResponse(
        result_file(run_dir, "cti/aggregate.json"),
        media_type="application/stix+json;version=2.1",
        filename="stix-aggregate.json",
    )


def _context(run_dir: Path, _params: Mapping[str, str]) -> dict[str, Any]:
    return {"cti": cti_overview(run_dir)}


CAPABILITY = Capability(
    name="cti",
    title="CTI (STIX 2.1)",
    requires=("cti/aggregate.json",),
    router=router,
    template="cti.html",
    context=_context,
)
