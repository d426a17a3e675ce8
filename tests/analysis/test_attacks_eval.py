"""The targets on held-out labelled data (tests/data/attacks/test, written independently of ppcti), and
classification of the real Suricata alerts in tests/data/corpora."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import orjson
import pytest
from stix2validator import ValidationOptions, validate_instance
from typer.testing import CliRunner

from ppcti.analysis.attacks.payload import HAVE_LIBINJECTION
from ppcti.cli import app

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("ppcti_bench_attacks_eval", ROOT / "bench" / "attacks_eval.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench
_spec.loader.exec_module(bench)

DATA = ROOT / "tests" / "data" / "attacks"
SURICATA = ROOT / "tests" / "data" / "corpora" / "suricata"


@pytest.mark.skipif(not HAVE_LIBINJECTION, reason="libinjection binding not installed")
@pytest.mark.parametrize("split", ["dev", "test"])
def test_payload_targets(split: str) -> None:
    scores = bench.evaluate_payloads(DATA / split)
    assert scores.support["sql-injection"] > 200 and scores.support["xss"] > 150
    for cls in ("sql-injection", "xss"):
        assert scores.precision(cls) >= 0.95, (cls, scores.precision(cls))
        assert scores.recall(cls) >= 0.90, (cls, scores.recall(cls))
    for cls in ("path-traversal", "command-injection"):
        assert scores.precision(cls) >= 0.90 and scores.recall(cls) >= 0.80, cls
    for name in bench.BENIGN_FILES:
        assert scores.benign[name] > 500
        assert scores.benign_rate(name) <= 0.01, (name, scores.benign_rate(name))


@pytest.mark.parametrize("split", ["dev", "test"])
def test_signature_mapping_on_labelled_alerts(split: str) -> None:
    scores = bench.evaluate_signatures(DATA / split)
    attacks = sum(scores.support.values())
    assert attacks > 80
    correct = sum(scores.tp.values())
    assert correct / attacks >= 0.75
    for cls in ("sql-injection", "xss", "dos", "brute-force"):
        assert scores.precision(cls) >= 0.85, cls


def test_scorer_counts_a_wrong_class_against_both() -> None:
    scores = bench.Scores()
    scores.add("xss", "sql-injection", "x")
    scores.add("xss", "xss", "y")
    scores.add(None, None, "z")
    assert scores.precision("sql-injection") == 0.0 and scores.recall("xss") == 0.5
    assert scores.precision("xss") == 1.0


@pytest.mark.slow
def test_real_suricata_alerts_are_classified(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["run", str(SURICATA), "--holder", "cert", "--out", str(out), "--skip", "pii", "--skip", "cti"]
    )
    assert result.exit_code == 0, result.output
    events = [orjson.loads(x) for x in (out / "events.jsonl").read_bytes().splitlines()]
    attacks = {
        (a["file"], a["line"]): a["attack"]
        for a in map(orjson.loads, (out / "attacks.jsonl").read_bytes().splitlines())
    }
    scans = policy = 0
    for event in events:
        name = event.get("extra", {}).get("signature", "")
        got = attacks.get((event["source_file"], event["line"]))
        if name.startswith("ET SCAN") and "Brute" not in name and "OUTBOUND" not in name:
            scans += 1
            assert got is not None and got["class"] == "port-scan", name
            assert got["techniques"] == ["T1046"] and got["evidence"]["field"] == "extra.signature"
        if name.startswith(("ET POLICY", "SURICATA HTTP", "SURICATA TLS", "GPL CHAT")):
            policy += 1
            assert got is None or got["evidence"]["rule"] != "sig-name-scan", name
    assert scans >= 10 and policy >= 10
    insights = orjson.loads((out / "insights.json").read_bytes())
    assert insights["attacks"]["counts"]["classified"] == len(attacks)
    bundle = orjson.loads((out / "cti" / "attacks.json").read_bytes())
    result = validate_instance(bundle, ValidationOptions(strict=True, version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]
    indicator_values = " ".join(o["pattern"] for o in bundle["objects"] if o["type"] == "indicator")
    assert "'10." not in indicator_values and "'192.168." not in indicator_values
