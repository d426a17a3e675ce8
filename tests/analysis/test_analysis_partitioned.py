"""The partitioned analysis gives the in-memory analysis' files byte for byte (issue #17).

The in-memory path is the reference; the partitioned one runs with small slices and flushes so that
every merge (several slices, several flushes, several partitions, ``attacks.jsonl`` blocks) is used.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from analysis_helpers import fw, mail, numbered, write_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import ppcti.analysis.partitioned as partitioned
import ppcti.analysis.spill as spill
from ppcti.analysis import AnalysisOptions, analyse
from ppcti.analysis.attacks import AttackOptions
from ppcti.cli import app
from ppcti.errors import ConfigError, FormatError

FILES = ("insights.json", "infrastructure.json", "attacks.jsonl")
ATTACK_OPTIONS = AttackOptions(flood_min_events=25, brute_force_min_attempts=6, max_listed=15)


@pytest.fixture
def small_slices(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Slices of a few KB, a flush every 300 events, attacks.jsonl merged 250 rows at a time; records
    the partitions of every spill, so a test can tell the partitioned path really ran."""
    monkeypatch.setattr(spill, "CHUNK_BYTES", 16_384)
    monkeypatch.setattr(spill, "CHUNK_ROWS", 200)
    monkeypatch.setattr(spill, "FLUSH_ROWS", 300)
    monkeypatch.setattr(partitioned, "MERGE_ROWS", 250)
    calls: list[int] = []
    real = partitioned.spill

    def recording(files: Any, options: Any, parts: int, folder: Path) -> Any:
        calls.append(parts)
        return real(files, options, parts, folder)

    monkeypatch.setattr(partitioned, "spill", recording)
    return calls


def _planted(seed: int = 3) -> list[dict[str, Any]]:
    """Background noise plus every pattern the analyses look for, over three holders."""
    rng = random.Random(seed)
    holders = ("acme", "globex", "initech")
    public = [f"45.{rng.randrange(1, 200)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(60)]
    private = [f"10.0.{i // 250}.{i % 250 + 1}" for i in range(40)]
    events: list[dict[str, Any]] = []
    for _ in range(900):  # noise, a few busy attackers
        src = public[min(int(rng.paretovariate(1.2)) - 1, 59)]
        outside = f"93.184.{rng.randrange(4)}.{rng.randrange(1, 9)}"
        dst = rng.choice(private) if rng.random() < 0.7 else outside
        port = rng.choice((22, 23, 80, 443, 445, 3389, None))
        event = fw(rng.choice(holders), rng.uniform(0, 86_400 * 3), src, dst, port=port)
        if rng.random() < 0.05:
            event["nat_ip"] = "10.9.0.1"
        if rng.random() < 0.05:
            event["extra"] = {"chain": "INPUT-DROP"}
        if rng.random() < 0.05:
            event["extra"] = {"url": "/item.php?id=1' UNION SELECT password FROM users--"}
        if rng.random() < 0.01:
            event.pop("timestamp")
        events.append(event)
    for b in range(4):  # botnets: 7 sources on one target within 4 minutes
        start = rng.uniform(0, 86_400 * 3)
        target, holder = rng.choice(private), holders[b % 3]
        events += [fw(holder, start + 30 * i, rng.choice(public), target, port=23) for i in range(7)]
    for s in range(3):  # sweeps: one source, 12 targets
        start, src = rng.uniform(0, 86_400 * 3), f"185.220.{s}.9"
        events += [fw(holders[s], start + 10 * i, src, private[i], port=445) for i in range(12)]
    for h in holders:  # one attacker seen by every holder
        events.append(fw(h, rng.uniform(0, 86_400), "198.51.100.77", rng.choice(private)))
    flood_start = rng.uniform(0, 86_400)  # a flood on one target, from many sources
    events += [fw("acme", flood_start + i, public[i % 60], "10.0.0.99", port=80) for i in range(40)]
    # brute force
    events += [fw("globex", 500 + 5 * i, "203.0.113.5", "10.0.0.7", port=22) for i in range(10)]
    events.append(fw("acme", 42, "10.0.0.3", "93.184.0.1"))  # outbound
    for i in range(150):  # mail: internal recipients, a few outsiders, some clean
        holder = holders[i % 3]
        rcpt = [f"staff{rng.randrange(20)}@{holder}.example"]
        if rng.random() < 0.1:
            rcpt.append("someone@partner.example")
        verdict = rng.choice(("phish", "spam", "malware", "clean"))
        sender = f"user{rng.randrange(30)}@spam.example"
        events.append(mail(holder, rng.uniform(0, 86_400 * 3), sender, rcpt, verdict=verdict))
    rng.shuffle(events)
    return numbered(events)


def _run(path: Path | list[Path], out: Path, parts: int, **kw: Any) -> dict[str, bytes]:
    analyse(path, out, partitions=parts, attack_options=kw.pop("attack_options", ATTACK_OPTIONS), **kw)
    assert not [p.name for p in out.iterdir() if p.name.startswith(".spill")], "spill folder left behind"
    return {name: (out / name).read_bytes() for name in FILES}


@pytest.mark.parametrize("parts", [1, 3, 8])
def test_partitioned_files_equal_in_memory_files(tmp_path: Path, small_slices: list[int], parts: int) -> None:
    events = _planted()
    # two inputs, one of them Parquet: rows are numbered across files, slices within each
    first = write_events(tmp_path / "a.jsonl", events[:700])
    second = tmp_path / "b.parquet"
    pl.read_ndjson(write_events(tmp_path / "b.jsonl", events[700:])).write_parquet(second)
    options = AnalysisOptions(botnet_min_sources=6, sweep_min_targets=10, max_targets=7, top_n=5, max_cross=5)
    reference = _run([first, second], tmp_path / "memory", 0, options=options)
    assert small_slices == []
    got = _run([first, second], tmp_path / f"p{parts}", parts, options=options)
    assert small_slices == [parts]
    insights = orjson.loads(reference["insights.json"])
    # the planted patterns are there, so equality is about something
    assert insights["summary"]["counts"]["botnet_groups"] >= 4
    assert insights["summary"]["counts"]["sweeps"] >= 3
    assert insights["summary"]["counts"]["cross_holder_attackers"] >= 1
    assert insights["summary"]["benign_email_entries_skipped"] > 0
    classes = {c["cls"] for c in insights["attacks"]["classes"]}
    assert {"dos", "brute-force", "probe", "phishing"} <= classes
    assert reference["attacks.jsonl"].count(b"\n") > 100
    for name in FILES:
        assert got[name] == reference[name], name


def test_a_partition_of_one_attacker_gives_the_same_spans(tmp_path: Path) -> None:
    # Polars divides a column of one row by a constant exactly but several rows by multiplying with the
    # reciprocal: a span of 2,100 s was 0.5833333333333334 h alone and 0.5833333333333333 among others
    events = [
        dict(fw("acme", t, src, "10.0.0.1", port=22), extra={"chain": "INPUT-DROP"})
        for src in ("45.1.1.1", "45.1.1.2", "45.1.1.3")
        for t in (0.0, 2100.0)
    ]
    path = write_events(tmp_path / "e.jsonl", numbered(events))
    options = AttackOptions(brute_force_min_attempts=2)
    reference = _run(path, tmp_path / "memory", 0, attack_options=options)
    spans = {a["span_hours"] for a in orjson.loads(reference["insights.json"])["attacks"]["attackers"]}
    assert len(spans) == 1 and abs(next(iter(spans)) - 2100 / 3600) < 1e-12
    for parts in (3, 7):
        assert _run(path, tmp_path / f"p{parts}", parts, attack_options=options) == reference, parts


def test_automatic_choice_stays_in_memory_for_small_inputs(tmp_path: Path, small_slices: list[int]) -> None:
    path = write_events(tmp_path / "e.jsonl", _planted()[:50])
    analyse(path, tmp_path / "o")
    assert small_slices == []
    assert partitioned.auto_partitions([path]) == 0


def test_automatic_choice_partitions_large_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_events(tmp_path / "e.jsonl", _planted()[:50])
    monkeypatch.setattr(partitioned, "IN_MEMORY_MAX_EVENTS", 10)
    monkeypatch.setattr(partitioned, "EVENTS_PER_PART", 20)
    assert partitioned.auto_partitions([path]) == -(-(path.stat().st_size // spill.BYTES_PER_EVENT) // 20)


def test_spill_folder_removed_when_the_analysis_fails(
    tmp_path: Path, small_slices: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_events(tmp_path / "e.jsonl", _planted()[:300])

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(partitioned, "finish", broken)
    with pytest.raises(RuntimeError, match="boom"):
        analyse(path, tmp_path / "o", partitions=3)
    assert small_slices == [3]
    assert [p.name for p in (tmp_path / "o").iterdir() if p.name.startswith(".spill")] == []


def test_negative_partitions_are_refused(tmp_path: Path) -> None:
    path = write_events(tmp_path / "e.jsonl", _planted()[:5])
    with pytest.raises(ConfigError, match="partitions"):
        analyse(path, tmp_path / "o", partitions=-1)


_HOLDERS = st.sampled_from(["acme", "globex", "initech"])
_SOURCES = st.sampled_from(["45.1.1.1", "45.1.1.2", "45.1.1.3", "45.2.0.9", "10.0.0.3", "192.168.1.5"])
_TARGETS = st.sampled_from(["10.0.0.1", "10.0.0.2", "10.0.0.3", "172.16.0.4", "93.184.0.1", "8.8.8.8"])
_FW = st.builds(
    fw,
    _HOLDERS,
    st.integers(0, 3_600).map(float),
    st.one_of(st.none(), _SOURCES),
    st.one_of(st.none(), _TARGETS),
    port=st.sampled_from([22, 23, 80, None]),
    nat=st.one_of(st.none(), _TARGETS),
)
_MAIL = st.builds(
    mail,
    _HOLDERS,
    st.integers(0, 3_600).map(float),
    st.sampled_from(["a@spam.example", "b@spam.example", None]),
    st.lists(st.sampled_from(["x@acme.example", "y@globex.example", "z@other.example"]), max_size=2),
    verdict=st.sampled_from(["phish", "clean", "spam"]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    events=st.lists(st.one_of(_FW, _FW, _MAIL), max_size=40),
    parts=st.integers(1, 5),
)
def test_property_partitioned_equals_in_memory(
    tmp_path_factory: pytest.TempPathFactory, small_slices: list[int], events: list[dict], parts: int
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    path = write_events(tmp / "e.jsonl", numbered([dict(e) for e in events]))
    # tiny thresholds and caps, so that groups form and every top list is cut
    options = AnalysisOptions(
        botnet_min_sources=2,
        sweep_min_targets=2,
        max_targets=2,
        max_groups=2,
        max_cross=1,
        top_n=2,
        members_cap=2,
        entries_cap=2,
    )
    attack = AttackOptions(flood_min_events=3, brute_force_min_attempts=2, max_listed=2, anomaly_min_events=1)
    reference = _run(path, tmp / "memory", 0, options=options, attack_options=attack)
    got = _run(path, tmp / "parts", parts, options=options, attack_options=attack)
    assert small_slices[-1] == parts
    for name in FILES:
        assert got[name] == reference[name], name


def test_cli_partitions_option(tmp_path: Path, small_slices: list[int]) -> None:
    path = write_events(tmp_path / "e.jsonl", _planted()[:400])
    outputs = {}
    for parts in ("0", "4"):
        out = tmp_path / f"out{parts}"
        result = CliRunner().invoke(app, ["analyse", str(path), "--out", str(out), "--partitions", parts])
        assert result.exit_code == 0, result.output
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
        outputs[parts] = (out / "insights.json").read_bytes()
    assert small_slices == [4]
    assert outputs["0"] == outputs["4"]
    refused = CliRunner().invoke(
        app, ["analyse", str(path), "--out", str(tmp_path / "x"), "--partitions", "-2"]
    )
    assert refused.exit_code != 0


def test_partitioned_bad_and_empty_inputs(tmp_path: Path, small_slices: list[int]) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"holder": "acme", "line": 1}\n{"holder": \n')
    with pytest.raises(FormatError) as err:
        analyse(broken, tmp_path / "o", partitions=2)
    assert "broken.jsonl" in str(err.value)
    assert not [p.name for p in (tmp_path / "o").iterdir() if p.name.startswith(".spill")]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert _run(empty, tmp_path / "p", 3) == _run(empty, tmp_path / "m", 0)
    assert small_slices == [2, 3]
