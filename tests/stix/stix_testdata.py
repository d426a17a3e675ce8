"""Realistic normalised events of all three formats, for the ppcti.stix tests (seeded, reproducible)."""

from __future__ import annotations

import random
from typing import Any

ATTACKERS_V4 = ["91.203.5.7", "80.82.77.23", "141.98.10.200", "45.33.32.156", "185.220.101.4"]
ATTACKERS_V6 = ["2a01:4f8:bad::7", "2a01:4f8:0:1::66"]
TARGETS = ["10.0.0.5", "10.0.3.17", "192.168.1.20", "172.16.4.2", "fd00::25"]
SENDERS = ["billing@evil-invoice.example", "ceo.fake@lookalike.example", "o'brien@spoof.example"]
RECIPIENTS = ["alice@acme.example", "bob@acme.example", "carol.d@hospital.example"]
SUBJECTS = ["Invoice overdue", "Urgent: wire transfer", "Ihre Rechnung Nr. 4711 – bitte prüfen"]
VERDICTS = ["phishing", "spam", "malware", "suspicious"]


def _ts(rng: random.Random) -> str:
    frac = rng.choice(["", ".5", ".120", ".123456"])
    day, hour, minute, second = rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    return f"2023-03-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{frac}Z"


def firewall(rng: random.Random, holder: str, line: int) -> dict[str, Any]:
    event: dict[str, Any] = {
        "holder": holder,
        "format": "firewall-text",
        "source_file": "fw.log",
        "line": line,
        "timestamp": _ts(rng),
        "src_ip": rng.choice(ATTACKERS_V4),
        "src_port": rng.randint(1024, 65535),
        "dst_ip": rng.choice(TARGETS[:4]),
        "dst_port": rng.choice([22, 23, 80, 443, 3389, 445]),
        "protocol": rng.choice(["TCP", "UDP"]),
    }
    if rng.random() < 0.5:
        event["nat_ip"] = "198.51.100.1"
    if rng.random() < 0.4:
        event["src_mac"] = f"00:1a:2b:3c:4d:{rng.randint(0, 255):02x}"
    return event


def email(rng: random.Random, holder: str, line: int) -> dict[str, Any]:
    recipients = rng.sample(RECIPIENTS, rng.randint(1, 2))
    extra: dict[str, Any] = {"sender": rng.choice(SENDERS), "recipients": recipients}
    extra["verdict"] = rng.choice(VERDICTS)
    if rng.random() < 0.6:
        extra["subject"] = rng.choice(SUBJECTS)
    event: dict[str, Any] = {
        "holder": holder,
        "format": "email-csv",
        "source_file": "mail.csv",
        "line": line,
        "timestamp": _ts(rng),
        "emails": [extra["sender"], *recipients],
        "extra": extra,
    }
    if rng.random() < 0.3:
        event["src_ip"] = rng.choice(ATTACKERS_V4)
    return event


def events_json(rng: random.Random, holder: str, line: int) -> dict[str, Any]:
    v6 = rng.random() < 0.3
    event: dict[str, Any] = {
        "holder": holder,
        "format": "events-json",
        "source_file": "ids.json",
        "line": line,
        "timestamp": _ts(rng),
        "src_ip": rng.choice(ATTACKERS_V6 if v6 else ATTACKERS_V4),
        "dst_ip": "fd00::25" if v6 else rng.choice(TARGETS[:4]),
        "protocol": rng.choice(["TCP", "UDP", "ICMP"]),
        "extra": {"event_type": "alert", "signature": rng.choice(["ET SCAN Nmap", "ET POLICY SSH brute"])},
    }
    if event["protocol"] != "ICMP":
        event["src_port"] = rng.randint(1024, 65535)
        event["dst_port"] = rng.choice([22, 53, 443])
    if rng.random() < 0.5:
        event["extra"]["dst_mac"] = f"AA-BB-CC-00-11-{rng.randint(0, 255):02X}"
    return event


def mixed_events(n: int, *, holders: tuple[str, ...] = ("ACME Bank", "City Hospital"), seed: int = 7):
    """``n`` events cycling through the three formats and the given holders."""
    rng = random.Random(seed)
    makers = (firewall, email, events_json)
    return [makers[i % 3](rng, holders[(i // 3) % len(holders)], i + 1) for i in range(n)]
