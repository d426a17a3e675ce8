"""analyse() over random event sets agrees with a plain-Python reference for targets and cross-holder sets."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from pathlib import Path
from tempfile import TemporaryDirectory

from analysis_helpers import fw, mail, numbered, write_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppcti.analysis import AnalysisOptions, analyse

HOLDERS = ["acme", "globex", "initech"]
ADDRESSES = [
    "10.0.0.1",
    "10.0.0.2",
    "192.168.5.5",
    "172.20.1.1",
    "100.64.3.3",
    "fd00::7",
    "8.8.8.8",
    "203.0.113.5",
    "198.51.100.7",
    "45.33.1.1",
    "2001:4860::1",
    "169.254.1.1",
]
MAILBOXES = ["alice@acme.example", "bob@globex.example", "eve@evil.example", "mallory@spam.example"]


def _is_private_ip(text: str) -> bool:
    ip = ipaddress.ip_address(text)
    nets = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "fc00::/7"]
    return any(ip in ipaddress.ip_network(n) for n in nets)


def _reference(events: list[dict], domains: tuple[str, ...]) -> tuple[dict, set]:
    """(holder, target) -> attacks, and the attackers (public IPs, senders) seen by two or more holders.

    Outbound entries (private source, only public destinations) are not attacks.
    """
    attacks: dict[tuple[str, str], int] = defaultdict(int)
    holders_of: dict[str, set[str]] = defaultdict(set)
    for ev in events:
        if ev["format"] == "email-csv":
            sender = ev["extra"].get("sender")
            for rcpt in set(ev["emails"]) - {sender}:
                if rcpt.split("@")[1] in domains:
                    attacks[(ev["holder"], rcpt)] += 1
            attacker = sender
        else:
            src, dst, nat = ev.get("src_ip"), ev.get("dst_ip"), ev.get("nat_ip")
            if (
                src
                and _is_private_ip(src)
                and dst
                and not _is_private_ip(dst)
                and not (nat and _is_private_ip(nat))
            ):
                continue  # outbound: our own host going out
            for target in {dst, nat} - {None}:
                if _is_private_ip(target):
                    attacks[(ev["holder"], target)] += 1
            attacker = ev.get("src_ip")
        if attacker and ("@" in attacker or not _is_private_ip(attacker)):
            holders_of[attacker].add(ev["holder"])
    return dict(attacks), {a for a, hs in holders_of.items() if len(hs) >= 2}


net_event = st.builds(
    lambda h, t, s, d, n: fw(h, t, s, d, nat=n),
    st.sampled_from(HOLDERS),
    st.integers(0, 86_400),
    st.sampled_from([*ADDRESSES, None]),
    st.sampled_from([*ADDRESSES, None]),
    st.sampled_from([*ADDRESSES, None, None, None]),
)
mail_event = st.builds(
    lambda h, t, s, r: mail(h, t, s, sorted(set(r) - {s})),
    st.sampled_from(HOLDERS),
    st.integers(0, 86_400),
    st.sampled_from(MAILBOXES),
    st.lists(st.sampled_from(MAILBOXES), min_size=1, max_size=3),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(net_event, net_event, mail_event), min_size=1, max_size=60))
def test_targets_and_cross_holder_match_reference(events: list[dict]) -> None:
    events = numbered(events)
    domains = ("acme.example", "globex.example")
    expected_targets, expected_shared = _reference(events, domains)
    with TemporaryDirectory() as tmp:
        path = write_events(Path(tmp) / "events.jsonl", events)
        options = AnalysisOptions(internal_email_domains=domains, max_targets=10_000, max_cross=10_000)
        insights = analyse(path, Path(tmp) / "out", options=options)
    got_targets = {(t["holder"], t["target"]): t["attacks"] for t in insights["targets"]}
    assert got_targets == expected_targets
    assert {c["attacker"] for c in insights["cross_holder"]} == expected_shared
    for shared in insights["cross_holder"]:
        assert sum(h["events"] for h in shared["holders"]) == shared["events"]
        assert all(h["entries_count"] == h["events"] for h in shared["holders"])
    outbound = insights["summary"]["outbound_entries_skipped"]
    assert insights["summary"]["events"] + outbound == len(events)
