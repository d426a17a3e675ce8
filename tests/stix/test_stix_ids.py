"""Identifiers: SCO ids equal the STIX 2.1 definition as stix2 implements it; SDO ids are reproducible."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import pytest
import stix2.v21 as s
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stix2.canonicalization.Canonicalize import canonicalize

from ppcti.stix import normalise as norm
from ppcti.stix.build import BundleBuilder
from ppcti.stix.ids import SCO_NAMESPACE, canonical_json, sco_id, sdo_id, uuid5_hex, value_sco_id
from ppcti.stix.reference import stix2_bundle

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# Expected ids from the stix2 library's own tests: stix2/test/v21/test_deterministic_ids.py
def test_known_good_file_id_from_stix2_tests():
    file_props = {
        "name": "example.exe",
        "size": 68 * 1000,
        "magic_number_hex": "50000000",
        "hashes": {"SHA-256": "841a8921140aba50671ebb0770fecc4ee308c4952cfeff8de154ab14eeef4649"},
        "extensions": {
            "windows-pebinary-ext": {
                "pe_type": "exe",
                "machine_hex": "014c",
                "sections": [
                    {
                        "name": ".data",
                        "size": 4096,
                        "entropy": 7.980693,
                        "hashes": {
                            "SHA-256": "6e3b6f3978e5cd96ba7abee35c24e867b7e64072e2ecb22d0ee7a6e6af6894d0"
                        },
                    }
                ],
            }
        },
    }
    assert sco_id("file", file_props) == "file--ced31cd4-bdcb-537d-aefa-92d291bfc11d"


def test_known_good_registry_key_id_from_stix2_tests():
    values = [{"name": "Foo", "data": "qwerty"}, {"name": "Bar", "data": "42"}]
    assert (
        sco_id("windows-registry-key", {"values": values})
        == "windows-registry-key--36594eba-bcc7-5014-9835-0e154264e588"
    )


@pytest.mark.parametrize(
    ("sco_type", "cls", "value"),
    [
        ("ipv4-addr", s.IPv4Address, "198.51.100.3"),
        ("ipv6-addr", s.IPv6Address, "2001:db8:85a3::8a2e:370:7334"),
        ("email-addr", s.EmailAddress, "john@example.com"),
        ("mac-addr", s.MACAddress, "00:1a:2b:3c:4d:5e"),
    ],
    ids=["ipv4", "ipv6", "email", "mac"],
)
def test_value_ids_match_stix2_examples(sco_type, cls, value):
    assert value_sco_id(sco_type, value) == cls(value=value).id
    assert sco_id(sco_type, {"value": value, "display_name": "ignored"}) == cls(value=value).id


def test_sco_id_without_contributing_properties_is_refused():
    with pytest.raises(ValueError, match="no deterministic id"):
        sco_id("email-message", {"is_multipart": False})


@FAST
@given(st.ip_addresses(v=4))
def test_ipv4_ids_equal_stix2(address):
    kind, text = norm.ip_address(str(address))
    assert kind == "ipv4-addr"
    assert value_sco_id(kind, text) == s.IPv4Address(value=text).id


@FAST
@given(st.ip_addresses(v=6))
def test_ipv6_ids_equal_stix2_and_values_are_compressed(address):
    kind, text = norm.ip_address(address.exploded)
    assert (kind, text) == ("ipv6-addr", address.compressed)
    assert value_sco_id(kind, text) == s.IPv6Address(value=text).id


@FAST
@given(st.emails())
def test_email_ids_equal_stix2(address):
    text = norm.email_address(f"  {address} ")
    if text is None:  # addresses outside the conservative grammar are refused, not emitted
        return
    assert text == text.strip()
    assert text.split("@")[1] == text.split("@")[1].lower()
    assert value_sco_id("email-addr", text) == s.EmailAddress(value=text).id


@FAST
@given(st.binary(min_size=6, max_size=6), st.sampled_from([":", "-", ""]), st.booleans())
def test_mac_ids_equal_stix2(raw, sep, upper):
    text = sep.join(f"{b:02x}" for b in raw)
    text = text.upper() if upper else text
    mac = norm.mac_address(text)
    assert mac == ":".join(f"{b:02x}" for b in raw)
    assert value_sco_id("mac-addr", mac) == s.MACAddress(value=mac).id


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@FAST
@given(json_values)
def test_canonical_json_equals_stix2_canonicalize(value):
    assert canonical_json(value) == canonicalize(value, utf8=False)


@FAST
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_canonical_numbers_equal_stix2_canonicalize(number):
    assert canonical_json({"n": number}) == canonicalize({"n": number}, utf8=False)


@FAST
@given(st.text(max_size=64))
def test_uuid5_hex_equals_uuid_module(name):
    assert uuid5_hex(SCO_NAMESPACE.bytes, name.encode()) == str(uuid.uuid5(SCO_NAMESPACE, name))


def test_sdo_ids_are_reproducible_version4_and_content_dependent():
    first = sdo_id("indicator", "ACME", "[ipv4-addr:value = '203.0.113.7']", "2023-03-07T10:38:03Z")
    again = sdo_id("indicator", "ACME", "[ipv4-addr:value = '203.0.113.7']", "2023-03-07T10:38:03Z")
    other = sdo_id("indicator", "ACME", "[ipv4-addr:value = '203.0.113.8']", "2023-03-07T10:38:03Z")
    assert first == again != other
    parsed = uuid.UUID(first.split("--")[1])
    assert parsed.version == 4
    assert parsed.variant == uuid.RFC_4122
    # part boundaries matter: ("ab", "c") and ("a", "bc") must not collide
    assert sdo_id("identity", "ab", "c") != sdo_id("identity", "a", "bc")


# -- whole bundles, including network-traffic with refs and email-message, against stix2 --------------------

ip_text = st.one_of(st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(str))
timestamps = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".") + "Z"
)
subjects = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@st.composite
def network_events(draw):
    event = {
        "holder": draw(st.sampled_from(["ACME Bank", "City Hospital", "Ünïcode GmbH"])),
        "format": draw(st.sampled_from(["firewall-text", "events-json"])),
        "source_file": "x.log",
        "line": draw(st.integers(1, 10**6)),
        "timestamp": draw(timestamps),
        "src_ip": draw(ip_text),
        "dst_ip": draw(ip_text),
        "src_port": draw(st.integers(0, 65535)),
        "dst_port": draw(st.integers(0, 65535)),
        "protocol": draw(st.sampled_from(["TCP", "UDP", "ICMP", "SCTP"])),
    }
    if draw(st.booleans()):
        event["nat_ip"] = draw(ip_text)
    return event


@st.composite
def email_events(draw):
    addresses = st.sampled_from(["a@x.example", "B.c@Mail.Example", "o.neil_x@y.example", "z+tag@q.example"])
    extra = {"sender": draw(addresses), "recipients": draw(st.lists(addresses, max_size=3))}
    if draw(st.booleans()):
        extra["subject"] = draw(subjects)
    extra["verdict"] = draw(st.sampled_from(["phishing", "spam", "unknown"]))
    return {
        "holder": "ACME Bank",
        "format": "email-csv",
        "source_file": "mail.csv",
        "line": draw(st.integers(1, 1000)),
        "timestamp": draw(timestamps),
        "emails": draw(st.lists(addresses, max_size=2)),
        "extra": extra,
    }


BUILDER = BundleBuilder()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(network_events(), email_events()))
def test_bundles_equal_stix2_object_for_object(event):
    mine = BUILDER.build(event).bundle
    reference = stix2_bundle(event, BUILDER)
    assert (mine is None) == (reference is None)
    if mine is not None:
        assert mine == json.loads(reference.serialize())
