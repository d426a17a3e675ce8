"""Analysis capability: attacked targets, timelines, botnets, sweeps and attackers seen by several
holders (``insights.json``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from ppcti.api.capabilities import Capability
from ppcti.api.results import JSON_OBJECT, JSONBytes, file_json, read_json
from ppcti.api.routers.common import RunDir

router = APIRouter(tags=["analysis"])


@router.get(
    "/insights",
    summary="Targets, botnets, sweeps and cross-holder attackers",
    response_class=JSONBytes,
    responses=JSON_OBJECT,
)
def get_insights(run_dir: RunDir) -> JSONBytes:
    return file_json(run_dir, "insights.json")


def _bars(rows: list[dict[str, Any]], label: str, value: str, top: int = 10) -> list[dict[str, Any]]:
    chosen = sorted(rows, key=lambda r: -float(r.get(value) or 0))[:top]
    peak = max((float(r.get(value) or 0) for r in chosen), default=0) or 1
    return [
        {
            "label": str(r.get(label, "")),
            "value": r.get(value) or 0,
            "width": round(100 * float(r.get(value) or 0) / peak, 1),
        }
        for r in chosen
    ]


def _context(run_dir: Path, _params: Mapping[str, str]) -> dict[str, Any]:
    insights = read_json(run_dir, "insights.json")
    summary = insights.get("summary", {})
    return {
        "insights": insights,
        "targets_chart": _bars(insights.get("targets", []), "target", "attacks"),
        "attackers_chart": _bars(summary.get("top_attackers", []), "attacker", "events"),
        "timeline_chart": _timeline(summary.get("activity", [])),
    }


def _timeline(activity: list[dict[str, Any]], most: int = 48) -> list[dict[str, Any]]:
    """Events per hour (the hours that have any), in time order, the last ``most`` of them."""
    hours: dict[str, int] = {}
    for holder in activity:
        for bucket in holder.get("per_hour", []):
            hours[str(bucket.get("t"))] = hours.get(str(bucket.get("t")), 0) + int(bucket.get("n") or 0)
    rows = [{"t": t, "n": n} for t, n in sorted(hours.items())][-most:]
    peak = max((r["n"] for r in rows), default=0) or 1
    return [{"label": r["t"], "value": r["n"], "width": round(100 * r["n"] / peak, 1)} for r in rows]


CAPABILITY = Capability(
    name="analysis",
    title="Analysis",
    requires=("insights.json",),
    router=router,
    template="analysis.html",
    context=_context,
)
