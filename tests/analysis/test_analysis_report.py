"""report.html: self-contained, escaped, and rendered by a real browser with the insights' figures."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest
from analysis_helpers import fw, mail, numbered, write_events

from ppcti.analysis import analyse, write_report
from ppcti.errors import InputRefused

EVIL = '"><script>window.pwned=1</script><img src=x onerror=alert(1)>'
SOURCES = [f"45.33.{i}.{i + 10}" for i in range(6)]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder with a botnet, a shared attacker, a hostile sender address and STIX files."""
    root = tmp_path_factory.mktemp("run")
    events = [fw("acme", 40 * i, src, "10.0.0.5", port=22) for i, src in enumerate(SOURCES)]
    events += [fw("globex", 7200, SOURCES[0], "192.168.7.7", file="edge.log")]
    events += [mail("acme", 60, f"x{EVIL}@evil.example", ["alice@acme.example"])]
    write_events(root / "events.jsonl", numbered(events))
    (root / "summary.json").write_text('{"files": 2, "note": "' + EVIL.replace('"', "'") + '"}')
    (root / "cti").mkdir()
    (root / "cti" / "bundles.jsonl").write_text("{}\n")
    (root / "cti" / "aggregate.json").write_text("{}")
    analyse(root, root)
    write_report(root)
    return root


def test_report_is_self_contained_and_escaped(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text()
    assert "<script>window.pwned" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;window.pwned" in html  # the table shows it as text
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"?https?:", html)  # nothing fetched
    assert 'href="cti/bundles.jsonl"' in html and 'href="cti/aggregate.json"' in html


def test_report_without_stix_or_summary(tmp_path: Path, run_dir: Path) -> None:
    shutil.copy(run_dir / "insights.json", tmp_path / "insights.json")
    html = write_report(tmp_path).read_text()
    assert "cti/bundles.jsonl" in html and 'href="cti/' not in html  # mentioned, not linked
    with pytest.raises(InputRefused):
        write_report(tmp_path / "nowhere")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(_chromium() is None, reason="Debian's chromium is not installed")
def test_report_renders_in_headless_chromium(run_dir: Path, tmp_path: Path) -> None:
    insights = orjson.loads((run_dir / "insights.json").read_bytes())
    cmd = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
        "--window-size=1400,2000",
        "--dump-dom",
        (run_dir / "report.html").as_uri(),
    ]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
    # Plotly drew every figure (one main-svg per plot at least) ...
    assert dom.count('class="main-svg"') >= 4
    assert "plot-container" in dom
    # ... the hostile address stayed text ...
    assert "<script>window.pwned" not in dom
    assert '<img src="x"' not in dom
    # ... and the page shows the figures of insights.json.
    summary = insights["summary"]
    assert f'id="tile-events">{summary["events"]:,}<' in dom
    assert f'id="tile-botnets">{summary["counts"]["botnet_groups"]:,}<' in dom
    top = summary["top_attackers"][0]
    assert top["attacker"] == SOURCES[0]
    assert re.search(rf"{re.escape(top['attacker'])}</td><td class=\"num\">{top['events']}</td>", dom)
    (group,) = insights["botnets"]
    assert group["members"] == sorted(SOURCES)
    for member in group["members"]:
        assert member in dom
    assert ">192.168.7.7<" in dom and ">10.0.0.5<" in dom
    (shared,) = insights["cross_holder"]
    assert shared["attacker"] == SOURCES[0] and shared["holders_count"] == 2
