"""The envelope: deterministic bytes, content-derived ids, lossless decoding, clear refusals."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.bus.envelope import (
    JSON,
    SCHEMA,
    STIX_JSON,
    TURTLE,
    Envelope,
    JsonBytes,
    Output,
    derived_id,
    encode,
    envelope_template,
    message_key,
)
from ppcti.errors import FormatError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
names = st.text(min_size=1, max_size=30)


@given(payload=json_values, run_id=names, holder=names, seq=st.none() | st.integers(0, 10**6))
def test_roundtrip_keeps_every_field(payload, run_id, holder, seq) -> None:
    env_id, value = encode(Output("insights", payload), run_id=run_id, holder=holder, seq=seq)
    decoded = Envelope.decode(value)
    assert decoded == Envelope(env_id, "insights", run_id, holder, JSON, payload, seq, None)


@given(payload=st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_same_content_same_bytes_whatever_the_key_order(payload) -> None:
    reordered = dict(reversed(list(payload.items())))
    assert encode(Output("insights", payload), run_id="r", holder="h") == encode(
        Output("insights", reordered), run_id="r", holder="h"
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"run_id": "r1", "holder": "h"}, {"run_id": "r2", "holder": "h"}),
        ({"run_id": "r", "holder": "h1"}, {"run_id": "r", "holder": "h2"}),
        # the separator matters: ("ab", "c") and ("a", "bc") must not collide
        ({"run_id": "ab", "holder": "c"}, {"run_id": "a", "holder": "bc"}),
    ],
    ids=["run", "holder", "separator"],
)
def test_id_depends_on_run_and_holder(a, b) -> None:
    assert encode(Output("insights", {"x": 1}), **a)[0] != encode(Output("insights", {"x": 1}), **b)[0]


def test_id_depends_on_payload_and_kind() -> None:
    base = encode(Output("insights", {"x": 1}), run_id="r", holder="h")[0]
    assert encode(Output("insights", {"x": 2}), run_id="r", holder="h")[0] != base
    assert encode(Output("run-summary", {"x": 1}), run_id="r", holder="h")[0] != base


def test_json_bytes_are_spliced_unchanged() -> None:
    raw = b'{"type":"bundle","id":"bundle--1","objects":[]}'
    _id, value = encode(Output("cti-bundle", raw, STIX_JSON), run_id="r", holder="h")
    assert raw in value
    assert Envelope.decode(value).payload == orjson.loads(raw)


def test_invalid_json_bytes_are_refused() -> None:
    with pytest.raises(FormatError, match="not valid JSON"):
        encode(Output("cti-bundle", b'{"type": "bun', STIX_JSON), run_id="r", holder="h")


def test_text_payload_travels_as_a_string() -> None:
    ttl = '@prefix ex: <http://example.org/> .\nex:a ex:b "é" .\n'.encode()
    _id, value = encode(Output("kg-additions", ttl, TURTLE), run_id="r", holder="h")
    assert Envelope.decode(value).payload == ttl.decode()


@given(raw=st.binary(max_size=200))
def test_binary_payload_roundtrips_through_base64(raw) -> None:
    _id, value = encode(Output("kg-additions", raw, "application/octet-stream"), run_id="r", holder="h")
    assert orjson.loads(value)["encoding"] == "base64"
    assert Envelope.decode(value).payload == raw


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"", "empty"),
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"schema": "other/9", "payload": 1}', "unsupported envelope schema"),
        (
            orjson.dumps({"schema": SCHEMA, "id": "x", "payload": 1}),
            "lacks kind, run_id, holder, content_type",
        ),
    ],
    ids=["empty", "not-json", "array", "schema", "missing"],
)
def test_decode_refuses_non_envelopes(value, reason) -> None:
    with pytest.raises(FormatError, match=reason) as info:
        Envelope.decode(value, where="t[0]@5")
    assert info.value.file == "t[0]@5"


def test_key_and_derived_ids() -> None:
    assert message_key("acme", "run-7") == b"acme:run-7"
    assert derived_id("src", 0, "cti-bundle") == derived_id("src", 0, "cti-bundle")
    assert len({derived_id("src", i, "cti-bundle") for i in range(100)}) == 100
    assert derived_id("src", 0, "cti-bundle") != derived_id("src2", 0, "cti-bundle")


@given(
    kind=st.sampled_from(["cti-bundle", "insights", "event-batch"]),
    run_id=names | st.just("100%"),
    holder=names | st.just("%s %d %%"),
    content_type=st.sampled_from([STIX_JSON, JSON, "application/ld+json"]),
    payload=json_values,
    seq=st.integers(0, 10**9),
)
def test_envelope_template_gives_the_bytes_encode_gives(kind, run_id, holder, content_type, payload, seq):
    """The pure-Python batch path of publishing (``reference_batch``) formats envelopes from this template."""
    body = orjson.dumps(payload)
    template, digest = envelope_template(kind, run_id, holder, content_type)
    h = digest.copy()
    h.update(body)
    env_id = h.hexdigest()
    expected_id, expected = encode(
        Output(kind, JsonBytes(body), content_type), run_id=run_id, holder=holder, seq=seq
    )
    assert env_id == expected_id
    assert template % (env_id.encode(), seq, body) == expected
