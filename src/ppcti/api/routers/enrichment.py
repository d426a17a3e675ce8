"""Enrichment capability: what reputation services said about the run's indicators (``ppcti enrich``,
or the pipeline's enrich stage): per indicator the overall confidence and verdict with each source's
verdict (``enrichment-overview.json``, riskiest first) and every lookup (``enrichment.jsonl``, one record
per indicator and service). Both are paged; the page shows the same."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ppcti.api.capabilities import Capability
from ppcti.api.results import JSON_OBJECT, JSONBytes, cached, page_jsonl, read_json
from ppcti.api.routers.common import RunDir
from ppcti.api.schemas import Page

router = APIRouter(tags=["enrichment"])

OVERVIEW = "enrichment-overview.json"
LOOKUPS = "enrichment.jsonl"
#: Overall verdicts, worst first (docs/enrich.md, overall confidence).
VERDICTS = ("malicious", "suspicious", "harmless", "unknown")
#: Indicators per page of the Enrichment page.
PAGE_SIZE = 50
#: Largest offset accepted (it is echoed in the answer, whose JSON numbers are 64-bit).
MAX_OFFSET = 2**31


@cached
def enrichment_overview(run_dir: Path) -> dict[str, Any]:
    """The overview's indicators with counts per verdict and per service."""
    indicators = [i for i in read_json(run_dir, OVERVIEW).get("indicators") or [] if isinstance(i, dict)]
    services = Counter(str(s.get("service")) for i in indicators for s in i.get("sources") or [])
    return {
        "indicators": indicators,
        "verdicts": dict(Counter(str(i.get("verdict")) for i in indicators)),
        "services": dict(sorted(services.items())),
    }


def _select(overview: dict[str, Any], verdict: str | None, q: str, offset: int, limit: int) -> dict[str, Any]:
    needle = q.lower()
    found = [
        i
        for i in overview["indicators"]
        if (verdict is None or i.get("verdict") == verdict) and needle in str(i.get("value", "")).lower()
    ]
    return {
        "total": len(overview["indicators"]),
        "verdicts": overview["verdicts"],
        "services": overview["services"],
        "matching": len(found),
        "offset": offset,
        "indicators": found[offset : offset + limit],
    }


@router.get(
    "/enrichment",
    summary="Overall verdict and confidence per indicator, riskiest first (paged)",
    response_class=JSONBytes,
    responses=JSON_OBJECT,
)
def get_enrichment(
    run_dir: RunDir,
    verdict: Annotated[
        str | None, Query(max_length=20, description="Only indicators with this verdict")
    ] = None,
    q: Annotated[str, Query(max_length=200, description="Only indicators whose value has this")] = "",
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONBytes:
    return JSONBytes(_select(enrichment_overview(run_dir), verdict, q, offset, limit))


@router.get("/enrichment/lookups", summary="Each service's answer per indicator (paged)", response_model=Page)
def get_enrichment_lookups(
    run_dir: RunDir,
    value: Annotated[str | None, Query(max_length=300, description="Only this indicator's lookups")] = None,
    service: Annotated[str | None, Query(max_length=40, description="Only this service's lookups")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page:
    def keep(r: dict[str, Any]) -> bool:
        return (value is None or r.get("value") == value) and (service is None or r.get("service") == service)

    return Page(**page_jsonl(run_dir, LOOKUPS, offset=offset, limit=limit, keep=keep))


def _offset(params: Mapping[str, str]) -> int:
    raw = params.get("offset", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else 0


def _context(run_dir: Path, params: Mapping[str, str]) -> dict[str, Any]:
    overview = enrichment_overview(run_dir)
    verdict = params.get("verdict") if params.get("verdict") in VERDICTS else None
    offset = _offset(params)
    view = _select(overview, verdict, "", offset, PAGE_SIZE)
    return {
        "enrichment": view,
        "verdict": verdict,
        "verdict_choices": VERDICTS,
        "page_size": PAGE_SIZE,
        "previous": max(offset - PAGE_SIZE, 0) if offset else None,
        "next": offset + PAGE_SIZE if offset + PAGE_SIZE < view["matching"] else None,
        "has_lookups": (run_dir / LOOKUPS).is_file(),
    }


CAPABILITY = Capability(
    name="enrichment",
    title="Enrichment",
    requires=(OVERVIEW,),
    router=router,
    template="enrichment.html",
    context=_context,
)
