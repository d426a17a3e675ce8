"""The report's attack chart: classified entries per hour and class, anomalous windows highlighted."""

from __future__ import annotations

from typing import Any

from ppcti.analysis.attacks.taxonomy import CLASSES

_COLOURS = {
    "sql-injection": "#dc2626",
    "xss": "#ea580c",
    "path-traversal": "#d97706",
    "command-injection": "#b91c1c",
    "exploit": "#7c3aed",
    "malware-callback": "#db2777",
    "brute-force": "#2563eb",
    "dos": "#0f766e",
    "port-scan": "#0891b2",
    "phishing": "#16a34a",
    "malware-email": "#15803d",
    "spam": "#84cc16",
    "probe": "#9ca3af",
}


def attack_timeline(insights: dict[str, Any]) -> dict[str, Any] | None:
    """Stacked bars per class and hour; holder-wide anomalous windows as shaded bands with a marker."""
    attacks = insights.get("attacks") or {}
    series = attacks.get("timeline") or []
    if not series:
        return None
    import plotly.graph_objects as go

    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": CLASSES[s["cls"]].label if s["cls"] in CLASSES else s["cls"],
            "x": [p["t"] for p in s["per_hour"]],
            "y": [p["n"] for p in s["per_hour"]],
            "width": 3_600_000,
            "offset": 0,
            "marker": {"color": _COLOURS.get(s["cls"], "#4b5563")},
        }
        for s in series
    ]
    windows = [a for a in attacks.get("anomalies", []) if a["scope"] in ("holder", "class")][:50]
    shapes = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": a["window_start"],
            "x1": a["window_end"],
            "y0": 0,
            "y1": 1,
            "fillcolor": "rgba(220,38,38,0.12)",
            "line": {"width": 0},
        }
        for a in windows
    ]
    if windows:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "anomaly",
                "x": [a["window_start"] for a in windows],
                "y": [a["events"] for a in windows],
                "marker": {"symbol": "triangle-down", "size": 11, "color": "#dc2626"},
                "text": [
                    f"{a['holder']} {a.get('cls') or 'all'}: {a['events']} (median {a['baseline_median']}, "
                    f"z {a['z']})"
                    for a in windows
                ],
                "hoverinfo": "text",
            }
        )
    layout = {
        "template": "plotly_white",
        "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
        "height": 380,
        "title": {"text": "Classified attacks per hour (anomalous windows shaded)", "x": 0.01},
        "barmode": "stack",
        "bargap": 0,
        "shapes": shapes,
        "xaxis": {"title": "time (UTC)", "type": "date"},
        "yaxis": {"title": "entries"},
    }
    return go.Figure(data=data, layout=layout).to_plotly_json()
