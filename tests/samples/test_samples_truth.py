"""The ground truth agrees with an independent reading of the written files, entry by entry."""

from __future__ import annotations

import ipaddress
import json
from collections import defaultdict
from pathlib import Path

import pytest
import samples_refparse as ref

from ppcti.errors import FormatError
from ppcti.samples import STIX_TIMESTAMP, GeneratedSet, generate, load_ground_truth
from ppcti.samples.truth import MAC_COLON, REASON_KINDS


def test_ground_truth_matches_reference_reader(default_set: GeneratedSet) -> None:
    ref.check_against_reference(default_set)


def test_ground_truth_other_seed_and_size(tmp_path: Path) -> None:
    ref.check_against_reference(generate(tmp_path, rows=1500, seed=2024, make_zip=False))


def test_ground_truth_values_are_valid(default_set: GeneratedSet) -> None:
    truth = load_ground_truth(default_set.ground_truth)
    assert len(truth) == sum(f.entries for f in default_set.files) == 900
    for record in truth:
        assert record["holder"] == "sample-holder"
        if record["expect"] == "reject":
            assert record["reason_kind"] in REASON_KINDS
            continue
        if record["expect"] == "duplicate":
            assert record["of_line"] < record["line"]
            assert record["kind"] in ("exact", "normalised")
            continue
        assert STIX_TIMESTAMP.match(record["timestamp"]), record
        for key in ("src_ip", "dst_ip", "nat_ip"):
            if key in record:
                assert str(ipaddress.ip_address(record[key])) == record[key]
        for key in ("src_port", "dst_port"):
            if key in record:
                assert 0 <= record[key] <= 65535
        for mac in (record.get("src_mac"), record.get("extra", {}).get("dst_mac")):
            assert mac is None or MAC_COLON.match(mac), record
        if "protocol" in record:
            assert record["protocol"] in ("TCP", "UDP", "ICMP", "SMTP")
        for address in record.get("emails", []):
            local, domain = address.split("@")
            assert domain == domain.lower() and local and not set(address) & set("<>'\";, ")
        assert None not in record.values() and "" not in record.values()


def test_every_line_of_every_file_has_one_record(default_set: GeneratedSet) -> None:
    truth = load_ground_truth(default_set.ground_truth)
    lines: dict[str, list[int]] = defaultdict(list)
    for record in truth:
        lines[record["source_file"]].append(record["line"])
    for item in default_set.files:
        if item.path.suffix == ".xlsx":
            from openpyxl import load_workbook

            wb = load_workbook(item.path, read_only=True)
            physical = wb.worksheets[0].max_row - 1
            wb.close()
            first = 2
        else:
            text = item.path.read_bytes().decode("utf-8-sig")
            physical = len(text.splitlines())
            first = 2 if item.path.suffix == ".csv" else 1
            physical -= first - 1
        assert lines[item.name] == list(range(first, first + physical)), item.name


def test_config_and_campaigns(default_set: GeneratedSet) -> None:
    config = json.loads(default_set.config.read_text())
    assert config == {
        "timezone": "UTC",
        "year": 2023,
        "date_for_time_only": "2023-03-07",
        "date_order": "DMY",
    }
    campaigns = json.loads(default_set.campaigns.read_text())
    members = {g["name"]: set(g["members"]) for g in campaigns["botnets"]}
    assert campaigns["bursts"], "the default set must hold at least one botnet burst"
    truth = {(r["source_file"], r["line"]): r for r in load_ground_truth(default_set.ground_truth)}
    for burst in campaigns["bursts"]:
        group = next(g for g in campaigns["botnets"] if g["name"] == burst["group"])
        hits = [truth[(burst["source_file"], n)] for n in range(burst["first_line"], burst["last_line"] + 1)]
        assert all(h["src_ip"] in members[group["name"]] for h in hits)
        assert all((h["dst_ip"], h["dst_port"]) == (group["target"], group["port"]) for h in hits)
        assert len({h["src_ip"].rsplit(".", 2)[0] for h in hits}) >= min(3, len(hits))  # many /16s
        assert hits[0]["timestamp"] <= hits[-1]["timestamp"]


def test_load_ground_truth_rejects_garbage(tmp_path: Path) -> None:
    path = tmp_path / "gt.jsonl"
    path.write_text('{"expect": "event", "line": 1}\n\n[1, 2]\n')
    with pytest.raises(FormatError) as info:
        load_ground_truth(path)
    assert info.value.line == 3
    path.write_text('{"expect": "event"}\n{broken\n')
    with pytest.raises(FormatError, match="not valid JSON"):
        load_ground_truth(path)
