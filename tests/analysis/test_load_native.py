"""The compiled reader of events.jsonl for the analysis (``ppcti_native.read_events_jsonl``) against Polars.

The reference is ``scan_ndjson(schema=SCAN_SCHEMA)`` plus ``load.typed`` (``PPCTI_NATIVE=0``). Whenever
the compiled reader takes a file, its frame must equal the reference's; whenever the reference refuses a
file, the compiled reader must have declined it (so the error is the reference's). The property test
writes files of near-miss lines (missing keys, nulls, values of other types, numbers past the columns'
ranges, ``-0``, floats, escaped keys and strings, keys written twice, unknown keys, timestamps of every
shape, blank lines, CRLF) so that both the "take" and the "decline" side of each rule are reached.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from analysis_helpers import fw, mail, numbered, write_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal, assert_series_equal

from native_marks import native_part
from ppcti.analysis import AnalysisOptions, _load_native, analyse, load, spill
from ppcti.analysis.attack_fields import ATTACK_EXTRA_FIELDS
from ppcti.errors import FormatError

ppcti_native, pytestmark = native_part("read_events_jsonl")

FILES = ("insights.json", "infrastructure.json", "attacks.jsonl")


def _comparable(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.selectors.categorical().cast(pl.String))


def _service_checked(frame: pl.DataFrame) -> pl.DataFrame:
    """The compiled reader's frame without its ``_service``, once that is found to be what
    ``load._service`` makes of each row's protocol and port (the reference has no such column)."""
    expected = frame.select(load._service(AnalysisOptions()).alias(load.NATIVE_SERVICE)).to_series()
    assert_series_equal(frame.get_column(load.NATIVE_SERVICE), expected)
    return frame.drop(load.NATIVE_SERVICE)


def _reference(path: Path) -> pl.DataFrame:
    return load._collect(load.scan_events([path]), [path])


def _native(path: Path, **kw: Any) -> pl.DataFrame | None:
    table = ppcti_native.read_events_jsonl(str(path), list(load.NATIVE_FIELDS), **kw)
    return None if table is None else _service_checked(load.typed_native(pl.DataFrame(table)))


def _same_or_declined(path: Path, **kw: Any) -> bool:
    """True when the compiled reader took the file (and gave the reference's frame)."""
    fast = _native(path, **kw)
    try:
        reference = _reference(path)
    except FormatError:
        assert fast is None, "the reference refuses the file, the compiled reader took it"
        return False
    if fast is not None:
        assert_frame_equal(_comparable(fast), _comparable(reference))
    return fast is not None


def _events() -> list[dict[str, Any]]:
    events = []
    for i in range(300):
        events.append(fw("acme", i * 0.37, f"203.0.113.{i % 50}", f"10.0.0.{i % 7}", port=22 + i % 3))
        events.append(fw("globex", i * 1.5, f"198.51.100.{i % 20}", "192.0.2.9", nat="10.1.1.1", proto="UDP"))
        events.append(
            mail("acme", i * 2.0, f" Bad{i % 4}@Evil.example ", ["a@acme.example", "B@acme.example"])
        )
    events[5]["extra"] = {
        "signature": "ET SCAN",
        "category": "scan",
        "url": "/etc/passwd",
        "zz": [1, {"q": 2}],
    }
    events[6]["timestamp"] = "2023-3-7T10:00:00Z"  # left to Polars' strptime, which reads it
    events[7]["timestamp"] = "2023-03-07T23:59:60Z"
    events[8]["timestamp"] = "2023-02-29T10:00:00Z"
    events[9]["timestamp"] = "2023-03-07T10:00:00.1234567891Z"
    events[10]["emails"] = [None, "x@y.example"]
    events[11]["extra"] = {"verdict": " CLEAN ", "sender": "ÄRGER@Example.COM"}
    del events[12]["holder"]
    return numbered(events)


def test_compiled_reader_gives_the_reference_frame(tmp_path: Path) -> None:
    path = write_events(tmp_path / "events.jsonl", _events())
    assert _same_or_declined(path, threads=1)
    # many small segments: every line is read once, by the segment it starts in
    for size in (1, 97, 4096):
        assert _same_or_declined(path, threads=7, min_segment=size)


def test_inputs_with_different_fields_of_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _events()
    first = write_events(tmp_path / "a.jsonl", events[:200])  # one with "signature", "url"...
    second = write_events(tmp_path / "b.jsonl", [e for e in events[200:] if e["format"] != "email-csv"])
    monkeypatch.setenv("PPCTI_NATIVE", "1")
    fast = _service_checked(load.read_events([first, second]))
    assert "x_signature" in fast.columns
    reference = load._collect(load.scan_events([first, second]), [first, second])
    assert_frame_equal(_comparable(fast), _comparable(reference))
    assert _native(first, threads=1) is not None and _native(second, threads=1) is not None


def test_crlf_blank_lines_and_no_final_newline(tmp_path: Path) -> None:
    lines = [orjson.dumps(e) for e in _events()[:50]]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\r\n".join(lines[:20]) + b"\n\n  \n\t\r\n" + b"\n".join(lines[20:]))
    for size in (1, 300):
        assert _same_or_declined(path, threads=3, min_segment=size)


def _between_good_lines(tmp_path: Path, line: bytes) -> Path:
    """An events file of ``line`` between two ordinary events."""
    good = orjson.dumps(_events()[0])
    path = tmp_path / "events.jsonl"
    path.write_bytes(good + b"\n" + line + b"\n" + good + b"\n")
    return path


@pytest.mark.parametrize(
    "line",
    [
        b'{"line":"1"}',
        b'{"line":1.0}',
        b'{"line":-0}',
        b'{"line":9223372036854775808}',
        b'{"dst_port":80.0}',
        b'{"dst_port":2147483648}',
        b'{"holder":1}',
        b'{"holder":"a","holder":"b"}',
        b'{"emails":[1,"a"]}',
        b'{"emails":"a@b"}',
        b'{"extra":"x"}',
        b'{"extra":{"sender":1}}',
        b'{"holder":"\\ud800"}',
        b'{"holder":"\xff"}',
        b"[1]",
        b'{"a":1} {"b":2}',
        b'{"zz":1e400}',
    ],
)
def test_lines_it_cannot_be_sure_of_go_to_the_reference(tmp_path: Path, line: bytes) -> None:
    path = _between_good_lines(tmp_path, line)
    assert _native(path, threads=1) is None
    # and the whole load is the reference's: a frame or its error
    assert not _same_or_declined(path, threads=1)


@pytest.mark.parametrize(
    "line",
    [
        b'{"extra.sender":"x@y.example","holder":"a"}',  # one key with a dot, not the field of extra
        b'{"extra":{"sender.x":"a","sender":"b@c.example"}}',
        b'{"emails":["a@b.example",null,"\\u00e9@c.example"],"extra":null}',
        b'{"holder":"\\u0041cme","source_file":"a\\"b"}',
    ],
)
def test_lines_it_is_sure_of_are_read_as_the_reference_reads_them(tmp_path: Path, line: bytes) -> None:
    assert _same_or_declined(_between_good_lines(tmp_path, line), threads=1)


def _spy(monkeypatch: pytest.MonkeyPatch, name: str) -> list[bool]:
    """Replace ``_load_native.<name>`` (``read_file`` or ``read_block``) by a spy; the returned list
    records, call by call, whether the compiled reader took the input."""
    taken: list[bool] = []
    real = getattr(_load_native, name)

    def spy(source: Any, fields: Any) -> pl.DataFrame | None:
        frame = real(source, fields)
        taken.append(frame is not None)
        return frame

    monkeypatch.setattr(_load_native, name, spy)
    return taken


def _analyse(path: Path, out: Path, native: bool, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> dict:
    with monkeypatch.context() as m:
        m.setenv("PPCTI_NATIVE", "1" if native else "0")
        taken = _spy(m, "read_file")
        analyse(path, out, **kw)
    assert taken == [native]
    return {name: (out / name).read_bytes() for name in FILES}


def test_analysis_outputs_are_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_events(tmp_path / "events.jsonl", _events())
    fast = _analyse(path, tmp_path / "native", True, monkeypatch)
    reference = _analyse(path, tmp_path / "reference", False, monkeypatch)
    assert orjson.loads(reference["insights.json"])["summary"]["benign_email_entries_skipped"] > 0
    assert fast == reference


def test_partitioned_blocks_read_natively_give_the_same_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spill, "CHUNK_BYTES", 8192)
    path = write_events(tmp_path / "events.jsonl", _events())
    taken = _spy(monkeypatch, "read_block")
    outs = []
    for native in (True, False):
        monkeypatch.setenv("PPCTI_NATIVE", "1" if native else "0")
        out = tmp_path / str(native)
        analyse(path, out, partitions=2)
        outs.append({name: (out / name).read_bytes() for name in FILES})
        # the compiled reader took every block, and only with it on
        assert len(taken) > 10 and all(taken) if native else not any(taken)
        taken.clear()
    assert outs[0] == outs[1]


# --- the property test: files of near-miss lines -----------------------------------------------

_TEXT = st.text(alphabet=st.sampled_from('aZ ü\t"\\/é😀\x01\u2028'), max_size=6)
_RAW_NUMBERS = ["-0", "0", "1e2", "1E2", "80.0", "1.5", "-1", "1e400", "123456789012345678901234567890"]


def _ints() -> st.SearchStrategy[int]:
    edges = [0, 22, -1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**63 - 1, 2**63, -(2**63), 2**64]
    return st.one_of(st.sampled_from(edges), st.integers(-(2**70), 2**70))


def _timestamps() -> st.SearchStrategy[str]:
    plain = st.builds(
        lambda y, mo, d, h, mi, s, frac: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{frac}Z",
        st.integers(0, 9999),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 24),
        st.integers(0, 60),
        st.integers(0, 61),
        st.one_of(st.just(""), st.just("."), st.integers(0, 10**10).map(lambda n: f".{n}")),
    )
    odd = st.sampled_from(
        [
            "2023-3-5T07:06:40Z",
            " 2023-03-05T07:06:40Z",
            "2023-03-05 07:06:40Z",
            "2023-03-05T07:06:40z",
            "",
            "2023-03-05T07:06:40+00:00",
            "+2023-03-05T07:06:40Z",
            "2023-03-05T07:06:40.-1Z",
            "12023-03-05T07:06:40Z",
        ]
    )
    return st.one_of(plain, odd)


def _any_json() -> st.SearchStrategy[Any]:
    return st.recursive(
        st.one_of(st.none(), st.booleans(), _ints(), st.floats(allow_nan=False), _TEXT),
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_TEXT, inner, max_size=3)),
        max_leaves=6,
    )


def _dump(value: Any, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only)


def _value(key: str) -> st.SearchStrategy[str]:
    """The JSON text of a value for ``key``: mostly what it should be, sometimes a near miss."""
    raw = st.sampled_from(_RAW_NUMBERS)
    if key in ("line", "dst_port"):
        good: st.SearchStrategy[Any] = _ints()
    elif key == "timestamp":
        good = _timestamps()
    elif key == "emails":
        good = st.one_of(st.none(), st.lists(st.one_of(st.none(), _TEXT, _ints()), max_size=3), _TEXT)
    elif key == "extra":
        fields = st.sampled_from(["sender", "verdict", *ATTACK_EXTRA_FIELDS, "zz", "subject"])
        good = st.one_of(
            st.none(),
            st.dictionaries(fields, st.one_of(st.none(), _TEXT, _TEXT, _any_json()), max_size=4),
            _TEXT,
        )
    else:
        good = st.one_of(st.none(), _TEXT, _TEXT)
    dumped = st.builds(_dump, st.one_of(good, good, good, _any_json()), st.booleans())
    return st.one_of(dumped, dumped, dumped, raw)


#: The fields the reader reads, then near misses: a field it does not read, an escaped key and a
#: key that differs in case only.
_KEYS = [*load.SCAN_SCHEMA, "subject", "hold\\u0065r", "Holder"]


@st.composite
def _line(draw: st.DrawFn) -> str:
    keys = draw(st.lists(st.sampled_from(_KEYS), max_size=8))
    pairs = [f'"{k}":{draw(_value(k.replace(chr(92) + "u0065", "e")))}' for k in keys]
    line = "{" + ",".join(pairs) + "}"
    return draw(st.sampled_from([line, line, line, line, "", " ", "\t", "null", line + " ", " " + line]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_line(), min_size=1, max_size=12), crlf=st.booleans(), final=st.booleans())
def test_property_near_miss_lines(tmp_path: Path, lines: list[str], crlf: bool, final: bool) -> None:
    text = ("\r\n" if crlf else "\n").join(lines) + ("\n" if final else "")
    path = tmp_path / "events.jsonl"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    _same_or_declined(path, threads=3, min_segment=16)
    # the block reader of the partitioned path decides the same way
    block = _load_native.read_block(path.read_bytes(), load.NATIVE_FIELDS)
    fast = _native(path, threads=1)
    assert (block is None) == (fast is None)
    if block is not None and fast is not None:
        assert_frame_equal(_comparable(_service_checked(load.typed_native(block))), _comparable(fast))
