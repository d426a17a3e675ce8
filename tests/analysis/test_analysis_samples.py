"""End to end on the project's synthetic logs: every botnet burst of the ground truth is found."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson
from typer.testing import CliRunner

from ppcti.cli import app


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def test_sample_bursts_are_found(tmp_path: Path) -> None:
    runner = CliRunner()
    samples, run = tmp_path / "samples", tmp_path / "run"
    made = runner.invoke(app, ["samples", "--out", str(samples), "--rows", "300"])
    assert made.exit_code == 0, made.output
    config = orjson.loads((samples / "ground_truth_config.json").read_bytes())
    ran = runner.invoke(
        app,
        ["run", str(samples), "--holder", "acme", "--out", str(run), "--year", str(config["year"]),
         "--date", config["date_for_time_only"], "--timezone", config["timezone"],
         "--skip", "pii", "--skip", "cti", "--skip", "analysis", "--skip", "report"],
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    result = runner.invoke(app, ["analyse", str(run), "--out", str(run)])
    assert result.exit_code == 0, result.output

    truth = orjson.loads((samples / "ground_truth_campaigns.json").read_bytes())
    targets = {b["name"]: (b["target"], f"{b['protocol']}/{b['port']}") for b in truth["botnets"]}
    groups = orjson.loads((run / "insights.json").read_bytes())["botnets"]
    assert truth["bursts"]
    for burst in truth["bursts"]:
        target, service = targets[burst["group"]]
        found = [
            g for g in groups
            if (g["target"], g["service"]) == (target, service)
            and set(burst["members_seen"]) <= set(g["members"])
            and _at(g["window_start"]) <= _at(burst["start"]) <= _at(g["window_end"])
        ]  # fmt: skip
        assert found, f"burst of {burst['group']} in {burst['source_file']} not found"
    # Every group is one of the planted campaigns: no false botnets from background traffic.
    planted = set(targets.values())
    assert all((g["target"], g["service"]) in planted for g in groups)
