from datetime import date
from pathlib import Path

import pytest
from formats_helpers import parse_file, source_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppcti.clean.timestamps import TimeContext
from ppcti.formats import ParseOptions, detect

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpora" / "mikrotik" / "mikrotik-logs.log"

LINES = {
    "routeros-nat": (
        "Mar/07/2023 10:38:03 firewall,info prerouting: in:ether1 out:(unknown 0), connection-state:new "
        "src-mac 00:17:10:88:BC:02, proto TCP (SYN), 203.0.113.7:51234->10.0.0.5:22, "
        "NAT (10.0.0.5:22->192.168.88.10:22), len 60",
        {
            "timestamp": "2023-03-07T10:38:03Z",
            "src_ip": "203.0.113.7",
            "src_port": 51234,
            "dst_ip": "10.0.0.5",
            "dst_port": 22,
            "nat_ip": "192.168.88.10",
            "protocol": "TCP",
            "src_mac": "00:17:10:88:bc:02",
        },
    ),
    "issue-example-icmp-bad-mac": (
        "Mar/07/2023 10:38:03 firewall, prerouting: out connection-state:new src-mac 1:1:1:1:, "
        "proto ICMP (type 8, code 0), 1.2.3.4->5.6.7.8, len 3",
        {
            "src_ip": "1.2.3.4",
            "dst_ip": "5.6.7.8",
            "src_port": None,
            "nat_ip": None,
            "protocol": "ICMP",
            "src_mac": None,
        },
    ),
    "rsyslog-rfc3339-host": (
        "2023-03-18T20:35:05.734011+01:00 10.120.127.1 firewall,info drop-in input: in:ether1-WAN "
        "out:(unknown 0), connection-state:new src-mac 00:17:10:88:bc:02, proto UDP, 186.26.78.68:>",
        {
            "timestamp": "2023-03-18T19:35:05.734011Z",
            "src_ip": "186.26.78.68",
            "dst_ip": None,
            "protocol": "UDP",
        },
    ),
    "bsd-syslog": (
        "<134>Mar  2 08:14:23 router1 firewall,info forward: in:bridge out:ether1, proto UDP, "
        "192.168.88.20:5353->224.0.0.251:5353, len 120",
        {"timestamp": "2023-03-02T08:14:23Z", "src_ip": "192.168.88.20", "dst_port": 5353},
    ),
    "tcp-flags": (
        "Mar/07/2023 10:38:04 firewall,info forward: proto TCP (ACK,PSH), 10.0.0.9:443->198.51.100.2:50000",
        {"protocol": "TCP", "src_ip": "10.0.0.9", "dst_ip": "198.51.100.2"},
    ),
}


def write(tmp_path: Path, lines: list[str], name: str = "fw.log") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("case", list(LINES), ids=list(LINES))
def test_feature_rules(tmp_path: Path, case: str) -> None:
    line, expected = LINES[case]
    path = write(tmp_path, [line, LINES["routeros-nat"][0]])
    events, rejects = parse_file(path, "firewall-text", ParseOptions(time=TimeContext(year=2023)))
    assert rejects == []
    row = events.row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key


def test_extra_carries_flags_host_and_malformed_mac(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [LINES["tcp-flags"][0], LINES["issue-example-icmp-bad-mac"][0], LINES["rsyslog-rfc3339-host"][0]],
    )
    events, _ = parse_file(path, "firewall-text")
    extras = events.get_column("extra").to_list()
    assert extras[0]["tcp_flags"] == "ACK,PSH"
    assert extras[1]["mac_malformed"] is True and extras[1]["icmp"] == "type 8, code 0"
    assert extras[2]["host"] == "10.120.127.1" and extras[2]["chain"] == "input"


def test_rejects_carry_reason_and_raw_text(tmp_path: Path) -> None:
    lines = [
        "10:38:03 firewall,info forward: 1.2.3.4->5.6.7.8",
        "Mar/07/2023 10:38:03 system,error,critical login failure for user admin via ssh",
        "firewall,info forward: 1.2.3.4->5.6.7.8",
        "Feb/30/2023 10:38:03 firewall,info forward: 1.2.3.4->5.6.7.8",
    ]
    path = write(tmp_path, lines)
    events, rejects = parse_file(path, "firewall-text")
    assert events.height == 0
    assert [(r.line, r.reason) for r in rejects] == [
        (1, "time without a date: set --date"),
        (2, "no IP address"),
        (3, "no timestamp at the start of the line"),
        (4, "invalid timestamp"),
    ]
    assert [r.raw for r in rejects] == lines


def test_missing_date_and_year_come_from_context_or_settings(tmp_path: Path) -> None:
    lines = [
        "Mar/07/2023 10:38:03 firewall,info forward: 1.2.3.4->5.6.7.8",
        "10:39:00 firewall,info forward: 1.2.3.4->5.6.7.9",
        "<134>Dec 31 23:59:59 r1 firewall,info forward: 1.2.3.4->5.6.7.10",
    ]
    path = write(tmp_path, lines)
    events, _ = parse_file(path, "firewall-text")
    assert events.get_column("timestamp").to_list() == [
        "2023-03-07T10:38:03Z",
        "2023-03-07T10:39:00Z",
        "2023-12-31T23:59:59Z",
    ]
    configured = ParseOptions(time=TimeContext(year=2021, date=date(2022, 1, 2), timezone="Europe/Paris"))
    events, _ = parse_file(path, "firewall-text", configured)
    assert events.get_column("timestamp").to_list() == [
        "2023-03-07T09:38:03Z",
        "2022-01-02T09:39:00Z",
        "2021-12-31T22:59:59Z",
    ]


def test_real_mikrotik_corpus(tmp_path: Path) -> None:
    events, rejects = parse_file(CORPUS, "firewall-text")
    assert events.height + len(rejects) == 3
    assert set(events.get_column("src_ip").to_list()) == {"186.26.78.68", "10.127.0.35"}
    assert [r.line for r in rejects] == [2]  # truncated before the first address
    with source_for(CORPUS) as source:
        assert detect(source).format == "firewall-text"


def test_crlf_bom_and_utf16(tmp_path: Path) -> None:
    line = LINES["routeros-nat"][0]
    (tmp_path / "a.log").write_bytes(b"\xef\xbb\xbf" + (line + "\r\n").encode() * 2)
    (tmp_path / "b.log").write_bytes(((line + "\r\n") * 2).encode("utf-16"))
    for name in ("a.log", "b.log"):
        events, rejects = parse_file(tmp_path / name, "firewall-text")
        assert rejects == [] and events.height == 2
        assert events.get_column("src_mac").to_list() == ["00:17:10:88:bc:02"] * 2
        assert events.get_column("raw").to_list() == [line, line]


def test_small_batches_keep_line_numbers_and_context(tmp_path: Path) -> None:
    lines = [LINES["routeros-nat"][0]] + [
        f"10:40:{i % 60:02d} firewall,info forward: 1.2.3.{i % 250}->5.6.7.8" for i in range(300)
    ]
    path = write(tmp_path, lines)
    events, rejects = parse_file(path, "firewall-text", ParseOptions(batch_bytes=1024))
    assert rejects == []
    assert events.get_column("line").to_list() == list(range(1, 302))
    assert events.get_column("timestamp").str.starts_with("2023-03-07T").all()


printable_line = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=120)
mutated = st.builds(
    lambda base, cut, junk: base[:cut] + junk + base[cut:],
    st.sampled_from([v[0] for v in LINES.values()]),
    st.integers(min_value=0, max_value=200),
    st.text(alphabet="0123456789.:->, ()abcxyz", max_size=8),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(printable_line, mutated), min_size=1, max_size=25))
def test_every_line_is_an_event_a_reject_or_blank(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    path = write(tmp_path_factory.mktemp("fw"), lines)
    events, rejects = parse_file(path, "firewall-text", ParseOptions(time=TimeContext(year=2023)))
    seen = sorted(events.get_column("line").to_list() + [r.line for r in rejects])
    expected = [i for i, ln in enumerate(lines, start=1) if ln.strip()]
    assert seen == expected


@pytest.mark.parametrize("native", ["1", "0"], ids=["compiled-if-built", "polars"])
@pytest.mark.parametrize(
    ("header", "timestamp", "reason"),
    [
        ("2023-12-31T23:30:00-01:00", "2024-01-01T00:30:00Z", None),  # the offset crosses a year
        ("2024-02-29T23:30:00.5-01:00", "2024-03-01T00:30:00.5Z", None),
        ("2023-03-18T12:30:60+01:00", None, "invalid timestamp"),  # leap seconds are not kept
        ("2023-03-18T23:59:60Z", None, "invalid timestamp"),
        ("9999-12-31T23:30:00-01:00", None, "invalid timestamp"),  # beyond four-digit years
        ("2023-02-29T10:00:00", None, "invalid timestamp"),
    ],
)
def test_timestamp_edges(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    native: str,
    header: str,
    timestamp: str | None,
    reason: str | None,
) -> None:
    monkeypatch.setenv("PPCTI_NATIVE", native)
    path = write(tmp_path, [f"{header} firewall,info forward: 10.0.0.1:1->10.0.0.2:2"])
    events, rejects = parse_file(path, "firewall-text")
    if reason is None:
        assert events.get_column("timestamp").to_list() == [timestamp]
    else:
        assert [(r.line, r.reason) for r in rejects] == [(1, reason)]
