"""Per-entry bundles: content, normalisation, invalid values, markings, strict OASIS validation."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stix2validator import ValidationOptions, validate_instance, validate_string
from stix_testdata import mixed_events

from ppcti.errors import ConfigError
from ppcti.stix import CtiOptions, build_event, bundle_for_event, bundle_json
from ppcti.stix.build import BundleBuilder, pattern_value, stix_pattern
from ppcti.stix.markings import TLP2_EXTENSION_ID, TLP2_IDS
from ppcti.stix.reference import stix2_bundle

STRICT = ValidationOptions(strict=True)

FIREWALL = {
    "holder": "ACME Bank",
    "format": "firewall-text",
    "source_file": "fw.log",
    "line": 3,
    "timestamp": "2023-03-07T10:38:03Z",
    "src_ip": "91.203.5.7",
    "src_port": 51515,
    "dst_ip": "10.0.0.5",
    "dst_port": 22,
    "nat_ip": "198.51.100.1",
    "protocol": "TCP",
    "src_mac": "00:1A:2B:3C:4D:5E",
}
EMAIL = {
    "holder": "ACME Bank",
    "format": "email-csv",
    "source_file": "mail.csv",
    "line": 2,
    "timestamp": "2023-03-07T10:38:03.120Z",
    "emails": ["bob@acme.example"],
    "extra": {
        "sender": " evil@Bad.Example ",
        "recipients": ["bob@acme.example", "alice@ACME.example"],
        "subject": "Invoice",
        "verdict": "phishing",
    },
}


def by_type(bundle):
    out = {}
    for obj in bundle["objects"]:
        out.setdefault(obj["type"], []).append(obj)
    return out


def assert_strict_valid(bundle, options=STRICT):
    result = validate_instance(bundle, options)
    assert result.is_valid, [str(e) for r in [result] for e in r.errors]


def test_firewall_entry_content():
    objs = by_type(bundle_for_event(FIREWALL))
    assert sorted(o["value"] for o in objs["ipv4-addr"]) == ["10.0.0.5", "198.51.100.1", "91.203.5.7"]
    assert [o["value"] for o in objs["mac-addr"]] == ["00:1a:2b:3c:4d:5e"]
    (traffic,) = objs["network-traffic"]
    ids = {o["value"]: o["id"] for o in objs["ipv4-addr"]}
    assert traffic["src_ref"] == ids["91.203.5.7"]
    assert traffic["dst_ref"] == ids["10.0.0.5"]
    assert (traffic["src_port"], traffic["dst_port"]) == (51515, 22)
    assert traffic["protocols"] == ["ipv4", "tcp"]
    assert traffic["start"] == "2023-03-07T10:38:03Z"
    (indicator,) = objs["indicator"]
    assert indicator["pattern"] == "[ipv4-addr:value = '91.203.5.7']"
    assert indicator["pattern_type"] == "stix"
    assert indicator["valid_from"] == "2023-03-07T10:38:03Z"
    assert indicator["indicator_types"] == ["malicious-activity"]
    (identity,) = objs["identity"]
    assert identity["name"] == "ACME Bank"
    assert identity["identity_class"] == "organization"
    assert indicator["created_by_ref"] == identity["id"]
    amber = TLP2_IDS["amber"]
    assert all(
        o["object_marking_refs"] == [amber]
        for t, os in objs.items()
        if t != "identity" and t != "marking-definition"
        for o in os
    )
    (marking,) = objs["marking-definition"]
    assert marking["id"] == amber
    assert marking["extensions"][TLP2_EXTENSION_ID]["tlp_2_0"] == "amber"
    assert_strict_valid(bundle_for_event(FIREWALL))


def test_email_entry_content_and_normalisation():
    objs = by_type(bundle_for_event(EMAIL))
    values = {o["value"]: o["id"] for o in objs["email-addr"]}
    assert set(values) == {"evil@bad.example", "bob@acme.example", "alice@acme.example"}
    (message,) = objs["email-message"]
    assert message["from_ref"] == values["evil@bad.example"]
    assert message["to_refs"] == [values["bob@acme.example"], values["alice@acme.example"]]
    assert message["subject"] == "Invoice"
    assert message["is_multipart"] is False
    (indicator,) = objs["indicator"]
    assert indicator["pattern"] == "[email-addr:value = 'evil@bad.example']"
    assert indicator["valid_from"] == "2023-03-07T10:38:03.12Z"
    assert indicator["created"] == "2023-03-07T10:38:03.120Z"
    assert_strict_valid(bundle_for_event(EMAIL))


def test_subject_only_when_present_and_allowed():
    no_subject = {**EMAIL, "extra": {k: v for k, v in EMAIL["extra"].items() if k != "subject"}}
    assert "subject" not in by_type(bundle_for_event(no_subject))["email-message"][0]
    dropped = bundle_for_event(EMAIL, options=CtiOptions(include_subject=False))
    assert "subject" not in by_type(dropped)["email-message"][0]
    assert b"Invoice" not in orjson.dumps(dropped)


@pytest.mark.parametrize(
    ("verdict", "expected"), [("Phishing", ["malicious-activity"]), ("spam", ["anomalous-activity"])]
)
def test_email_verdict_sets_indicator_type(verdict, expected):
    event = {**EMAIL, "extra": {**EMAIL["extra"], "verdict": verdict}}
    assert by_type(bundle_for_event(event))["indicator"][0]["indicator_types"] == expected


def test_benign_email_gets_no_indicator():
    event = {**EMAIL, "extra": {**EMAIL["extra"], "verdict": "clean"}}
    assert "indicator" not in by_type(bundle_for_event(event))


def test_ipv6_is_compressed_and_layer_is_ipv6():
    event = {**FIREWALL, "src_ip": "2A01:04F8:0000:0000:0000:0000:0000:0007", "dst_ip": "2001:db8::1"}
    del event["nat_ip"]
    objs = by_type(bundle_for_event(event))
    assert sorted(o["value"] for o in objs["ipv6-addr"]) == ["2001:db8::1", "2a01:4f8::7"]
    assert objs["network-traffic"][0]["protocols"] == ["ipv6", "tcp"]
    assert objs["indicator"][0]["pattern"] == "[ipv6-addr:value = '2a01:4f8::7']"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("src_ip", "999.1.2.3", "not an IPv4 or IPv6 address"),
        ("dst_ip", "10.0.0.300", "not an IPv4 or IPv6 address"),
        ("src_mac", "00:1a:2b:3c:4d", "not a MAC address"),
        ("dst_port", 70000, "not a port number 0-65535"),
        ("protocol", "XYZZY-PROTO", "not a protocol name STIX accepts"),
        ("timestamp", "07/03/2023 10:38", "not a STIX timestamp (UTC, Z suffix)"),
        ("timestamp", "2023-02-29T10:38:03Z", "not a STIX timestamp (UTC, Z suffix)"),
    ],
)
def test_invalid_values_are_reported_not_emitted(field, value, reason):
    built = build_event({**FIREWALL, field: value})
    assert [(p.field, p.reason, p.file, p.line) for p in built.problems] == [(field, reason, "fw.log", 3)]
    text = orjson.dumps(built.bundle)
    assert str(value).encode() not in text
    assert str(value) not in repr(built.problems)
    assert_strict_valid(built.bundle)


def test_invalid_email_addresses_are_reported():
    event = {
        **EMAIL,
        "extra": {**EMAIL["extra"], "sender": "not an address", "recipients": ["x@", "bob@acme.example"]},
    }
    built = build_event(event)
    assert {(p.field, p.reason) for p in built.problems} == {
        ("extra.sender", "not an e-mail address"),
        ("extra.recipients", "not an e-mail address"),
    }
    assert b"not an address" not in orjson.dumps(built.bundle)
    assert (
        "email-message" not in by_type(built.bundle)
        or "from_ref" not in by_type(built.bundle)["email-message"][0]
    )


def test_addresses_the_validator_refuses_are_reported():
    event = {**EMAIL, "extra": {**EMAIL["extra"], "sender": "o'brien@spoof.example"}}
    built = build_event(event)
    assert [(p.field, p.reason) for p in built.problems] == [("extra.sender", "not an e-mail address")]
    assert_strict_valid(built.bundle)


@pytest.mark.parametrize("value", ["a'b@x.example", "back\\slash", "91.203.5.7"])
def test_stix_pattern_escapes_quotes_and_backslashes(value):
    from stix2patterns.validator import run_validator

    pattern = stix_pattern("email-addr", value)
    assert run_validator(pattern, stix_version="2.1") == []
    assert pattern.count("'") - pattern.count("\\'") == 2


def test_nothing_valid_gives_none_with_reason():
    built = build_event(
        {"holder": "ACME", "format": "firewall-text", "source_file": "f", "line": 9, "src_ip": "x"}
    )
    assert built.bundle is None
    assert built.reason == "no valid address or e-mail address"
    assert bundle_for_event({"holder": "ACME", "src_ip": "x"}) is None
    assert bundle_json({"holder": "ACME", "src_ip": "x"}) is None
    no_holder = build_event({**FIREWALL, "holder": " "})
    assert no_holder.bundle is None
    assert no_holder.problems[0].field == "holder"


def test_portless_traffic_is_optional():
    icmp = {k: v for k, v in FIREWALL.items() if k not in ("src_port", "dst_port")} | {"protocol": "ICMP"}
    assert "network-traffic" not in by_type(bundle_for_event(icmp))
    loose = bundle_for_event(icmp, options=CtiOptions(portless_traffic=True))
    assert by_type(loose)["network-traffic"][0]["protocols"] == ["ipv4", "icmp"]
    # valid except for the one SHOULD that asks for both ports
    assert_strict_valid(loose, ValidationOptions(strict=True, disabled=["network-traffic-ports"]))
    assert not validate_instance(loose, STRICT).is_valid


@pytest.mark.parametrize("tlp", ["clear", "green", "amber", "amber+strict", "red", "TLP:RED", "white"])
def test_every_tlp_level_validates(tlp):
    bundle = bundle_for_event(FIREWALL, options=CtiOptions(tlp=tlp))
    level = CtiOptions(tlp=tlp).tlp
    marking = by_type(bundle)["marking-definition"][0]
    assert marking["id"] == TLP2_IDS[level]
    assert marking["name"] == f"TLP:{level.upper()}"
    assert_strict_valid(bundle)


@pytest.mark.parametrize("kwargs", [{"tlp": "purple"}, {"indicator_types": ("evil",)}, {"producer": " "}])
def test_bad_options_raise_config_error(kwargs):
    with pytest.raises(ConfigError):
        CtiOptions(**kwargs)


def test_bundle_json_is_orjson_of_bundle_and_reproducible():
    assert bundle_json(EMAIL) == orjson.dumps(bundle_for_event(EMAIL))
    assert bundle_json(EMAIL) == bundle_json(json.loads(json.dumps(EMAIL)))
    other_line = bundle_for_event({**EMAIL, "line": 3})
    assert other_line["id"] != bundle_for_event(EMAIL)["id"]


def test_realistic_mix_validates_strictly_and_equals_stix2():
    """Three formats, two holders: every bundle passes the OASIS validator in strict mode and is
    object-for-object what the stix2 library builds for the same entry."""
    builder = BundleBuilder()
    events = mixed_events(240)
    lines = []
    for event in events:
        bundle = builder.build(event).bundle
        assert bundle is not None
        assert bundle == json.loads(stix2_bundle(event, builder).serialize())
        lines.append(orjson.dumps(bundle).decode())
    formats = {e["format"] for e in events}
    assert formats == {"firewall-text", "email-csv", "events-json"}
    for text in lines:
        result = validate_string(text, STRICT)
        assert result.is_valid, [str(e) for e in result.errors]


def test_public_names_exist():
    import ppcti.stix

    assert sorted(ppcti.stix.__all__) == sorted(set(ppcti.stix.__all__))
    for name in ppcti.stix.__all__:
        assert getattr(ppcti.stix, name) is not None


@given(st.sampled_from(["ipv4-addr", "ipv6-addr", "email-addr"]), st.text(max_size=40))
def test_pattern_value_reads_back_what_stix_pattern_writes(sco_type: str, value: str) -> None:
    assert pattern_value(stix_pattern(sco_type, value)) == (sco_type, value)


def test_pattern_value_refuses_other_patterns() -> None:
    for pattern in (
        "[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value = '5.6.7.8']",
        "[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS",
        "[network-traffic:dst_port = 22]",
        "[ipv4-addr:value != '1.2.3.4']",
    ):
        assert pattern_value(pattern) is None, pattern
