"""Blacklists from MISP feeds, MISP CSV exports and STIX bundles: entries taken, unusable ones counted."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.errors import FormatError
from ppcti.fhe.feeds import detect, read_misp_csv, read_misp_feed, read_stix, stix_pattern_values

DATA = Path(__file__).parents[1] / "data" / "misp"


def test_misp_feed_folder_types_and_to_ids() -> None:
    got = read_misp_feed(DATA / "feed")
    values = [v for v, _ in got.entries]
    assert values == [
        "93.19.228.74",
        "198.51.100.0/24",
        "203.0.113.9",
        "203.0.113.10",
        "192.0.2.66",
        "Phish@Evil.Example",
        "drop@evil.example",
        "not-an-address",  # kept as an entry here; the parser counts it as unusable
        "2001:db8:bad::1",
        "45.33.32.156",
    ]
    assert got.unusable == {
        "to_ids is off": 1,  # 8.8.8.8
        "attribute type domain is not an address": 1,
        "attribute type port is not an address": 1,  # inside the ip-port object
    }


def test_misp_feed_missing_event_is_an_error(tmp_path: Path) -> None:
    shutil.copytree(DATA / "feed", tmp_path / "feed")
    next((tmp_path / "feed").glob("5f*.json")).unlink()
    with pytest.raises(FormatError, match="missing"):
        read_misp_feed(tmp_path / "feed")


def test_misp_feed_manifest_cannot_escape(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"../secret": {}}')
    with pytest.raises(FormatError, match="outside"):
        read_misp_feed(tmp_path)


def test_misp_csv_export() -> None:
    got = read_misp_csv(DATA / "export.csv")
    assert [v for v, _ in got.entries] == ["93.19.228.74", "203.0.113.10", "phish@evil.example"]
    assert got.unusable == {"to_ids is off": 1, "attribute type url is not an address": 1}


def test_detect_kinds(tmp_path: Path) -> None:
    assert detect(DATA / "feed") == "misp-feed"
    assert detect(DATA / "export.csv") == "misp-csv"
    assert detect(next((DATA / "feed").glob("5f*.json"))) == "misp-event"
    (tmp_path / "b.json").write_text('{"type": "bundle", "objects": []}')
    assert detect(tmp_path / "b.json") == "stix"
    (tmp_path / "l.netset").write_text("# FireHOL\n1.2.3.0/24\n")
    assert detect(tmp_path / "l.netset") == "list"
    with pytest.raises(FormatError):
        detect(tmp_path)


@pytest.mark.parametrize(
    ("pattern", "values", "reason"),
    [
        ("[ipv4-addr:value = '1.2.3.4']", ["1.2.3.4"], None),
        (
            "[ipv4-addr:value = '1.2.3.4' OR email-addr:value = 'a@b.example']",
            ["1.2.3.4", "a@b.example"],
            None,
        ),
        (
            "[ipv4-addr:value = '1.2.3.4'] OR [ipv6-addr:value = '2001:db8::1']",
            ["1.2.3.4", "2001:db8::1"],
            None,
        ),
        ("[ipv4-addr:value = '1.2.3.4' AND ipv4-addr:value = '1.2.3.5']", [], "AND"),
        ("[ipv4-addr:value = '1.2.3.4'] AND [ipv4-addr:value = '1.2.3.5']", [], "AND"),
        ("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.5']", [], "FOLLOWEDBY"),
        ("[ipv4-addr:value ISSUBSET '1.2.3.0/24']", [], "equality"),
        ("[ipv4-addr:value != '1.2.3.4']", [], "equality"),
        ("[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES", [], "qualifiers"),
        ("[domain-name:value = 'evil.example']", [], "not an address"),
        ("[network-traffic:dst_port = 22]", [], "not an address"),
        ("ipv4-addr:value = '1.2.3.4'", [], "parse"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 12 else None,
)
def test_stix_patterns(pattern: str, values: list[str], reason: str | None) -> None:
    got, why = stix_pattern_values(pattern)
    assert got == values
    assert (why is None) if reason is None else (reason in (why or ""))


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30))
def test_stix_pattern_literal_roundtrip(value: str) -> None:
    """Quotes and backslashes inside a literal come back as the value itself."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    got, why = stix_pattern_values(f"[email-addr:value = '{escaped}']")
    assert why is None
    assert got == [value]


def test_stix_bundle_indicators(tmp_path: Path) -> None:
    objects = [
        {"type": "indicator", "pattern_type": "stix", "pattern": "[ipv4-addr:value = '93.19.228.74']"},
        {
            "type": "indicator",
            "pattern_type": "stix",
            "pattern": "[ipv4-addr:value = '9.9.9.9']",
            "revoked": True,
        },
        {"type": "indicator", "pattern_type": "snort", "pattern": "alert tcp any any -> any any"},
        {"type": "indicator", "pattern_type": "stix", "pattern": "[url:value = 'http://x.example/']"},
        {"type": "ipv4-addr", "value": "7.7.7.7"},
    ]
    path = tmp_path / "bundle.json"
    path.write_bytes(orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": objects}))
    got = read_stix(path)
    assert [v for v, _ in got.entries] == ["93.19.228.74"]
    assert got.unusable == {
        "revoked indicator": 1,
        "pattern type snort is not STIX": 1,
        "pattern compares url, not an address": 1,
    }


def test_misp_feed_encrypted_and_correlated(keys: Path, tmp_path: Path) -> None:
    """A MISP feed as the blacklist: to_ids respected, composite values split, unusable ones reported."""
    from ppcti.fhe import correlate, decrypt, encrypt_blacklist, encrypt_cti

    queries = [
        "93.19.228.74",
        "198.51.100.77",
        "203.0.113.9",
        "192.0.2.66",
        "phish@evil.example",
        "45.33.32.156",
        "8.8.8.8",
        "10.1.2.3",
        "evil@evil.example",
    ]
    (tmp_path / "q.txt").write_text("\n".join(queries) + "\n")
    encrypt_cti(tmp_path / "q.txt", keys / "public.key", tmp_path / "q")
    summary = encrypt_blacklist([DATA / "feed"], keys / "public.key", tmp_path / "bl.fhe", threads=1)
    assert summary.sources == ["misp-feed"]
    assert summary.unusable == {
        "to_ids is off": 1,
        "attribute type domain is not an address": 1,
        "attribute type port is not an address": 1,
        "not an IPv4 address, network, IPv6 or e-mail entry": 1,
    }
    correlate(
        keys / "public.key", tmp_path / "q/query.fhe", tmp_path / "bl.fhe", tmp_path / "r.fhe", threads=1
    )
    decrypt(tmp_path / "r.fhe", keys / "secret.key", tmp_path / "q/mapping.json", tmp_path / "out")
    matches = orjson.loads((tmp_path / "out/fhe_matches.json").read_bytes())["matches"]
    found = {m["value"] for m in matches if m["found"]}
    assert found == {
        "93.19.228.74",
        "198.51.100.77",
        "203.0.113.9",
        "192.0.2.66",
        "phish@evil.example",
        "45.33.32.156",
    }
