"""The compiled firewall scanner (``ppcti-native``) against the Polars path it replaces.

The Polars path is the reference: its patterns are the specification, and the scanner must give the same
events, rejects and notes on every input. Generated lines are built from the pieces that decide a
parse (every header style and its near misses, addresses with and without ports, invalid octets, leading
zeros, word characters stuck to an address, MAC spellings, protocol details, Unicode spaces, stray
carriage returns, invalid UTF-8) so that the property test reaches the corners of each rule.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from formats_helpers import source_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from native_marks import native_part
from ppcti.clean.timestamps import TimeContext
from ppcti.formats import ParseOptions, get
from ppcti.formats.firewall_text import native_scanner
from ppcti.ingest import Limits

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "corpora" / "mikrotik" / "mikrotik-logs.log"

ppcti_native, pytestmark = native_part("FirewallScanner")


def _parse(path: Path, options: ParseOptions, native: bool) -> tuple[pl.DataFrame | None, list, Counter]:
    old = os.environ.get("PPCTI_NATIVE")
    os.environ["PPCTI_NATIVE"] = "1" if native else "0"
    try:
        # each side must really run: a scanner that refused to start would compare the reference with itself
        assert (native_scanner(options) is not None) == native
        with source_for(path) as source:
            batches = list(get("firewall-text").parse(source, options))
    finally:
        if old is None:
            del os.environ["PPCTI_NATIVE"]
        else:
            os.environ["PPCTI_NATIVE"] = old
    events = pl.concat([b.events for b in batches], how="vertical") if batches else None
    rejects = sorted((r.line, r.reason, r.raw, r.stage) for b in batches for r in b.rejects)
    notes: Counter[str] = Counter()
    for b in batches:
        notes.update(b.notes)
    return events, rejects, +notes


def assert_same(path: Path, options: ParseOptions) -> pl.DataFrame | None:
    native = _parse(path, options, native=True)
    reference = _parse(path, options, native=False)
    if native[0] is None or reference[0] is None:
        assert native[0] is reference[0]
    else:
        assert_frame_equal(native[0], reference[0])
    assert native[1] == reference[1]
    assert native[2] == reference[2]
    return native[0]


def test_scanner_is_used_by_default_and_not_for_other_zones() -> None:
    assert native_scanner(ParseOptions()) is not None
    assert native_scanner(ParseOptions(time=TimeContext(timezone="Europe/Rome"))) is None


def test_same_as_reference_on_real_corpus_and_generated_samples(tmp_path: Path) -> None:
    from ppcti.samples import generate
    from ppcti.samples.build import PLANS

    events = assert_same(CORPUS, ParseOptions())
    assert events is not None
    assert events.height == 2  # the slice has three lines, one truncated before its address
    generate(tmp_path, rows=3000, seed=7, make_zip=False, ground_truth=False)
    for plan in PLANS["firewall-text"]:
        for ctx in (TimeContext(), TimeContext(year=2021, date=date(2021, 5, 1))):
            assert_same(tmp_path / plan.name, ParseOptions(time=ctx, batch_bytes=64 * 1024))


_HEADERS = st.sampled_from(
    [
        "Mar/07/2023 10:38:03",
        "mar/07/2023 23:59:59",
        "Feb/29/2023 10:00:00",
        "Feb/29/2024 10:00:00",
        "Xyz/07/2023 10:38:03",
        "Mar/7/2023 10:38:03",
        "Mar/07/2023 24:00:00",
        "2023-03-18T20:35:05.734011+01:00",
        "2023-03-18 20:35:05,5-0530",
        "2023-03-18T20:35:05Z",
        "2023-03-18T20:35:05+0000",
        "2023-12-31T23:30:00-01:00",
        "0001-01-01T00:10:00+00:30",
        "2023-03-18T20:35:05.1234567890+01:00",
        "2023-03-18T20:35:05+01:0",
        "2023-13-45T20:35:05",
        "2023-03-18T12:30:60+01:00",
        "2023-03-18T23:59:60Z",
        "9999-12-31T23:30:00-01:00",
        "0000-01-01T00:10:00+01:00",
        "<134>Mar  2 08:14:23",
        "<134> Mar 12 08:14:23",
        "<1345>Mar  2 08:14:23",
        "Mar   2 08:14:23",
        "Mar 2  08:14:23",
        "10:38:03",
        "10:38:3",
        "\u00a0\u200910:38:03",
        "",
    ]
)
_TOKENS = st.sampled_from(
    [
        "firewall,info",
        "firewall,",
        "router1",
        "10.120.127.1",
        "10.120.127.1:514",
        "host:x",
        "drop-in",
        "input:",
        "forward:",
        "prerouting:",
        "in:ether1",
        "out:(unknown 0),",
        "connection-state:new",
    ]
)
_OCTETS = ["0", "1", "10", "99", "100", "199", "200", "249", "250", "255", "256", "01", "1000"]
_ADDRESS = st.builds(
    lambda a, b, c, d, port, before, after: f"{before}{a}.{b}.{c}.{d}{port}{after}",
    *[st.sampled_from(["0", "1", "10", "99", "100", "199", "200", "249", "250", "255", "256", "01", "1000"])]
    * 4,
    st.sampled_from(["", ":22", ":65535", ":65536", ":123456", ":", ":x"]),
    st.sampled_from(["", " ", "(", ",", "a", "_", ".", "é", "->"]),
    st.sampled_from(["", " ", ",", "a", "_", ".", ".5", "é", "->", ")"]),
)
_MAC = st.sampled_from(
    [
        "src-mac 00:17:10:88:bc:02,",
        "src-mac 00:17:10:88:BC:02,",
        "src-mac 00-17-10-88-bc-02",
        "src-mac 0:17:10:88:bc:2,",
        "src-mac 0017.1088.bc02",
        "src-mac 00171088BC02",
        "src-mac 1:1:1:1:,",
        "src-mac 00:17:10:88-bc:02",
        "src-mac ,",
        "src-mac  src-mac ab:cd:ef:01:23:45",
        "mac AA-BB-CC-DD-EE-FF",
        "src-mac ÄB:CD:EF:01:23:45",
    ]
)
_PROTO = st.sampled_from(
    [
        "proto TCP (SYN),",
        "proto tcp (ACK, PSH),",
        "proto ICMP (type 8, code 0),",
        "proto UDP,",
        "proto 6",
        "proto TCP (SYN",
        "xproto TCP",
        "proto (x) proto UDP",
        "proto ß",
        "proto",
    ]
)
_NOISE = st.text(alphabet="0123456789.:->, ()abcxyz\u00a0\u2028\t", max_size=10)
_PIECE = st.one_of(_TOKENS, _ADDRESS, _MAC, _PROTO, _NOISE)
_LINE = st.builds(
    lambda head, pieces, end: head + " " + " ".join(pieces) + end,
    _HEADERS,
    st.lists(_PIECE, max_size=9),
    st.sampled_from(["", "\r", " ", "\r\r", "\udcff"]),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.one_of(_LINE, st.just(""), st.just("   ")), min_size=1, max_size=30),
    year=st.sampled_from([None, 2020]),
    day=st.sampled_from([None, date(2024, 2, 29)]),
    batch=st.sampled_from([64, 512, 1 << 20]),
)
def test_same_as_reference_on_generated_lines(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], year: int | None, day: date | None, batch: int
) -> None:
    path = tmp_path_factory.mktemp("fw") / "fw.log"
    # lone surrogates stand for bytes that are not UTF-8
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape"))
    options = ParseOptions(
        time=TimeContext(year=year, date=day), batch_bytes=batch, limits=Limits(max_line_bytes=400)
    )
    assert_same(path, options)


def test_switch_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from ppcti.native import native_module

    assert native_module() is not None
    monkeypatch.setenv("PPCTI_NATIVE", "0")
    assert native_module() is None
    assert native_scanner(ParseOptions()) is None


def test_formats_command_says_which_path_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from ppcti.cli import app

    result = CliRunner().invoke(app, ["formats"], terminal_width=200)
    assert result.exit_code == 0
    assert "compiled scanner (ppcti-native): on" in result.output
    monkeypatch.setenv("PPCTI_NATIVE", "0")
    result = CliRunner().invoke(app, ["formats"], terminal_width=200)
    assert "compiled scanner (ppcti-native): off" in result.output


def test_byte_order_mark_inside_a_file_is_kept_and_rejected_alike(tmp_path: Path) -> None:
    line = "Mar/07/2023 10:38:03 firewall,info forward: 10.0.0.1:1->10.0.0.2:2"
    path = tmp_path / "joined.log"
    path.write_text(line + "\n\ufeff" + line, encoding="utf-8")  # the last line is a chunk of its own
    for batch in (64, 1 << 20):
        events = assert_same(path, ParseOptions(batch_bytes=batch))
        assert events is not None and events.get_column("line").to_list() == [1]
    _, rejects, _ = _parse(path, ParseOptions(batch_bytes=64), native=True)
    assert rejects == [(2, "no timestamp at the start of the line", "\ufeff" + line, "parse")]


def test_changed_pattern_falls_back_to_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    import ppcti.formats.firewall_text as firewall_text

    changed = {**firewall_text.PATTERNS, "proto": firewall_text.PATTERNS["proto"].replace("proto ", "prot ")}
    with pytest.raises(ValueError, match="proto"):
        ppcti_native.FirewallScanner(changed, max_line_bytes=100, year=None, date=None, run_year=2026)
    monkeypatch.setattr(firewall_text, "PATTERNS", changed)
    assert native_scanner(ParseOptions()) is None
