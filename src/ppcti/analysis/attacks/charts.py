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


def _days(first: str, last: str) -> float:
    from datetime import datetime

    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return (parse(last) - parse(first)).total_seconds() / 86_400


def attack_timeline(insights: dict[str, Any]) -> dict[str, Any] | None:
    """Stacked bars per class and hour; holder-wide anomalous windows as shaded bands with a marker."""
    attacks = insights.get("attacks") or {}
    series = attacks.get("timeline") or []
    if not series:
        return None
    import plotly.graph_objects as go

    times = [p["t"] for s in series for p in s["per_hour"]]
    # hour bars vanish on an axis of months: over more than two weeks, one bar per day
    daily = _days(min(times), max(times)) > 14
    data: list[dict[str, Any]] = []
    for s in series:
        points: dict[str, int] = {}
        for p in s["per_hour"]:
            key = p["t"][:10] + "T00:00:00Z" if daily else p["t"]
            points[key] = points.get(key, 0) + p["n"]
        data.append(
            {
                "type": "bar",
                "name": CLASSES[s["cls"]].label if s["cls"] in CLASSES else s["cls"],
                "x": list(points),
                "y": list(points.values()),
                "width": 86_400_000 if daily else 3_600_000,
                "offset": 0,
                "marker": {"color": _COLOURS.get(s["cls"], "#4b5563")},
            }
        )
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
        "title": {
            "text": f"Classified attacks per {'day' if daily else 'hour'} (anomalous windows shaded)",
            "x": 0.01,
        },
        "barmode": "stack",
        "bargap": 0,
        "shapes": shapes,
        "xaxis": {"title": "time (UTC)", "type": "date"},
        "yaxis": {"title": "entries"},
    }
    return go.Figure(data=data, layout=layout).to_plotly_json()
