"""``report.html``: one self-contained page for an analyst (plotly.js inline, no network needed).

Every value from the data is escaped: Jinja2 autoescaping for the tables, and JSON islands with
``<``, ``>`` and ``&`` escaped for the charts (see :mod:`ppcti.analysis.charts`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from ppcti.analysis import charts
from ppcti.analysis.engine import INSIGHTS_FILE
from ppcti.errors import InputRefused
from ppcti.outdir import write_atomic

REPORT_FILE = "report.html"
SUMMARY_FILE = "summary.json"
#: STIX outputs of the same run folder that the report links to when they exist.
CTI_FILES: tuple[tuple[str, str], ...] = (
    ("cti/bundles.jsonl", "one STIX 2.1 bundle per entry"),
    ("cti/aggregate.json", "the shared CTI: one STIX 2.1 indicator per attacker, sightings per holder"),
    ("cti/observations.json", "the run's distinct STIX 2.1 observations (kept with the holder)"),
    ("cti/attacks.json", "STIX 2.1 attack patterns (ATT&CK, CAPEC), campaigns and their indicators"),
    ("cti/enrichment.json", "reputation of the indicators: STIX 2.1 notes and opinions"),
)
#: Written by ``ppcti enrich`` (overall confidence per indicator, riskiest first); shown when present.
ENRICHMENT_FILE = "enrichment-overview.json"
_TEMPLATE = "report_template.html"  # beside this module, shipped as package data


def _json_island(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">`` whatever strings it holds."""
    text = orjson.dumps(data).decode()
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _read_json(path: Path, what: str) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except (orjson.JSONDecodeError, OSError):
        raise InputRefused(f"{what} is not valid JSON", file=str(path)) from None


def _run_facts(summary: Any) -> list[tuple[str, str]]:
    """summary.json (written by ingestion, schema owned there) as readable key/value rows."""
    if not isinstance(summary, dict):
        return []
    facts = []
    for key, value in summary.items():
        if isinstance(value, dict | list):
            text = orjson.dumps(value).decode()
            text = text if len(text) <= 400 else text[:400] + " …"
        else:
            text = str(value)
        facts.append((str(key), text))
    return facts


def render(
    insights: dict[str, Any],
    *,
    summary: Any = None,
    links: list[tuple[str, str]] | None = None,
    enrichment: list[dict[str, Any]] | None = None,
) -> str:
    """The report page as text (pure: no file access besides the packaged template and plotly.js)."""
    import jinja2
    from markupsafe import Markup
    from plotly.offline import get_plotlyjs

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda n: f"{n:,}" if isinstance(n, int) else n
    figures = {name: _json_island(fig) for name, fig in charts.all_figures(insights).items()}
    template = env.get_template(_TEMPLATE)
    return template.render(
        ins=insights,
        s=insights["summary"],
        plotly_js=Markup(get_plotlyjs().replace("</script", "<\\/script")),
        figures={k: Markup(v) for k, v in figures.items()},
        run_facts=_run_facts(summary),
        links=links or [],
        enrichment=(enrichment or [])[:25],
    )


def write_report(
    run_dir: Path, insights: dict[str, Any] | None = None, *, out_dir: Path | None = None
) -> Path:
    """Write ``report.html`` from ``insights`` (or ``run_dir/insights.json``) into ``out_dir`` (default:
    ``run_dir``; a staging folder when a command writes its results there first).

    Shows ``run_dir/summary.json`` when present and links to the run's STIX files that exist.
    """
    import jinja2

    run_dir = Path(run_dir)
    from_file = insights is None
    if insights is None:
        path = run_dir / INSIGHTS_FILE
        if not path.is_file():
            raise InputRefused("no insights.json: run 'ppcti analyse' first", file=str(run_dir))
        insights = _read_json(path, "insights.json")
    summary_path = run_dir / SUMMARY_FILE
    summary = _read_json(summary_path, "summary.json") if summary_path.is_file() else None
    links = [(name, text) for name, text in CTI_FILES if (run_dir / name).is_file()]
    enriched = run_dir / ENRICHMENT_FILE
    overview = _read_json(enriched, ENRICHMENT_FILE) if enriched.is_file() else {}
    enrichment = overview.get("indicators") if isinstance(overview, dict) else None
    try:
        page = render(insights, summary=summary, links=links, enrichment=enrichment)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError, jinja2.UndefinedError):
        if not from_file:
            raise  # insights made in this process: a bug, not bad input
        # a file from disk may have been edited or come from elsewhere: bad input, not a crash
        raise InputRefused(
            "insights.json does not have the shape 'ppcti analyse' writes", file=str(run_dir / INSIGHTS_FILE)
        ) from None
    out = Path(out_dir or run_dir) / REPORT_FILE
    write_atomic(out, page.encode("utf-8"))
    return out
