"""IPv6 addresses in every format: firewall lines (both paths), JSON feeds, e-mail exports."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from hostile_helpers import assert_accounted, fw_line, jsonl, run
from hypothesis import given
from hypothesis import strategies as st

from ppcti.formats._addresses import addresses
from ppcti.native import native_module


def _v6_line(i: int, day: int = 7) -> str:
    return (
        f"Mar/{day:02d}/2023 10:38:{i % 60:02d} firewall,info prerouting: in:ether1 out:(unknown 0), "
        f"connection-state:new src-mac 00:17:10:88:bc:02, proto TCP (SYN), "
        f"[2001:DB8::{i + 1:x}]:{1024 + i}->[2001:db8:0:0::5]:22, len 60"
    )


def _events(tmp_path: Path, lines: list[str], native: str, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    monkeypatch.setenv("PPCTI_NATIVE", native)
    path = tmp_path / f"fw{native}.log"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / f"run{native}"
    run(path, out)
    assert_accounted(out)
    keep = ("line", "timestamp", "src_ip", "src_port", "dst_ip", "dst_port", "nat_ip", "src_mac", "extra")
    return [{k: e.get(k) for k in keep} for e in jsonl(out / "events.jsonl")] + [
        {"reject": r["line"], "reason": r["reason"]} for r in jsonl(out / "rejects.jsonl")
    ]


@pytest.mark.parametrize("where", ["head", "after the sample"])
def test_ipv6_firewall_lines_are_read_alike_on_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    v4 = [fw_line(i) for i in range(1500 if where != "head" else 20)]  # 1,500 lines: past the sample
    v6 = [_v6_line(i) for i in range(30)]
    lines = v6 + v4 if where == "head" else v4 + v6 + [fw_line(5000)]
    reference = _events(tmp_path, lines, "0", monkeypatch)
    v6_events = [e for e in reference if (e.get("src_ip") or "").startswith("2001:")]
    assert len(v6_events) == 30
    assert v6_events[0]["src_ip"] == "2001:db8::1" and v6_events[0]["src_port"] == 1024
    assert v6_events[0]["dst_ip"] == "2001:db8::5" and v6_events[0]["dst_port"] == 22
    assert not any("reject" in e for e in reference)
    if native_module() is not None:
        assert _events(tmp_path, lines, "1", monkeypatch) == reference


def test_bare_ipv6_relay_host_and_icmp_without_ports(tmp_path: Path) -> None:
    lines = [
        "2023-03-18T20:35:05+01:00 2001:db8::1 firewall,info forward: in:ether1 out:bridge, proto ICMP "
        "(type 128, code 0), 2001:db8::7->fe80::1, len 60"
    ]
    path = tmp_path / "fw.log"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"
    run(path, out)
    [event] = jsonl(out / "events.jsonl")
    assert (event["src_ip"], event["dst_ip"], event["extra"]["host"]) == (
        "2001:db8::7",
        "fe80::1",
        "2001:db8::1",
    )
    assert "src_port" not in event


@given(
    ip=st.ip_addresses(v=6),
    port=st.integers(0, 65535),
    style=st.sampled_from(["bracket", "bare"]),
)
def test_any_ipv6_address_is_found_in_canonical_form(
    ip: ipaddress.IPv6Address, port: int, style: str
) -> None:
    text = f"[{ip.exploded.upper()}]:{port}" if style == "bracket" else ip.exploded
    line = f"Mar/07/2023 10:38:03 firewall,info input: proto TCP, {text}->203.0.113.9:80, len 60"
    found = addresses(line)
    assert found[0] == (ip.compressed, port if style == "bracket" else None)
    assert found[1] == ("203.0.113.9", 80)


def test_ipv6_in_json_feeds_and_email_exports(tmp_path: Path) -> None:
    eve = {
        "timestamp": "2023-03-07T10:38:03Z",
        "event_type": "alert",
        "src_ip": "2001:DB8:0::7",
        "src_port": 1,
        "dest_ip": "2001:db8::6",
        "dest_port": 443,
        "proto": "TCP",
        "flow_id": 9,
    }
    folder = tmp_path / "up"
    folder.mkdir()
    (folder / "eve.json").write_text(json.dumps([eve]))
    (folder / "mail.csv").write_text(
        "date,sender,recipients,subject,verdict,sender ip\n"
        "2023-03-07 10:38:03,a@evil.example,bob@corp.example,Hi,spam,2001:DB8::99\n"
    )
    out = tmp_path / "run"
    run(folder, out)
    by_file = {e["source_file"]: e for e in jsonl(out / "events.jsonl")}
    assert (by_file["eve.json"]["src_ip"], by_file["eve.json"]["dst_ip"]) == ("2001:db8::7", "2001:db8::6")
    assert by_file["mail.csv"]["src_ip"] == "2001:db8::99"
