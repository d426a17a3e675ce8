"""Reading a run folder for the API and the pages: JSON files, paged JSON lines, the STIX aggregate and a
small view of the knowledge graph. Only names from a fixed list are ever opened, so no request can name a
path."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
from fastapi import HTTPException
from fastapi.responses import Response

from ppcti.api.jobs import RESULT_FILES

#: Downloads offered for a run, as (name in the URL, file in the run folder, media type).
DOWNLOADS: dict[str, tuple[str, str]] = {
    "events.jsonl": ("events.jsonl", "application/x-ndjson"),
    "rejects.jsonl": ("rejects.jsonl", "application/x-ndjson"),
    "summary.json": ("summary.json", "application/json"),
    "pii.json": ("pii.json", "application/json"),
    "kg.ttl": ("kg.ttl", "text/turtle"),
    "stix-bundles.jsonl": ("cti/bundles.jsonl", "application/x-ndjson"),
    "stix-aggregate.json": ("cti/aggregate.json", "application/stix+json;version=2.1"),
    "stix-observations.json": ("cti/observations.json", "application/stix+json;version=2.1"),
    "insights.json": ("insights.json", "application/json"),
    "attacks.jsonl": ("attacks.jsonl", "application/x-ndjson"),
    "enrichment.jsonl": ("enrichment.jsonl", "application/x-ndjson"),
    "enrichment-overview.json": ("enrichment-overview.json", "application/json"),
    "stix-enrichment.json": ("cti/enrichment.json", "application/stix+json;version=2.1"),
}
assert all(path in RESULT_FILES for path, _ in DOWNLOADS.values())

#: The file each cached view is built from.
VIEW_SOURCES = {
    "pii_overview": "pii.json",
    "kg_graph": "kg.ttl",
    "cti_overview": "cti/aggregate.json",
    "enrichment_overview": "enrichment-overview.json",
}

#: Most nodes the knowledge-graph view draws; larger graphs are cut (the Turtle download is whole).
KG_MAX_NODES = 150


def result_file(run_dir: Path, name: str) -> Path:
    if name not in RESULT_FILES:
        raise HTTPException(404, "no such result")
    path = run_dir / name
    if not path.is_file():
        raise HTTPException(404, f"{name} was not produced for this upload")
    return path


def read_json(run_dir: Path, name: str) -> Any:
    try:
        return orjson.loads(result_file(run_dir, name).read_bytes())
    except orjson.JSONDecodeError:
        raise HTTPException(500, f"{name} is damaged") from None


#: OpenAPI description of a JSON object answered by :class:`JSONBytes` (the route has no response model).
JSON_OBJECT = {
    200: {"description": "A JSON object", "content": {"application/json": {"schema": {"type": "object"}}}}
}


class JSONBytes(Response):
    """JSON serialised by orjson, or a result file's bytes as they are: the views are large dicts that
    FastAPI's generic encoder would walk value by value (see docs/benchmarks.md, web)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else orjson.dumps(content)


def file_json(run_dir: Path, name: str) -> JSONBytes:
    """A JSON result file, sent without parsing it."""
    return JSONBytes(result_file(run_dir, name).read_bytes())


def cached(builder: Callable[[Path], dict[str, Any]]) -> Callable[[Path], dict[str, Any]]:
    """Memoise a view of a run folder while the file it reads is unchanged (a finished run's files never
    change, and the views are read far more often than runs finish). Callers must not mutate the result."""

    @functools.lru_cache(maxsize=64)
    def by_version(run_dir: Path, _version: tuple[int, int]) -> dict[str, Any]:
        return builder(run_dir)

    def view(run_dir: Path) -> dict[str, Any]:
        try:
            stat = (run_dir / VIEW_SOURCES[builder.__name__]).stat()
        except OSError:
            return builder(run_dir)  # raises the 404 of the missing file
        return by_version(run_dir, (stat.st_mtime_ns, stat.st_size))

    view.__name__ = builder.__name__
    view.__doc__ = builder.__doc__
    return view


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                yield orjson.loads(line)


def page_jsonl(
    run_dir: Path,
    name: str,
    *,
    offset: int,
    limit: int,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    total = 0
    for record in iter_jsonl(result_file(run_dir, name)):
        if keep is not None and not keep(record):
            continue
        if offset <= total < offset + limit:
            items.append(record)
        total += 1
    return {"total": total, "offset": offset, "items": items}


@cached
def pii_overview(run_dir: Path) -> dict[str, Any]:
    """PII per file and column/type: count, best confidence, detectors and masked examples."""
    data = read_json(run_dir, "pii.json")
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for f in data.get("findings", []):
        key = (str(f.get("file", "")), str(f.get("column") or ""), str(f.get("type", "")))
        g = groups.setdefault(
            key,
            {
                "file": key[0],
                "column": key[1] or None,
                "type": key[2],
                "findings": 0,
                "confidence": 0.0,
                "detectors": set(),
                "examples": [],
            },
        )
        g["findings"] += 1
        g["confidence"] = max(g["confidence"], float(f.get("confidence") or 0))
        g["detectors"].add(str(f.get("detector", "")))
        for example in f.get("examples") or []:
            if len(g["examples"]) < 3 and example not in g["examples"]:
                g["examples"].append(example)
    rows = [{**g, "detectors": sorted(g["detectors"])} for g in groups.values()]
    rows.sort(key=lambda r: (r["file"], r["column"] or "", r["type"]))
    return {
        "files": data.get("files", []),
        "flags": data.get("flags", []),
        "types": dict(Counter(str(f.get("type", "")) for f in data.get("findings", []))),
        "rows": rows,
    }


def _short(term: Any) -> str:
    text = str(term)
    if text.startswith("urn:uuid:"):
        return text[9:17]
    for sep in ("#", "/"):
        if sep in text:
            text = text.rsplit(sep, 1)[-1] or text
    return text[:60]


@cached
def kg_graph(run_dir: Path) -> dict[str, Any]:
    """Nodes and edges of ``kg.ttl`` between resources (literals left out), cut at ``KG_MAX_NODES``."""
    import rdflib

    graph = rdflib.Graph()
    graph.parse(result_file(run_dir, "kg.ttl"), format="turtle")
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[dict[str, str]] = []
    types: dict[str, str] = {}
    for s, p, o in graph:
        if p == rdflib.RDF.type:
            types[str(s)] = _short(o)
    for s, p, o in graph:
        if p == rdflib.RDF.type or isinstance(o, rdflib.Literal):
            continue
        for term in (s, o):
            key = str(term)
            if key not in nodes:
                if len(nodes) >= KG_MAX_NODES:
                    break
                kind = types.get(key, "")
                label = f"{kind} {_short(term)}" if kind and key.startswith("urn:uuid:") else _short(term)
                nodes[key] = {"id": key, "label": label, "type": kind}
        else:
            edges.append({"source": str(s), "target": str(o), "label": _short(p)})
    return {
        "nodes": list(nodes.values()),
        "edges": edges,
        "triples": len(graph),
        "cut": len(nodes) >= KG_MAX_NODES,
    }


@cached
def cti_overview(run_dir: Path) -> dict[str, Any]:
    """Counts of the aggregate bundle's objects by type, and its indicators as table rows; the counts of
    the run's observations (``observations.json``, kept out of the aggregate) beside them."""
    bundle = read_json(run_dir, "cti/aggregate.json")
    observed: Counter[str] = Counter()
    if (run_dir / "cti" / "observations.json").is_file():
        observed.update(
            str(o.get("type")) for o in read_json(run_dir, "cti/observations.json").get("objects", [])
        )
    objects = bundle.get("objects", [])
    counts = Counter(str(o.get("type")) for o in objects)
    sightings = Counter(str(o.get("sighting_of_ref")) for o in objects if o.get("type") == "sighting")
    indicators = [
        {
            "id": o.get("id"),
            "name": o.get("name") or "",
            "pattern": o.get("pattern") or "",
            "valid_from": o.get("valid_from") or "",
            "labels": o.get("indicator_types") or o.get("labels") or [],
            "sightings": sightings.get(str(o.get("id")), 0),
        }
        for o in objects
        if o.get("type") == "indicator"
    ]
    return {
        "bundle_id": bundle.get("id"),
        "objects": len(objects),
        "counts": dict(sorted(counts.items())),
        "observations": dict(sorted(observed.items())),
        "indicators": indicators,
    }
