"""Shared data of the enrichment tests: test addresses by class, and a run folder built by ppcti.stix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from ppcti.stix import CtiOptions, write_cti

#: Public addresses on no warninglist (checked by the ``warninglists`` fixture).
PUBLIC = ["5.188.62.214", "45.155.205.233", "91.240.118.172", "193.32.162.79", "80.94.95.115", "62.60.131.42"]
#: On MISP warninglists (public DNS resolvers).
LISTED = ["8.8.8.8", "1.1.1.1", "9.9.9.9"]
PRIVATE = ["10.1.2.3", "192.168.7.7", "172.20.0.9", "100.64.3.3", "127.0.0.1", "169.254.1.1"]
RESERVED = ["0.1.2.3", "240.0.0.9", "255.255.255.255", "224.0.0.251"]
DOCUMENTATION = ["192.0.2.44", "198.51.100.9", "203.0.113.50"]
#: The holder's own address, public but listed in its infrastructure.json.
OWN = "62.60.131.43"
SENDERS = ["billing@evil-invoice-payments.com", "ceo@lookalike-corp.net"]
OWN_SENDER = "it-helpdesk@acme-holder.org"
LISTED_SENDER = "someone@0-mail.com"  # disposable mail domain on a warninglist


def _event(line: int, src: str | None = None, sender: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "holder": "acme",
        "source_file": "fw.log" if src else "mail.csv",
        "line": line,
        "timestamp": f"2024-05-01T10:{line % 60:02d}:00Z",
    }
    if src:
        event.update(
            format="firewall-text",
            src_ip=src,
            src_port=40000 + line,
            dst_ip="10.0.0.5",
            dst_port=22,
            protocol="TCP",
        )
    else:
        event.update(
            format="email-csv",
            emails=[sender, "alice@acme-holder.org"],
            extra={"sender": sender, "recipients": ["alice@acme-holder.org"], "verdict": "phishing"},
        )
    return event


def make_run(root: Path, ips: list[str], senders: list[str]) -> Path:
    """A run folder with cti/aggregate.json built by ppcti.stix from events, and infrastructure.json."""
    run = root / "run"
    run.mkdir(parents=True, exist_ok=True)
    events = [_event(i, src=ip) for i, ip in enumerate(ips)]
    events += [_event(len(ips) + i, sender=s) for i, s in enumerate(senders)]
    (run / "events.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    # shared with --share-private, so that the aggregate holds every kind of address: the enrichment's
    # own filter must keep the non-public ones from being sent whatever the aggregate holds
    write_cti(run / "events.jsonl", run / "cti", options=CtiOptions(share_private=True))
    infrastructure = {
        "holders": {
            "acme": {
                "internal_email_domains": ["acme-holder.org"],
                "ips": [
                    {"address": "10.0.0.5", "range": "rfc1918", "attacks": 3},
                    {"address": OWN, "range": None, "attacks": 1},
                ],
                "emails": [{"address": "alice@acme-holder.org", "range": None, "attacks": 2}],
            }
        }
    }
    (run / "infrastructure.json").write_bytes(orjson.dumps(infrastructure))
    (run / "summary.json").write_bytes(orjson.dumps({"run_id": "test", "stages": {}}))
    return run


ALL_IPS = PUBLIC + LISTED + PRIVATE + RESERVED + DOCUMENTATION + [OWN]
ALL_SENDERS = [*SENDERS, OWN_SENDER, LISTED_SENDER]
