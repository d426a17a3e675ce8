"""Each format carries its defects at realistic rates, and each defect looks the way it is documented."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from ppcti.samples import GeneratedSet, generate, load_ground_truth

#: Defects each format must show in the default set (300 entries per format).
REQUIRED: dict[str, set[str]] = {
    "firewall-text": {
        "duplicate_exact",
        "no_ip",
        "truncated",
        "truncated_before_ip",
        "malformed_mac",
        "non_firewall",
    },
    "email-csv": {
        "duplicate_exact",
        "email_stray_chars",
        "uppercase_domain",
        "spilled_recipients",
        "merged_field",
        "stray_comma",
        "merged_field_ambiguous",
    },
    "events-json": {"duplicate_exact", "not_an_object", "missing_ips"},
}
#: Tags that describe variety rather than something to repair.
NOT_DEFECTS = {"non_firewall"}


def _by_format(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        out.setdefault(record["format"], []).append(record)
    return out


@pytest.fixture(scope="module")
def big_set(tmp_path_factory: pytest.TempPathFactory) -> GeneratedSet:
    return generate(tmp_path_factory.mktemp("samples-big"), rows=6000, seed=11, make_zip=False)


def test_default_set_shows_every_defect(default_set: GeneratedSet) -> None:
    per_format = _by_format(load_ground_truth(default_set.ground_truth))
    for fmt, required in REQUIRED.items():
        seen = {d for r in per_format[fmt] for d in r.get("defects", [])}
        assert required <= seen, (fmt, required - seen)


@pytest.mark.parametrize("fmt", sorted(REQUIRED))
def test_defect_rate_is_realistic(big_set: GeneratedSet, fmt: str) -> None:
    records = _by_format(load_ground_truth(big_set.ground_truth))[fmt]
    defective = sum(1 for r in records if set(r.get("defects", [])) - NOT_DEFECTS)
    assert 0.05 <= defective / len(records) <= 0.16, defective / len(records)
    kinds = Counter(r["expect"] for r in records)
    assert 0.005 < kinds["duplicate"] / len(records) < 0.05
    assert 0.005 < kinds["reject"] / len(records) < 0.06


def test_json_mac_spellings_all_occur(big_set: GeneratedSet) -> None:
    seen = {d for r in load_ground_truth(big_set.ground_truth) for d in r.get("defects", [])}
    assert {
        "mac_dash",
        "mac_dot",
        "mac_bare",
        "mac_upper",
        "truncated_record",
        "duplicate_normalised",
    } <= seen
    ecs = (big_set.out / "ecs-events.jsonl").read_text()
    assert re.search(r'"mac":"[0-9A-F]{2}(-[0-9A-F]{2}){5}"', ecs)  # ECS's own upper-case dash form
    eve = (big_set.out / "suricata-alerts.json").read_text()
    assert re.search(r'"[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}"', eve)  # Cisco dotted


def test_firewall_styles_and_truncation_look_real(default_set: GeneratedSet) -> None:
    out = default_set.out
    assert re.match(r"^[A-Z][a-z]{2}/\d{2}/2023 \d{2}:\d{2}:\d{2} ", (out / "firewall.log").read_text())
    rsyslog = (out / "firewall-rsyslog.log").read_text().splitlines()
    assert all(re.match(r"^2023-03-18T\d{2}:\d{2}:\d{2}\.\d{6}\+01:00 \S+ ", line) for line in rsyslog)
    assert any(re.match(r"^\S+ 10\.120\.127\.\d ", line) for line in rsyslog)  # rsyslog's %fromhost-ip%
    assert any(line.endswith(">") for line in rsyslog)
    assert re.match(r"^<134>Mar  2 \d{2}:\d{2}:\d{2} router\d ", (out / "firewall-syslog.txt").read_text())
    assert re.match(r"^\d{2}:\d{2}:\d{2} [a-z]+,", (out / "router-console.txt").read_text())
    every = "".join(f.path.read_text() for f in default_set.by_format("firewall-text"))
    assert "proto TCP (SYN)" in every and "proto UDP," in every and "proto ICMP (type " in every
    assert ", NAT " in every and "login failure for user" in every


def test_email_exports_look_real(default_set: GeneratedSet) -> None:
    gateway = (default_set.out / "mail-gateway.csv").read_bytes()
    assert gateway.startswith(b"\xef\xbb\xbfdate,sender,recipients,subject,verdict,size\r\n")
    assert re.search(rb'"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} Mar 2023 \d{2}:\d{2}:\d{2} [+-]\d{4}"', gateway)
    quarantine = (default_set.out / "mail-quarantine.csv").read_text()
    days = {int(d) for d in re.findall(r"^(\d{2})/03/2023 \d{2}:\d{2}", quarantine, re.MULTILINE)}
    assert days and min(days) > 12  # day-first dates that cannot be misread as month-first
