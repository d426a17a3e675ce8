"""What leaves the holder as an indicator: never a non-public address, never the holder's own address,
never the source of outbound traffic; --share-private opts in to non-public attackers only. IPv6 events
become ipv6-addr indicators and go through the analysis."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import orjson
import pytest
from hostile_output_helpers import QUICK, check, check_contained, run

from ppcti.netrange import unshareable

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sample-upload.zip"
HOLDER_WAN = "198.51.100.2"  # the sample router's own WAN address (a documentation address)


def _indicator_values(aggregate: Path) -> list[str]:
    data = orjson.loads(aggregate.read_bytes())
    values = []
    for obj in data["objects"]:
        if obj["type"] == "indicator":
            values.append(re.search(r"value = '((?:[^'\\]|\\.)*)'", obj["pattern"]).group(1))
    return values


def test_sample_upload_shares_no_private_documentation_or_own_address(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with zipfile.ZipFile(SAMPLE) as archive:  # the firewall logs are where private sources show up
        for name in archive.namelist():
            if name.startswith(("firewall", "router")):
                (work / name).write_bytes(archive.read(name))
    result = run("run", ".", "--out", "out", *QUICK, cwd=work, tmpdir=tmp_path / "tmp")
    check(result, codes={0})
    values = _indicator_values(work / "out" / "cti" / "aggregate.json")
    assert values, "the sample's Internet attackers are still shared"
    ips = [v for v in values if "@" not in v]
    assert [v for v in ips if unshareable(v)] == []
    assert HOLDER_WAN not in ips
    for line in (work / "out" / "cti" / "bundles.jsonl").read_bytes().splitlines():
        for obj in orjson.loads(line)["objects"]:
            if obj["type"] == "indicator":
                value = re.search(r"value = '([^']*)'", obj["pattern"]).group(1)
                assert unshareable(value) is None, value
    summary = orjson.loads((work / "out" / "summary.json").read_bytes())
    withheld = summary["stages"]["cti"]["withheld"]
    assert withheld.get("outbound traffic", 0) > 0
    # the private attackers stay with the holder: in its insights, not in the CTI
    insights = (work / "out" / "insights.json").read_text()
    assert "192.168.88." in insights


def _event(src: str, dst: str, **extra: str) -> dict:
    event = {
        "holder": "acme",
        "format": "firewall-text",
        "source_file": "fw.log",
        "line": 1,
        "timestamp": "2023-03-01T10:00:00Z",
        "src_ip": src,
        "src_port": 40000,
        "dst_ip": dst,
        "dst_port": 22,
        "protocol": "TCP",
    }
    if extra:
        event["extra"] = extra
    return event


CASES = [
    # (event, shared?)
    pytest.param(_event("45.155.205.7", "10.0.0.5", chain="input"), True, id="inbound-public"),
    pytest.param(_event("10.0.0.9", "10.0.0.5", chain="input"), False, id="rfc1918"),
    pytest.param(_event("100.64.1.2", "10.0.0.5"), False, id="cgnat"),
    pytest.param(_event("127.0.0.1", "10.0.0.5"), False, id="loopback"),
    pytest.param(_event("169.254.3.4", "10.0.0.5"), False, id="link-local"),
    pytest.param(_event("203.0.113.9", "10.0.0.5"), False, id="documentation"),
    pytest.param(_event("fe80::1", "fd00::5"), False, id="ipv6-link-local"),
    pytest.param(_event("2001:db8::66", "fd00::5"), False, id="ipv6-documentation"),
    pytest.param(_event("2a01:4f8:c0c:1234::66", "fd00::5"), True, id="ipv6-public"),
    pytest.param(_event("::ffff:192.168.1.9", "10.0.0.5"), False, id="ipv4-mapped-private"),
    pytest.param(_event("45.155.205.7", "1.1.1.1", chain="output"), False, id="router-own-output"),
    pytest.param(_event("45.155.205.7", "8.8.8.8", direction="outbound"), False, id="ecs-outbound"),
]


@pytest.mark.parametrize(("event", "shared"), CASES)
def test_indicator_rules(tmp_path: Path, event: dict, shared: bool) -> None:
    from ppcti.stix import CtiOptions, write_cti

    summary = write_cti([event], tmp_path / "cti", options=CtiOptions())
    values = _indicator_values(tmp_path / "cti" / "aggregate.json")
    assert (values != []) is shared, values
    assert summary.bundles == 1  # the entry is still observed, only not named an attacker
    if not shared:
        assert sum(summary.withheld.values()) == 1
    if shared and ":" in event["src_ip"]:
        bundle = orjson.loads((tmp_path / "cti" / "bundles.jsonl").read_bytes())
        (indicator,) = [o for o in bundle["objects"] if o["type"] == "indicator"]
        assert indicator["pattern"].startswith("[ipv6-addr:value = ")


def test_share_private_opts_in_for_non_public_but_never_own_or_outbound(tmp_path: Path) -> None:
    from ppcti.stix import CtiOptions, write_cti

    events = [
        _event("10.0.0.9", "10.0.0.5", chain="input"),  # a private attacker: shared only on request
        _event("10.0.0.7", "10.0.0.5"),  # lateral movement inside the network: likewise
        _event("10.0.0.5", "45.155.205.7", chain="output"),  # outbound: never
        _event("45.155.205.9", "198.51.100.2", chain="input"),  # 198.51.100.2 is acme's own address now
        _event("198.51.100.2", "10.0.0.5", chain="forward"),  # acme's own address as a source: never
    ]
    write_cti(events, tmp_path / "cti", options=CtiOptions(share_private=True))
    values = _indicator_values(tmp_path / "cti" / "aggregate.json")
    assert sorted(values) == ["10.0.0.7", "10.0.0.9", "45.155.205.9"]


def test_run_with_share_private_flag(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    line = (
        "Mar/08/2023 07:00:43 firewall,info input: in:bridge-lan out:(unknown 0), "
        "src-mac dc:a6:32:b2:4b:b6, proto TCP (SYN), {src}:45727->10.0.0.2:3389, len 48\n"
    )
    (work / "fw.log").write_text(line.format(src="10.9.9.9") + line.format(src="45.155.205.7"))
    for flag, expected in (((), ["45.155.205.7"]), (("--share-private",), ["10.9.9.9", "45.155.205.7"])):
        result = run("run", "fw.log", "--out", "out", *QUICK, *flag, cwd=work, tmpdir=tmp_path / "tmp")
        check(result, codes={0})
        assert sorted(_indicator_values(work / "out" / "cti" / "aggregate.json")) == expected
    check_contained(work, {"fw.log", "out"}, tmp_path / "tmp")


def test_ipv6_events_through_cti_and_analysis(tmp_path: Path) -> None:
    from ppcti.analysis import analyse

    events = tmp_path / "events.jsonl"
    rows = [_event("2a01:4f8:c0c:1234::66", "fd00::5", chain="input") | {"line": n} for n in range(1, 4)]
    rows.append(_event("2a01:4f8:c0c:1234::77", "fd00::5", chain="input") | {"line": 4})
    events.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    insights = analyse(events, tmp_path / "analysis")
    (target,) = [t for t in insights["targets"] if t["target"] == "fd00::5"]
    assert target["range"] == "ula"
    assert {a["value"] for a in target["attackers"]} == {"2a01:4f8:c0c:1234::66", "2a01:4f8:c0c:1234::77"}
    from ppcti.stix import write_cti

    write_cti(events, tmp_path / "cti")
    assert sorted(set(_indicator_values(tmp_path / "cti" / "aggregate.json"))) == [
        "2a01:4f8:c0c:1234::66",
        "2a01:4f8:c0c:1234::77",
    ]
