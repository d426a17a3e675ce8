"""Classification of events end to end: every detector on hand-made events, thresholds both sides,
attack fields in attacks.jsonl and insights.json, and no payload text in anything written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from analysis_helpers import fw, mail, numbered, write_events

from ppcti.analysis import analyse, write_report
from ppcti.analysis.attacks import AttackOptions, classify, scan
from ppcti.analysis.attacks.payload import HAVE_LIBINJECTION
from ppcti.errors import ConfigError

ATTACKER = "198.51.100.7"
MARKER = "zq9XMARKERq"  # inside payloads: must never leave in any output


def _http(offset: float, src: str, url: str, *, dst: str = "10.0.0.80") -> dict[str, Any]:
    event = fw("acme", offset, src, dst, port=80)
    event["format"] = "events-json"
    event["extra"] = {"event_type": "http", "url": url, "user_agent": "curl/8"}
    return event


def _alert(offset: float, src: str, signature: str, category: str, *, port: int = 443) -> dict[str, Any]:
    event = fw("acme", offset, src, "10.0.0.9", port=port)
    event["format"] = "events-json"
    event["extra"] = {"event_type": "alert", "signature": signature, "category": category, "severity": "2"}
    return event


def _classified(tmp_path: Path, events: list[dict[str, Any]], **opts: Any) -> dict[tuple[str, int], str]:
    path = write_events(tmp_path / "events.jsonl", numbered(events))
    frame = scan(path)
    found = classify(frame, AttackOptions(**opts))
    joined = frame.join(found, on="row")
    return {(r["source_file"], r["line"]): r["cls"] for r in joined.iter_rows(named=True)}


def test_brute_force_needs_the_threshold(tmp_path: Path) -> None:
    events = [fw("acme", i * 10, ATTACKER, "10.0.0.5", port=22, file="bf.log") for i in range(10)]
    events += [fw("acme", i * 10, "198.51.100.8", "10.0.0.5", port=22, file="few.log") for i in range(9)]
    got = _classified(tmp_path, events)
    assert {got[("bf.log", i)] for i in range(1, 11)} == {"brute-force"}
    assert not any(k[0] == "few.log" for k in got)


def test_brute_force_across_a_bucket_edge_is_found(tmp_path: Path) -> None:
    # 12 attempts within 4 minutes straddling a 10-minute bucket boundary (T0 is 10:00:00)
    events = [fw("acme", 480 + i * 20, ATTACKER, "10.0.0.5", port=3389) for i in range(12)]
    assert set(_classified(tmp_path, events).values()) == {"brute-force"}


def test_vertical_and_horizontal_scans(tmp_path: Path) -> None:
    vertical = [fw("acme", i, ATTACKER, "10.0.0.5", port=1000 + i, file="v.log") for i in range(12)]
    horizontal = [fw("acme", i, "198.51.100.9", f"10.0.1.{i}", port=8080, file="h.log") for i in range(12)]
    quiet = [fw("acme", i, "198.51.100.10", "10.0.0.5", port=1000 + i, file="q.log") for i in range(5)]
    got = _classified(tmp_path, vertical + horizontal + quiet)
    assert {v for k, v in got.items() if k[0] in ("v.log", "h.log")} == {"port-scan"}
    assert len([k for k in got if k[0] in ("v.log", "h.log")]) == 24
    assert not any(k[0] == "q.log" for k in got)


def test_flood_on_one_target(tmp_path: Path) -> None:
    flood = [fw("acme", i * 0.05, f"203.0.113.{i % 200}", "10.0.0.7", port=443) for i in range(700)]
    got = _classified(tmp_path, flood, flood_min_events=600)
    assert set(got.values()) == {"dos"} and len(got) == 700
    assert _classified(tmp_path, flood[:500], flood_min_events=600) == {}


def test_firewall_drop_email_verdicts_and_signatures(tmp_path: Path) -> None:
    dropped = fw("acme", 0, ATTACKER, "10.0.0.5", port=23, file="fw.log")
    dropped["extra"] = {"chain": "input", "prefix": "drop-tcp"}
    accepted = fw("acme", 5, ATTACKER, "10.0.0.5", port=23, file="fw.log")
    accepted["extra"] = {"chain": "dstnat"}
    mails = [
        mail("acme", 1, "x@bad.example", ["a@acme.example"], verdict="phish", file="m.csv"),
        mail("acme", 2, "y@bad.example", ["a@acme.example"], verdict="virus found", file="m.csv"),
        mail("acme", 3, "z@bad.example", ["a@acme.example"], verdict="spam", file="m.csv"),
    ]
    alerts = [
        _alert(0, "192.0.2.50", "ET SCAN NMAP -sS window 1024", "Attempted Information Leak"),
        _alert(1, "192.0.2.51", "ET POLICY curl User-Agent Outbound", "Attempted Information Leak"),
        _alert(2, "192.0.2.52", "ET MALWARE Win32/Emotet CnC Activity", "A Network Trojan was detected"),
    ]
    for a in alerts:
        a["source_file"] = "eve.json"
    got = _classified(tmp_path, [dropped, accepted, *mails, *alerts])
    assert got[("fw.log", 1)] == "probe" and ("fw.log", 2) not in got
    assert [got[("m.csv", i)] for i in (1, 2, 3)] == ["phishing", "malware-email", "spam"]
    assert got[("eve.json", 1)] == "port-scan"
    assert ("eve.json", 2) not in got  # policy alerts are not attacks
    assert got[("eve.json", 3)] == "malware-callback"


@pytest.mark.skipif(not HAVE_LIBINJECTION, reason="libinjection binding not installed")
def test_payload_in_http_fields_beats_a_generic_alert(tmp_path: Path) -> None:
    sqli = _http(0, ATTACKER, f"/item.php?id=1%27%20UNION%20SELECT%20password,{MARKER}%20FROM%20users--")
    sqli["extra"]["signature"] = "ET WEB_SERVER Suspicious Request"
    sqli["extra"]["category"] = "Web Application Attack"
    benign = _http(1, ATTACKER, "/search?q=rock+and+roll&page=2")
    got = _classified(tmp_path, [sqli, benign])
    assert got == {("fw.log", 1): "sql-injection"}


@pytest.mark.skipif(not HAVE_LIBINJECTION, reason="libinjection binding not installed")
def test_outputs_carry_attack_fields_and_never_the_payload(tmp_path: Path) -> None:
    events = [
        _http(i * 30, ATTACKER, f"/p?q=%3Cscript%3Ealert({MARKER})%3C/script%3E&i={i}") for i in range(3)
    ]
    events += [fw("acme", i * 10, "198.51.100.20", "10.0.0.5", port=22, file="bf.log") for i in range(15)]
    events += [mail("acme", 7, "x@bad.example", ["a@acme.example"], verdict="phish")]
    path = write_events(tmp_path / "run" / "events.jsonl", numbered(events))
    out = tmp_path / "out"
    insights = analyse(path, out)
    write_report(out, insights)
    lines = [orjson.loads(x) for x in (out / "attacks.jsonl").read_bytes().splitlines()]
    by_class = {ln["attack"]["class"]: ln for ln in lines}
    assert set(by_class) == {"xss", "brute-force", "phishing"}
    xss = by_class["xss"]["attack"]
    assert xss["techniques"] == ["T1190"] and xss["capec"] == ["CAPEC-63"]
    assert xss["evidence"]["field"] == "extra.url" and xss["evidence"]["rule"].startswith(
        ("libinjection", "xss")
    )
    assert 0 < xss["confidence"] <= 1
    assert by_class["brute-force"]["attack"]["techniques"] == ["T1110"]
    assert by_class["phishing"]["attack"]["techniques"] == ["T1566"]
    classes = {c["cls"]: c for c in insights["attacks"]["classes"]}
    assert classes["brute-force"]["events"] == 15 and classes["xss"]["events"] == 3
    assert classes["brute-force"]["capec"] == ["CAPEC-49"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="attack-classes"' in html and 'id="campaign-table"' in html and 'id="fig-attacks"' in html
    assert "T1110" in html and "CAPEC-63" in html and "Cross-site scripting" in html
    assert 'href="cti/attacks.json"' in html
    for name in ("insights.json", "attacks.jsonl", "cti/attacks.json", "report.html"):
        assert MARKER.lower() not in (out / name).read_text(encoding="utf-8").lower(), name


def test_bad_options_are_clear() -> None:
    with pytest.raises(ConfigError, match="brute_force_window"):
        AttackOptions(brute_force_window="soon")
    with pytest.raises(ConfigError, match="flood_min_events"):
        AttackOptions(flood_min_events=0)


def test_every_attack_option_is_documented() -> None:
    from dataclasses import fields

    docs = (Path(__file__).resolve().parents[2] / "docs" / "analysis.md").read_text(encoding="utf-8")
    for f in fields(AttackOptions):
        assert f.metadata["help"].strip()
        assert f"`{f.name}`" in docs, f"{f.name} missing from docs/analysis.md"


@pytest.mark.parametrize(
    ("events", "classified"),
    [
        ([fw("acme", i, ATTACKER, "10.0.0.5", port=80) for i in range(3)], 0),
        (
            [
                {k: v for k, v in fw("acme", i, ATTACKER, "10.0.0.5").items() if k != "timestamp"}
                for i in range(20)
            ],
            0,
        ),
        ([mail("acme", i, "x@bad.example", ["a@acme.example"], verdict="phish") for i in range(3)], 3),
        ([mail("acme", i, "x@bad.example", ["a@acme.example"], verdict="clean") for i in range(3)], 0),
    ],
    ids=["nothing-to-classify", "no-timestamps", "mail-only", "benign-mail-only"],
)
def test_small_and_odd_inputs_give_a_complete_attacks_section(
    tmp_path: Path, events: list[dict[str, Any]], classified: int
) -> None:
    path = write_events(tmp_path / "events.jsonl", numbered(events))
    attacks = analyse(path, tmp_path / "out")["attacks"]
    assert attacks["counts"]["classified"] == classified
    assert len((tmp_path / "out" / "attacks.jsonl").read_bytes().splitlines()) == classified
    assert (len(attacks["campaigns"]) > 0) == (classified > 0)
    assert write_report(tmp_path / "out").is_file()


def test_cli_attack_options(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ppcti.cli import app

    events = [fw("acme", i * 10, ATTACKER, "10.0.0.5", port=22) for i in range(12)]
    path = write_events(tmp_path / "events.jsonl", numbered(events))
    runner = CliRunner()
    ok = runner.invoke(app, ["analyse", str(path), "--out", str(tmp_path / "a"), "--no-report"])
    assert ok.exit_code == 0, ok.output
    strict = runner.invoke(
        app,
        [
            "analyse",
            str(path),
            "--out",
            str(tmp_path / "b"),
            "--no-report",
            "--attack-option",
            "brute_force_min_attempts=20",
            "--attack-option",
            "brute_force_ports=22,2222",
        ],
    )
    assert strict.exit_code == 0, strict.output
    first = orjson.loads((tmp_path / "a" / "insights.json").read_bytes())["attacks"]
    second = orjson.loads((tmp_path / "b" / "insights.json").read_bytes())["attacks"]
    assert first["counts"]["classified"] == 12 and second["counts"]["classified"] == 0
    assert second["options"]["brute_force_ports"] == [22, 2222]
    bad = runner.invoke(
        app, ["analyse", str(path), "--out", str(tmp_path / "c"), "--attack-option", "nope=1"]
    )
    # ppcti.cli.main turns the ConfigError into a message and exit code 2, as for the other options
    assert bad.exit_code != 0 and isinstance(bad.exception, ConfigError)
    assert "attack option" in str(bad.exception)
