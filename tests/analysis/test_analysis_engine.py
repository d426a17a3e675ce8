"""analyse() on hand-built event sets whose answer is known."""

from __future__ import annotations

from pathlib import Path

import orjson
import polars as pl
import pytest
from analysis_helpers import fw, mail, numbered, write_events

from ppcti.analysis import AnalysisOptions, analyse, load
from ppcti.errors import ConfigError, FormatError, InputRefused

BOTNET = [f"45.33.{i}.{i + 10}" for i in range(6)]


def _botnet_events(sources: list[str], port: int = 22) -> list[dict]:
    # One hit each, 50 s apart: all inside 5 minutes.
    return [fw("acme", 50 * i, src, "10.0.0.5", port=port) for i, src in enumerate(sources)]


def test_six_sources_make_one_botnet_group(tmp_path: Path) -> None:
    noise = [fw("acme", 9000, "45.33.0.10", "10.0.0.5"), fw("acme", 100, "198.51.100.9", "10.0.0.5", port=80)]
    path = write_events(tmp_path / "events.jsonl", numbered(_botnet_events(BOTNET) + noise))
    insights = analyse(path, tmp_path / "out", options=AnalysisOptions(botnet_min_sources=6))
    assert len(insights["botnets"]) == 1
    group = insights["botnets"][0]
    assert group["members"] == sorted(BOTNET)
    assert (group["target"], group["service"], group["holder"]) == ("10.0.0.5", "TCP/22", "acme")
    assert group["window_start"] == "2023-03-07T10:00:00Z"
    assert group["window_end"] == "2023-03-07T10:04:10Z"
    assert group["entries_count"] == 6
    assert group["entries"] == [{"file": "fw.log", "line": i} for i in range(1, 7)]
    assert group["target_private"] is True


def test_five_sources_are_not_a_botnet_at_threshold_six(tmp_path: Path) -> None:
    path = write_events(tmp_path / "events.jsonl", numbered(_botnet_events(BOTNET[:5])))
    assert analyse(path, tmp_path / "out", options=AnalysisOptions(botnet_min_sources=6))["botnets"] == []
    assert len(analyse(path, tmp_path / "out", options=AnalysisOptions(botnet_min_sources=5))["botnets"]) == 1


def test_different_ports_are_different_targets_unless_matching_protocol(tmp_path: Path) -> None:
    events = [fw("acme", 30 * i, src, "10.0.0.5", port=22 if i % 2 else 23) for i, src in enumerate(BOTNET)]
    path = write_events(tmp_path / "events.jsonl", numbered(events))
    assert analyse(path, tmp_path / "o", options=AnalysisOptions(botnet_min_sources=6))["botnets"] == []
    by_proto = analyse(
        path, tmp_path / "o", options=AnalysisOptions(botnet_min_sources=6, botnet_match="protocol")
    )
    assert [g["service"] for g in by_proto["botnets"]] == ["TCP"]


def test_sweep_of_twelve_targets(tmp_path: Path) -> None:
    targets = [f"10.1.0.{i}" for i in range(1, 13)]
    events = [fw("acme", 10 * i, "203.0.113.50", t, port=445) for i, t in enumerate(targets)]
    events.append(fw("acme", 5, "203.0.113.51", "10.1.0.1"))  # someone else: not part of the sweep
    path = write_events(tmp_path / "events.jsonl", numbered(events))
    sweeps = analyse(path, tmp_path / "o", options=AnalysisOptions(sweep_min_targets=12))["sweeps"]
    assert len(sweeps) == 1
    assert sweeps[0]["source"] == "203.0.113.50"
    assert sweeps[0]["targets"] == sorted(targets)
    assert sweeps[0]["services"] == ["TCP/445"]
    assert sweeps[0]["entries_count"] == 12
    assert analyse(path, tmp_path / "o", options=AnalysisOptions(sweep_min_targets=13))["sweeps"] == []
    slow = AnalysisOptions(sweep_min_targets=12, sweep_window="1m")  # 110 s from first to last hit
    assert analyse(path, tmp_path / "o", options=slow)["sweeps"] == []


def test_two_holders_share_an_attacker(tmp_path: Path) -> None:
    acme = write_events(
        tmp_path / "acme" / "events.jsonl",
        numbered(
            [
                fw("acme", 0, "203.0.113.9", "10.0.0.1"),
                fw("acme", 60, "203.0.113.9", "10.0.0.2"),
                fw("acme", 60, "192.168.1.7", "10.0.0.2"),  # private source: never correlated
                fw("acme", 90, "198.51.100.1", "10.0.0.2"),
            ]
        ),
    )
    globex = write_events(
        tmp_path / "globex" / "events.jsonl",
        numbered(
            [
                fw("globex", 3600, "203.0.113.9", "172.16.0.4", file="edge.log"),
                fw("globex", 3600, "192.168.1.7", "172.16.0.4", file="edge.log"),
            ]
        ),
    )
    insights = analyse([tmp_path / "acme", globex], tmp_path / "o")  # a run folder and a file
    shared = insights["cross_holder"]
    assert [c["attacker"] for c in shared] == ["203.0.113.9"]
    per = {h["holder"]: h for h in shared[0]["holders"]}
    assert (per["acme"]["events"], per["globex"]["events"]) == (2, 1)
    assert per["globex"]["entries"] == [{"file": "edge.log", "line": 1}]
    assert per["acme"]["first_seen"] == "2023-03-07T10:00:00Z"
    assert shared[0]["last_seen"] == "2023-03-07T11:00:00Z"
    assert acme.exists()
    with_private = analyse(
        [acme, globex], tmp_path / "o", options=AnalysisOptions(cross_include_private=True)
    )
    assert [c["attacker"] for c in with_private["cross_holder"]] == ["203.0.113.9", "192.168.1.7"]


def test_targets_nat_and_timelines(tmp_path: Path) -> None:
    events = numbered(
        [
            fw(
                "acme", 0, "203.0.113.9", "198.51.100.20", nat="10.0.0.7", port=443
            ),  # NAT'd to a private host
            fw(
                "acme", 30, "203.0.113.8", "10.0.0.7", nat="10.0.0.7", port=443
            ),  # same address twice: one attack
            fw("acme", 7200, "203.0.113.9", "10.0.0.7", proto="ICMP", port=None),
            fw("acme", 7300, "203.0.113.9", "8.8.8.8"),  # public target: not infrastructure
        ]
    )
    path = write_events(tmp_path / "events.jsonl", events)
    insights = analyse(path, tmp_path / "o")
    (target,) = insights["targets"]
    assert target["target"] == "10.0.0.7" and target["range"] == "rfc1918"
    assert target["attacks"] == 3
    assert target["attackers"] == [{"value": "203.0.113.9", "count": 2}, {"value": "203.0.113.8", "count": 1}]
    assert target["protocols"] == ["ICMP", "TCP"]
    assert target["ports"] == [{"value": 443, "count": 2}]
    assert target["per_hour"] == [
        {"t": "2023-03-07T10:00:00Z", "n": 2},
        {"t": "2023-03-07T12:00:00Z", "n": 1},
    ]
    assert target["per_day"] == [{"t": "2023-03-07T00:00:00Z", "n": 3}]
    assert (target["first_seen"], target["last_seen"]) == ("2023-03-07T10:00:00Z", "2023-03-07T12:00:00Z")
    infra = orjson.loads((tmp_path / "o" / "infrastructure.json").read_bytes())
    assert infra["holders"]["acme"]["ips"] == [{"address": "10.0.0.7", "range": "rfc1918", "attacks": 3}]


def test_internal_mailboxes_detected_and_configured(tmp_path: Path) -> None:
    events = numbered(
        [
            mail("acme", 0, "bad@evil.example", ["alice@acme.example"]),
            mail("acme", 10, "worse@spam.example", ["alice@acme.example", "bob@acme.example"]),
            mail("acme", 20, "bad@evil.example", ["carol@acme.example", "partner@other.example"]),
            mail("acme", 30, "fine@news.example", ["alice@acme.example"], verdict="Clean"),
            mail("acme", 40, "bad@evil.example", ["alice@acme.example"]),
        ]
    )  # other.example receives 1 of 5 entries: below the 25 % share, so not internal
    path = write_events(tmp_path / "events.jsonl", events)
    insights = analyse(path, tmp_path / "o")
    got = {t["target"]: t["attacks"] for t in insights["targets"]}
    assert got == {"alice@acme.example": 3, "bob@acme.example": 1, "carol@acme.example": 1}
    assert insights["summary"]["benign_email_entries_skipped"] == 1
    infra = orjson.loads((tmp_path / "o" / "infrastructure.json").read_bytes())
    assert infra["holders"]["acme"]["internal_email_domains"] == ["acme.example"]
    configured = analyse(
        path, tmp_path / "o", options=AnalysisOptions(internal_email_domains=("other.example",))
    )
    assert [t["target"] for t in configured["targets"]] == ["partner@other.example"]
    top = {a["attacker"]: a["events"] for a in insights["summary"]["top_attackers"]}
    assert top == {"bad@evil.example": 3, "worse@spam.example": 1}


def test_output_is_deterministic_and_complete(tmp_path: Path) -> None:
    events = numbered([*_botnet_events(BOTNET), fw("globex", 5, BOTNET[0], "10.9.9.9")])
    path = write_events(tmp_path / "events.jsonl", events)
    first = analyse(path, tmp_path / "a")
    analyse(path, tmp_path / "b")
    for name in ("insights.json", "infrastructure.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert orjson.loads((tmp_path / "a" / "insights.json").read_bytes()) == first
    summary = first["summary"]
    assert summary["events"] == 7
    assert summary["events_per_holder"] == [
        {"holder": "acme", "events": 6},
        {"holder": "globex", "events": 1},
    ]
    assert summary["top_attackers"][0] == {
        "kind": "ip",
        "attacker": BOTNET[0],
        "events": 2,
        "holders": ["acme", "globex"],
        "first_seen": "2023-03-07T10:00:00Z",
        "last_seen": "2023-03-07T10:00:05Z",
    }


def test_events_without_time_are_counted_not_windowed(tmp_path: Path) -> None:
    events = numbered(_botnet_events(BOTNET))
    for event in events:
        del event["timestamp"]
    events[0]["timestamp"] = "yesterday"
    path = write_events(tmp_path / "events.jsonl", events)
    insights = analyse(path, tmp_path / "o")
    assert insights["summary"]["events_without_timestamp"] == 6
    assert insights["botnets"] == []
    assert insights["targets"][0]["attacks"] == 6 and insights["targets"][0]["first_seen"] is None


def test_bad_inputs_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputRefused, match="no such file"):
        analyse(tmp_path / "missing.jsonl", tmp_path / "o")
    with pytest.raises(InputRefused, match=r"no events\.jsonl"):
        analyse(tmp_path, tmp_path / "o")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"holder": "acme", "line": 1}\n{"holder": \n')
    with pytest.raises(FormatError) as err:
        analyse(broken, tmp_path / "o")
    assert "broken.jsonl" in str(err.value)
    # a Parquet file whose ``extra`` is text, not a struct: refused by name, no Polars traceback
    odd = tmp_path / "odd.parquet"
    pl.DataFrame({"holder": ["acme"], "line": [1], "extra": ["{}"]}).write_parquet(odd)
    with pytest.raises(FormatError) as err:
        analyse(odd, tmp_path / "o")
    assert "odd.parquet" in str(err.value)
    with pytest.raises(ConfigError):
        AnalysisOptions(botnet_window="ten minutes")
    with pytest.raises(ConfigError):
        AnalysisOptions(botnet_min_sources=0)


def test_outbound_traffic_is_not_an_attack(tmp_path: Path) -> None:
    servers = [f"93.184.{i}.34" for i in range(12)]
    browsing = [fw("acme", 20 * i, "192.168.1.50", s, port=443) for i, s in enumerate(servers)]
    lateral = [fw("acme", 5, "192.168.1.50", "192.168.1.1", port=445)]
    path = write_events(tmp_path / "events.jsonl", numbered(browsing + lateral))
    insights = analyse(path, tmp_path / "o")
    assert insights["sweeps"] == []
    assert insights["summary"]["outbound_entries_skipped"] == 12
    assert [t["target"] for t in insights["targets"]] == ["192.168.1.1"]  # lateral traffic is kept
    kept = analyse(path, tmp_path / "o", options=AnalysisOptions(include_outbound=True))
    assert [s["targets_count"] for s in kept["sweeps"]] == [13]


def test_empty_input_gives_empty_insights_and_a_report(tmp_path: Path) -> None:
    from ppcti.analysis import write_report

    path = tmp_path / "events.jsonl"
    path.write_text("")
    insights = analyse(path, tmp_path)
    assert insights["summary"]["events"] == 0
    assert insights["targets"] == insights["botnets"] == insights["sweeps"] == insights["cross_holder"] == []
    html = write_report(tmp_path).read_text()
    assert "No botnet group reached the threshold" in html
    assert 'class="ppcti-figure"' not in html  # no chart without data


def test_address_seen_as_private_source_and_as_sender(tmp_path: Path) -> None:
    """One text both a private source (acme's firewall) and an e-mail sender (at both holders): the
    shared per-attacker counts are split by the private flag, so cross-holder and the summary must
    still count as if each grouped the events itself."""
    from ppcti.analysis.cross import attacker_counts, whole_attackers
    from ppcti.analysis.load import load

    odd = "192.168.1.7"
    path = write_events(
        tmp_path / "events.jsonl",
        numbered(
            [
                fw("acme", 0, odd, "10.0.0.1"),
                mail("acme", 60, odd, ["staff@acme.example"]),
                mail("globex", 120, odd, ["staff@globex.example"]),
            ]
        ),
    )
    assert whole_attackers(attacker_counts(load(path, AnalysisOptions()).events)) is None
    insights = analyse(path, tmp_path / "o", partitions=0)
    (shared,) = insights["cross_holder"]  # the sender only: a private source is never correlated
    assert (shared["kind"], shared["holders_count"], shared["events"]) == ("email", 2, 2)
    (top,) = insights["summary"]["top_attackers"]
    assert (top["attacker"], top["events"], top["holders"]) == (odd, 3, ["acme", "globex"])
    with_private = analyse(
        path, tmp_path / "p", partitions=0, options=AnalysisOptions(cross_include_private=True)
    )
    assert [(c["attacker"], c["events"]) for c in with_private["cross_holder"]] == [(odd, 3)]


def test_attacker_of_every_mix_of_format_source_and_sender() -> None:
    """The attacker is the sender of e-mail and the source address otherwise, each the other's fallback."""
    rows = [
        (fmt, ip, sender)
        for fmt in ("email-csv", "firewall", "unknown")
        for ip in ("203.0.113.9", None)
        for sender in ("bad@evil.example", None)
    ]
    frame = pl.DataFrame(rows, schema=["format", "src_ip", "sender"], orient="row")
    got = frame.select(load._attacker_columns()[:2]).rows()
    want = []
    for fmt, ip, sender in rows:
        by_mail, by_ip = (sender, "email"), (ip, "ip")
        first, second = (by_mail, by_ip) if fmt == "email-csv" else (by_ip, by_mail)
        want.append(first if first[0] is not None else second if second[0] is not None else (None, None))
    assert got == want


@pytest.mark.parametrize("failing", ["botnets", "analyse_attacks"])
def test_a_failing_lane_fails_the_analysis_and_leaves_no_attacks_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """Sweeps and the attack classification run on a second thread: an error on either lane reaches the
    caller, and the attacks.jsonl the other lane may have written is taken back."""
    import ppcti.analysis.engine as engine

    path = write_events(tmp_path / "events.jsonl", numbered(_botnet_events(BOTNET)))
    out = tmp_path / "out"
    out.mkdir()
    (out / "attacks.jsonl").write_text("from an earlier run\n")

    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("lane failed")

    monkeypatch.setattr(engine, failing, boom)
    with pytest.raises(RuntimeError, match="lane failed"):
        analyse(path, out, partitions=0)
    assert not (out / "attacks.jsonl").exists()
