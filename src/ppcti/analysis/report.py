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

REPORT_FILE = "report.html"
SUMMARY_FILE = "summary.json"
#: STIX outputs of the same run folder that the report links to when they exist.
CTI_FILES: tuple[tuple[str, str], ...] = (
    ("cti/bundles.jsonl", "one STIX 2.1 bundle per entry"),
    ("cti/aggregate.json", "deduplicated STIX 2.1 bundle with sightings per holder"),
    ("cti/attacks.json", "STIX 2.1 attack patterns (ATT&CK, CAPEC), campaigns and their indicators"),
)
_TEMPLATE = "report_template.html"  # beside this module, shipped as package data


def _json_island(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">`` whatever strings it holds."""
    text = orjson.dumps(data).decode()
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _read_json(path: Path, what: str) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
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
    insights: dict[str, Any], *, summary: Any = None, links: list[tuple[str, str]] | None = None
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
    )


def write_report(run_dir: Path, insights: dict[str, Any] | None = None) -> Path:
    """Write ``run_dir/report.html`` from ``insights`` (or ``run_dir/insights.json``).

    Shows ``run_dir/summary.json`` when present and links to the run's STIX files that exist.
    """
    run_dir = Path(run_dir)
    if insights is None:
        path = run_dir / INSIGHTS_FILE
        if not path.is_file():
            raise InputRefused("no insights.json: run 'ppcti analyse' first", file=str(run_dir))
        insights = _read_json(path, "insights.json")
    summary_path = run_dir / SUMMARY_FILE
    summary = _read_json(summary_path, "summary.json") if summary_path.is_file() else None
    links = [(name, text) for name, text in CTI_FILES if (run_dir / name).is_file()]
    out = run_dir / REPORT_FILE
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(render(insights, summary=summary, links=links), encoding="utf-8")
    tmp.replace(out)
    return out
