"""``ppcti analyse`` and ``ppcti report`` through the real Typer app."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import orjson
import pytest
from analysis_helpers import fw, numbered, write_events
from typer.testing import CliRunner

from ppcti.analysis import AnalysisOptions
from ppcti.analysis.options import duration_us, option_help
from ppcti.cli import app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "analysis.md"


def _two_runs(tmp_path: Path) -> tuple[Path, Path]:
    sources = [f"45.33.{i}.1" for i in range(4)]
    a = write_events(
        tmp_path / "a" / "events.jsonl",
        numbered([fw("acme", 30 * i, s, "10.0.0.5") for i, s in enumerate(sources)]),
    )
    b = write_events(tmp_path / "b.jsonl", numbered([fw("globex", 100, sources[0], "10.2.2.2")]))
    return a.parent, b


def test_analyse_several_runs_with_thresholds(tmp_path: Path) -> None:
    run_a, file_b = _two_runs(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "analyse",
            str(run_a),
            str(file_b),
            "--out",
            str(out),
            "--botnet-min-sources",
            "4",
            "--botnet-window",
            "5m",
        ],
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {
        "insights.json",
        "infrastructure.json",
        "report.html",
        "attacks.jsonl",
        "cti",
    }
    insights = orjson.loads((out / "insights.json").read_bytes())
    assert insights["options"]["botnet_min_sources"] == 4 and insights["options"]["botnet_window"] == "5m"
    assert len(insights["botnets"]) == 1
    assert [c["attacker"] for c in insights["cross_holder"]] == ["45.33.0.1"]
    assert "1 botnet groups" in result.output


def test_bad_threshold_and_missing_input_are_clear(tmp_path: Path) -> None:
    run_a, _ = _two_runs(tmp_path)
    result = CliRunner().invoke(
        app, ["analyse", str(run_a), "--out", str(tmp_path / "o"), "--sweep-window", "soon"]
    )
    assert result.exit_code != 0
    assert "sweep_window" in str(result.exception or result.output)
    missing = CliRunner().invoke(app, ["analyse", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")])
    assert missing.exit_code != 0


def test_report_command_rebuilds_the_page(tmp_path: Path) -> None:
    run_a, _ = _two_runs(tmp_path)
    assert CliRunner().invoke(app, ["analyse", str(run_a), "--out", str(run_a), "--no-report"]).exit_code == 0
    assert not (run_a / "report.html").exists()
    result = CliRunner().invoke(app, ["report", str(run_a)])
    assert result.exit_code == 0, result.output
    assert (run_a / "report.html").stat().st_size > 1_000_000  # plotly.js is inline


@pytest.mark.parametrize(
    ("text", "us"), [("30s", 30_000_000), ("10m", 600_000_000), ("2h", 7_200_000_000), ("1d", 86_400_000_000)]
)
def test_durations(text: str, us: int) -> None:
    assert duration_us(text) == us


def test_every_option_has_help_and_is_documented() -> None:
    docs = DOCS.read_text()
    for f in fields(AnalysisOptions):
        assert option_help()[f.name].strip()
        assert f"`{f.name}`" in docs, f"{f.name} missing from docs/analysis.md"


def test_public_names_exist() -> None:
    import ppcti.analysis

    assert sorted(ppcti.analysis.__all__) == sorted(
        [
            "INFRASTRUCTURE_FILE",
            "INSIGHTS_FILE",
            "REPORT_FILE",
            "STAGES",
            "AnalysisOptions",
            "analyse",
            "write_report",
        ]
    )
    assert all(hasattr(ppcti.analysis, name) for name in ppcti.analysis.__all__)
