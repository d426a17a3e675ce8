"""The compiled envelope step (``ppcti_native.EnvelopeFrame``) against the Python reference and orjson.

The reference (``PPCTI_NATIVE=0``: ``orjson.loads`` per line, ``hashlib`` and the envelope template) is
the specification: with the compiled step on, a JSON-lines file must give the same envelopes and ids,
and a bad line the same error naming the same file and line, whatever the chunking. The JSON check is
compared with orjson itself on near misses of every rule it decides: numbers at and past the largest
double, surrogate escapes, invalid UTF-8, control characters, whitespace orjson does and does not
take, trailing content and nesting depth.
"""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ppcti.bus.batches as batches_module
from native_marks import native_part
from ppcti.bus.batches import envelope_batches
from ppcti.bus.envelope import STIX_JSON, JsonBytes, Output, encode, envelope_parts, id_prefix
from ppcti.errors import FormatError
from ppcti.native import native_module

ppcti_native, pytestmark = native_part("EnvelopeFrame")

KIND, RUN, HOLDER = "cti-bundle", "run-%1", "acme"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)

#: Halfway between the largest double and 2**1024: the first integer that rounds to infinity.
HALFWAY = 2**1024 - 2**970

#: Pieces near the edges of what orjson accepts.
ATOMS = [
    b"{", b"}", b"[", b"]", b":", b",", b'"', b"\\", b"\\u", b"\\ud800", b"\\udbff", b"\\udc00",
    b"\\udfff", b"\\u00e9", b"\\uD83D\\uDE00", b"\\n", b"\\/", b"\\x", b"\\U0041", b"0", b"1", b"9",
    b"00", b"-", b"+", b".", b"e", b"E", b"e+", b"e-", b"1e400", b"1e308", b"1e-400",
    b"1.7976931348623157e308", b"1.7976931348623158e308", b"1.7976931348623159e308",
    b"17976931348623158e292", b"%d" % HALFWAY, b"%d" % (HALFWAY - 1),
    b"0.000001e314", b"18446744073709551616", b"1" * 320, b"NaN", b"Infinity", b"-Infinity",
    b"true", b"tru", b"false", b"null", b"nul", b" ", b"\t", b"\r", b"\x0b", b"\x0c", b"\x00",
    b"\x1f", b"\x7f", b"\xc3\xa9", b"\xed\xa0\x80", b"\xff", b"\xc0\x80", b"\xf4\x90\x80\x80",
    b"\xf0\x9f\x98\x80", b"\xef\xbb\xbf", b"a", b'"a"', b'""', b"[]", b"{}",
]  # fmt: skip


def _mutate(base: bytes, at: int, atom: bytes, how: str) -> bytes:
    at %= len(base) + 1
    if how == "insert":
        return base[:at] + atom + base[at:]
    if how == "replace":
        return base[:at] + atom + base[at + len(atom) :]
    return base[:at] + base[at + 1 :]


near_misses = st.one_of(
    st.lists(st.sampled_from(ATOMS), max_size=10).map(b"".join),
    st.builds(
        _mutate,
        json_values.map(orjson.dumps),
        st.integers(0, 10**6),
        st.sampled_from(ATOMS),
        st.sampled_from(["insert", "replace", "delete"]),
    ),
    json_values.map(orjson.dumps),
)


def _frame() -> Any:
    return ppcti_native.EnvelopeFrame(
        *envelope_parts(KIND, RUN, HOLDER, STIX_JSON), id_prefix(KIND, RUN, HOLDER)
    )


def _orjson_accepts(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def _native_accepts(line: bytes) -> bool:
    newlines, bad, ids, values, _total, _longest = _frame().chunk(line, len(line), 0)
    assert newlines == 0
    assert len(ids) == len(values) == (0 if bad is not None else 1)
    return bad is None


def _nested(depth: int, inner: bytes = b"") -> bytes:
    opens = [b'{"k":' if i % 2 else b"[" for i in range(depth)]
    closes = [b"}" if i % 2 else b"]" for i in reversed(range(depth))]
    return b"".join(opens[:-1]) + b"[" + inner + b"]" + b"".join(closes[1:])


EDGES = [
    b"NaN", b"-Infinity", b"1e400", b"-1e400", b"1e-400", b"1e309", b"0e99999", b"-0", b"01", b"-01",
    b"1.", b".1", b"+1", b"1e", b"1E5", b"1.7976931348623157e308", b"1.7976931348623158e308",
    b"1.7976931348623159e308", b"17976931348623157e292", b"0.0000001797693134862316e315",
    b"123456789012345678901234567890", b"%d" % HALFWAY, b"%d" % (HALFWAY - 1), b"1" + b"0" * 308,
    b"1" + b"0" * 309, b"18446744073709551616",
    b"-9223372036854775809", b"1e99999999999999999999999", b"1e-99999999999999999999999",
    b'"\\ud800"', b'"\\udc00"', b'"\\ud800\\udc00"', b'"\\ud800\\u0041"', b'"\\ud800x"', b'"\\uDBFF\\uDFFF"',
    b'"\xed\xa0\x80"', b'"\xff"', b'"\xc0\x80"', b'"\x01"', b'"\x1f"', b'"\x7f"', b'"a\x00"', b'" \t"',
    b'"\\x"', b'"\\u00"', b'"\\u00g0"', b"1 2", b"1 x", b"[1,]", b'{"a":1,}', b"{1:2}", b'{"a" : 1 }',
    b"[1\r,2]", b"[1\x0c,2]", b"[1\x0b,2]", b"\x00", b"1\x00", b"\xef\xbb\xbf1", b'{"a":1,"a":2}',
    _nested(1024), _nested(1025), _nested(1024, b"1"), _nested(1025, b"1"), _nested(1023, b"[]"),
    b"[" * 1025 + b"]" * 1025, b"[" * 1024 + b"]" * 1024, b"[" * 2000,
]  # fmt: skip


@pytest.mark.parametrize("line", EDGES, ids=[repr(e[:24]) for e in EDGES])
def test_json_check_agrees_with_orjson_at_the_edges(line: bytes) -> None:
    assert _native_accepts(line) == _orjson_accepts(line)


@settings(max_examples=1500)
@given(line=near_misses)
def test_json_check_agrees_with_orjson_on_near_misses(line: bytes) -> None:
    stripped = line.strip()
    if b"\n" in line or not stripped:
        return  # one line, not blank: what publishing hands the check
    assert _native_accepts(line) == _orjson_accepts(stripped)


def _publishable(path: Path, native: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The envelopes of ``path`` on one path, or its error's file and line; proves which path ran."""
    monkeypatch.setenv("PPCTI_NATIVE", "1" if native else "0")
    assert (native_module() is not None) == native
    made: Counter[str] = Counter()
    real = batches_module._native_batches

    def spy(*args: Any) -> Iterator[Any]:
        made["native"] += 1
        return real(*args)

    monkeypatch.setattr(batches_module, "_native_batches", spy)
    ids: list[str] = []
    values: list[bytes] = []
    try:
        for batch in envelope_batches(
            path, kind=KIND, content_type=STIX_JSON, run_id=RUN, holder=HOLDER, first_seq=7
        ):
            assert batch.total == sum(map(len, batch.values))
            assert batch.longest == max(map(len, batch.values))
            assert len(batch.ids) == len(batch.values) > 0
            ids.extend(batch.ids)
            values.extend(batch.values)
        outcome: Any = (ids, values)
    except FormatError as exc:
        outcome = (str(exc), exc.file, exc.line)
    assert made["native"] == (1 if native else 0)
    return outcome


lines = st.lists(
    st.one_of(
        json_values.map(orjson.dumps),
        near_misses,
        st.sampled_from([b"", b"  ", b"\t\x0b\x0c", b" [1] ", b"\x0c{}\x0b"]),
    ),
    max_size=12,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=lines,
    chunk=st.one_of(st.integers(1, 64), st.just(4 << 20)),
    crlf=st.booleans(),
    final_newline=st.booleans(),
)
def test_same_envelopes_ids_and_errors_as_the_reference(
    lines: list[bytes], chunk: int, crlf: bool, final_newline: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [line.replace(b"\n", b" ") for line in lines]
    text = (b"\r\n" if crlf else b"\n").join(lines) + (b"\n" if final_newline and lines else b"")
    monkeypatch.setattr(batches_module, "_CHUNK", chunk)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundles.jsonl"
        path.write_bytes(text)
        reference = _publishable(path, False, monkeypatch)
        assert _publishable(path, True, monkeypatch) == reference


def test_envelopes_are_the_ones_encode_makes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundles = [{"type": "bundle", "id": f"bundle--{i}", "objects": [{"x": "é" * i}]} for i in range(50)]
    path = tmp_path / "bundles.jsonl"
    path.write_bytes(b"\n\n".join(orjson.dumps(b) for b in bundles))
    monkeypatch.setattr(batches_module, "_CHUNK", 700)
    ids, values = _publishable(path, True, monkeypatch)
    expected = [
        encode(Output(KIND, JsonBytes(orjson.dumps(b)), STIX_JSON), run_id=RUN, holder=HOLDER, seq=7 + i)
        for i, b in enumerate(bundles)
    ]
    assert list(zip(ids, values, strict=True)) == expected


def test_a_bad_line_in_a_later_chunk_names_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bundles.jsonl"
    path.write_bytes(b'{"a":1}\n' * 300 + b"\n" + b'{"a":1e400}\n' + b'{"a":1}\n')
    monkeypatch.setattr(batches_module, "_CHUNK", 1000)
    assert _publishable(path, True, monkeypatch) == (f"{path}:302: line is not valid JSON", str(path), 302)


def test_leaving_early_stops_the_worker_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bundles.jsonl"
    path.write_bytes(b'{"a":1}\n' * 1000)
    monkeypatch.setattr(batches_module, "_CHUNK", 100)
    monkeypatch.setenv("PPCTI_NATIVE", "1")
    batches = envelope_batches(path, kind=KIND, content_type=STIX_JSON, run_id=RUN, holder=HOLDER)
    first = next(batches)
    assert first.ids and any(t.name.startswith("ppcti-envelopes") for t in threading.enumerate())
    batches.close()
    assert not any(t.name.startswith("ppcti-envelopes") for t in threading.enumerate())
