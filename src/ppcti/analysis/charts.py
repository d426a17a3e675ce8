"""Plotly figures of the report, as JSON specs that the page hands to ``Plotly.newPlot``.

Figures are emitted as data, not as Plotly's ``to_html`` snippets: attacker-controlled strings (sender
addresses, holder names) end up in the figure data, and a JSON island with ``<``, ``>`` and ``&``
escaped cannot close its ``<script>`` element, whatever those strings contain.
"""

from __future__ import annotations

from typing import Any

from ppcti.analysis.attacks.charts import attack_timeline

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
    "height": 360,
    "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    "hoverlabel": {"namelength": -1},
}


def _figure(data: list[dict[str, Any]], title: str, **layout: Any) -> dict[str, Any]:
    import plotly.graph_objects as go

    fig = go.Figure(data=data, layout={**_LAYOUT, "title": {"text": title, "x": 0.01}, **layout})
    return fig.to_plotly_json()


def activity(insights: dict[str, Any]) -> dict[str, Any] | None:
    """Entries per hour, one line per holder."""
    series = insights["summary"].get("activity", [])
    if not series:
        return None
    # Bars, not lines: hours without entries are absent from the data, and a line would bridge them.
    data = [
        {
            "type": "bar",
            "name": s["holder"],
            "x": [p["t"] for p in s["per_hour"]],
            "y": [p["n"] for p in s["per_hour"]],
            "width": 3_600_000,  # one hour, in the milliseconds of a date axis
            "offset": 0,
            "marker": {"color": PALETTE[i % len(PALETTE)]},
        }
        for i, s in enumerate(series)
    ]
    return _figure(
        data,
        "Attack entries per hour",
        barmode="stack",
        bargap=0,
        xaxis={"title": "time (UTC)", "type": "date"},
        yaxis={"title": "entries"},
    )


def _bars(labels: list[str], values: list[int], title: str, axis: str, color: str) -> dict[str, Any]:
    height = max(260, 28 * len(labels) + 80)
    data = [
        {"type": "bar", "orientation": "h", "y": labels[::-1], "x": values[::-1], "marker": {"color": color}}
    ]
    return _figure(
        data,
        title,
        height=height,
        xaxis={"title": axis},
        yaxis={"automargin": True},
        margin={"l": 20, "r": 20, "t": 40, "b": 50},
    )


def top_attackers(insights: dict[str, Any]) -> dict[str, Any] | None:
    rows = insights["summary"].get("top_attackers", [])
    if not rows:
        return None
    return _bars(
        [r["attacker"] for r in rows], [r["events"] for r in rows], "Top attackers", "entries", PALETTE[1]
    )


def top_targets(insights: dict[str, Any]) -> dict[str, Any] | None:
    rows = insights["summary"].get("top_targets", [])
    if not rows:
        return None
    labels = [f"{r['target']} ({r['holder']})" for r in rows]
    return _bars(labels, [r["attacks"] for r in rows], "Top targets", "attacks", PALETTE[0])


def target_heatmap(insights: dict[str, Any], limit: int = 20) -> dict[str, Any] | None:
    """Attacks per day on the most attacked private targets."""
    rows = insights.get("targets", [])[:limit]
    days = sorted({p["t"][:10] for r in rows for p in r["per_day"]})
    if not rows or not days:
        return None
    index = {d: i for i, d in enumerate(days)}
    z = []
    for r in rows:
        line = [0] * len(days)
        for p in r["per_day"]:
            line[index[p["t"][:10]]] = p["n"]
        z.append(line)
    labels = [f"{r['target']} ({r['holder']})" for r in rows]
    data = [
        {
            "type": "heatmap",
            "x": days,
            "y": labels,
            "z": z,
            "colorscale": "Reds",
            "colorbar": {"title": {"text": "attacks"}},
        }
    ]
    height = max(300, 24 * len(rows) + 120)
    return _figure(
        data,
        "Attacks per day on private infrastructure",
        height=height,
        yaxis={"automargin": True, "autorange": "reversed"},
        xaxis={"type": "category"},
    )


def botnet_windows(insights: dict[str, Any]) -> dict[str, Any] | None:
    """Each botnet group as a bar from its first to its last entry, coloured by holder."""
    groups = insights.get("botnets", [])[:60]
    if not groups:
        return None
    from datetime import datetime

    def ms(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000

    holders = sorted({g["holder"] for g in groups})
    data = []
    for i, holder in enumerate(holders):
        mine = [g for g in groups if g["holder"] == holder]
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": holder,
                "y": [g["id"] for g in mine],
                "base": [g["window_start"] for g in mine],
                "x": [max(ms(g["window_end"]) - ms(g["window_start"]), 60_000) for g in mine],
                "customdata": [[g["target"], g["service"], g["members_count"]] for g in mine],
                "hovertemplate": "%{y}: %{customdata[0]} %{customdata[1]}<br>%{customdata[2]} sources"
                "<extra>%{fullData.name}</extra>",
                "marker": {"color": PALETTE[i % len(PALETTE)]},
            }
        )
    height = max(300, 18 * len(groups) + 120)
    return _figure(
        data,
        "Botnet groups over time",
        height=height,
        barmode="overlay",
        xaxis={"type": "date", "title": "time (UTC)"},
        yaxis={"autorange": "reversed", "type": "category"},
    )


def all_figures(insights: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Figure id → Plotly JSON, for the figures the insights have data for."""
    makers = {
        "fig-activity": activity,
        "fig-attackers": top_attackers,
        "fig-targets": top_targets,
        "fig-heatmap": target_heatmap,
        "fig-botnets": botnet_windows,
        "fig-attacks": attack_timeline,
    }
    built = {name: make(insights) for name, make in makers.items()}
    return {name: fig for name, fig in built.items() if fig is not None}
