"""The compiled NDJSON reader of ``events-json`` (``ppcti-native``) against the Python reference.

The reference (``PPCTI_NATIVE=0``: orjson and ``_Builder.add`` per line) is the specification: with the
compiled reader on, a run must write the same bytes to ``events.jsonl``, ``rejects.jsonl`` and the
cleaned copy, and a parse must give the same frames, rejects and notes. The property test builds
records from the near misses of every rule the reader decides itself (canonical and non-canonical
IPv4, IPv6, ISO timestamps with every offset shape and impossible dates, epoch numbers and strings,
MAC spellings, ports as numbers, strings, floats and booleans, non-ASCII protocols, lists, objects and
floats in ``extra``, dotted keys against nested ones, duplicate keys, integers past 64 bits, broken and
blank lines), so that each rule's "certain" and "leave it to Python" sides are both reached.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from formats_helpers import assert_same_outputs, core_run, source_for
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from native_marks import native_part
from ppcti.clean.timestamps import TimeContext
from ppcti.formats import ParseOptions, _events_native, events_json, get
from ppcti.formats._events_native import native_reader
from ppcti.formats.mapping import builtin_mappings
from ppcti.ingest.detect import MAX_CONTROL_SHARE, control_share
from ppcti.model import Reject
from ppcti.samples import generate

ppcti_native, pytestmark = native_part("EventsReader")


@contextmanager
def _native(on: bool, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """``PPCTI_NATIVE`` set for the block; counts what the compiled reader decided, to prove it ran
    (NDJSON chunks through ``events_json``, records of arrays through ``_events_native`` itself)."""
    decided: Counter[str] = Counter()
    real_chunk, real_lines = _events_native.read_chunk, _events_native.read_lines

    def count(table: Any, rejects: list, fallback: list) -> None:
        decided["chunks"] += 1
        decided["events"] += pl.DataFrame(table).height
        decided["rejects"] += len(rejects)
        decided["fallback"] += len(fallback)

    def spy_chunk(reader: Any, frame: pl.DataFrame, builder: Any) -> Any:
        count(*reader.read(frame)[:3])
        return real_chunk(reader, frame, builder)

    def spy_lines(reader: Any, chunk: Any, builder: Any) -> Any:
        # a chunk the reader splits itself is counted here, any other by spy_chunk
        result = reader.read_bytes(chunk.data, chunk.first_line)
        if result is None:
            decided["frame_chunks"] += 1
        else:
            decided["byte_chunks"] += 1
            count(*result[:3])
        return real_lines(reader, chunk, builder)

    with monkeypatch.context() as m:
        m.setenv("PPCTI_NATIVE", "1" if on else "0")
        m.setattr(events_json, "read_lines", spy_lines)
        m.setattr(_events_native, "read_chunk", spy_chunk)
        yield decided


def _parse(path: Path, options: ParseOptions, native: bool) -> tuple[pl.DataFrame, list, Counter, Counter]:
    with pytest.MonkeyPatch.context() as monkeypatch, _native(native, monkeypatch) as decided:
        assert (native_reader(builtin_mappings(), options.time) is not None) == native
        with source_for(path) as source:
            batches = list(get("events-json").parse(source, options))
    events = pl.concat([b.events for b in batches], how="vertical")
    rejects = sorted((r.line, r.reason, r.raw, r.stage) for b in batches for r in b.rejects)
    notes: Counter[str] = Counter()
    for b in batches:
        notes.update(b.notes)
    return events, rejects, +notes, decided


def _same(path: Path, options: ParseOptions | None = None) -> Counter:
    options = options or ParseOptions(batch_bytes=4096)
    fast = _parse(path, options, native=True)
    reference = _parse(path, options, native=False)
    assert_frame_equal(fast[0], reference[0])
    assert fast[1] == reference[1]
    assert fast[2] == reference[2]
    assert reference[3]["chunks"] == 0
    return fast[3]


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    generate(out, rows=3000, seed=7)
    return out


def test_sample_feeds_parse_identically_and_mostly_natively(samples: Path) -> None:
    for name in ("ecs-events.jsonl", "zeek-conn.jsonl"):
        decided = _same(samples / name)
        # the reader split the file's chunks itself (no frame of lines)
        assert decided["byte_chunks"] > 0 and decided["frame_chunks"] == 0
        # the compiled reader decided most lines itself; the reference read the rest
        assert decided["events"] > 5 * decided["fallback"] > 0


def test_run_outputs_are_byte_identical(
    samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = [samples / "ecs-events.jsonl", samples / "zeek-conn.jsonl", samples / "suricata-alerts.json"]
    outs = {}
    for on in (True, False):
        out = tmp_path / ("native" if on else "reference")
        with _native(on, monkeypatch) as decided:
            core_run(inputs, out)
        assert (decided["events"] > 0) == on
        outs[on] = out
    assert assert_same_outputs(outs[True], outs[False]) > 0


def test_other_time_zone_leaves_naive_timestamps_to_the_reference(tmp_path: Path) -> None:
    path = tmp_path / "zoned.jsonl"
    records = [
        {
            "timestamp": "2023-03-07T10:00:00",
            "src_ip": "1.2.3.4",
            "dest_ip": "10.0.0.1",
            "event_type": "alert",
            "flow_id": 1,
            "proto": "TCP",
        },
        {
            "timestamp": "2023-03-07T10:00:00+01:00",
            "src_ip": "1.2.3.4",
            "dest_ip": "10.0.0.1",
            "event_type": "alert",
            "flow_id": 2,
            "proto": "TCP",
        },
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    decided = _same(path, ParseOptions(time=TimeContext(timezone="Europe/Vienna")))
    assert decided["events"] == 1 and decided["fallback"] == 1


def test_unmapped_and_non_object_records_are_rejected_natively_with_the_reference_cut(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    long = "ü€" * 1500  # over 2,000 characters, and more bytes than characters
    lines = [json.dumps({"message": long}, ensure_ascii=False), json.dumps([1, {"a": long}]), "42", '"x"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    decided = _same(path)
    assert decided["rejects"] == 4 and decided["fallback"] == 0


def test_keys_that_share_a_mapped_key_s_first_bytes_are_told_apart(tmp_path: Path) -> None:
    """The scanner compares a key's first eight bytes as one word, then the rest: keys that differ
    from a mapped one only past its eighth byte, or only in length, or in a segment of a dotted key,
    must not be read as it."""
    path = tmp_path / "near.jsonl"
    at = "2023-03-07T10:38:03Z"
    base = {"ts": 1679641200.5, "uid": "C1", "id.orig_h": "1.2.3.4", "id.resp_h": "10.0.0.1", "proto": "tcp"}
    records = [
        base,
        {**base, "id.orig_hX": "9.9.9.9"},  # longer than the mapped key
        {k.replace("id.orig_h", "id.orig_"): v for k, v in base.items()},  # shorter
        {k.replace("id.resp_h", "id.resp_x"): v for k, v in base.items()},  # differs past byte 8
        {"@timestamp": at, "destinationX": {"ip": "1.2.3.4"}, "source": {"ip": "5.6.7.8"}},
        {"@timestamp": at, "destination": {"ip": "1.2.3.4"}, "sourc": {"ip": "5.6.7.8"}},
        {"@timestamp": at, "destination.ip": "1.2.3.4", "source.ipv": "5.6.7.8"},
        {"@timestamp": at, "destination..ip": "1.2.3.4", "source.": {"ip": "5.6.7.8"}},
        {"ts": 1679641200.5, "id.orig_h": "1.2.3.4", "": 1, "id.": 2, ".id": 3, "uid": "C2"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    decided = _same(path)
    assert decided["events"] == 5 and decided["rejects"] == 4 and decided["fallback"] == 0


# --- property test over the near misses --------------------------------------------------------------

_IPS = (
    st.sampled_from(
        [
            "192.0.2.1",
            "10.0.0.255",
            "255.255.255.255",
            "0.0.0.0",
            "01.2.3.4",
            "1.2.3.256",
            "1.2.3",
            " 1.2.3.4",
            "[1.2.3.4]",
            "2001:db8::1",
            "2001:DB8:0::1",
            "::ffff:1.2.3.4",
            "1.2.3.4.5",
            "",
            "x",
            "١.2.3.4",
        ]
    )
    | st.integers(-1, 2**32)
    | st.none()
    | st.just([])
    | st.just({"a": 1})
)
_TIMES = (
    st.sampled_from(
        [
            "2023-03-07T10:38:03Z",
            "2023-03-07T10:38:03.5Z",
            "2023-03-07T10:38:03.000Z",
            "2023-03-07T10:38:03,5Z",
            "2023-03-07T10:38:03.5+00:00",
            "2023-03-07 10:38:03",
            "2023-03-07T10:38:03.123456789+01:00",
            "2023-03-07T10:38:03,5-0530",
            "2023-03-07T10:38:03+05",
            "2023-03-07T10:38Z",
            "2023-03-07T23:59:59-23:59",
            "2023-03-07T10:38:03+24:00",
            "2023-03-07T10:38:03+0560",
            "2023-02-29T10:00:00Z",
            "2024-02-29T10:00:00Z",
            "2023-03-07T24:00:00Z",
            "2023-03-07T10:60:00Z",
            "2023-03-07T10:38:60Z",
            "0999-01-01T00:00:00Z",
            "0001-01-01T00:30:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "2023-03-07T10:38:03.1234567890Z",
            "2023-03-07T10:38:03 Z",
            " 2023-03-07T10:38:03Z",
            "2023-03-07T10:38:03+053",
            "2023-03-07t10:38:03Z",
            "Mar/07/2023 10:38:03",
            "07/03/2023 10:38",
            "Tue, 07 Mar 2023 10:38:03 +0100",
            "1678185483",
            "1678185483.25",
            "",
            "garbage",
            "2023-03-07T10:38:03Z\u00a0",
        ]
    )
    | st.integers(-5, 2 * 10**11)
    | st.floats(-1e3, 2e11)
    | st.booleans()
    | st.none()
    | st.just([1])
)
_MACS = (
    st.sampled_from(
        [
            "a4:83:e7:51:17:c8",
            "A4-83-E7-51-17-C8",
            "a483.e751.17c8",
            "A483E75117C8",
            "0:1:2:3:4:5",
            "0:1-2:3:4:5",
            "a4:83:e7:51:17",
            "a4:83:e7:51:17:c8:00",
            "1:1:1:1:",
            " a4:83:e7:51:17:c8",
            "ä4:83:e7:51:17:c8",
            "a4:83:e7:51:17:cg",
            "",
            "a4.83.e7.51.17.c8",
        ]
    )
    | st.integers(0, 10)
    | st.none()
)
_PORTS = (
    st.integers(-2, 70000)
    | st.sampled_from(["80", " 80", "+80", "0x50", "8_0", "", "65536", "٨٠"])
    | st.floats(0, 70000)
    | st.booleans()
    | st.none()
    | st.just([80])
    | st.just(2**63 + 5)
)
_TEXT = st.sampled_from(["alert", "Allowed", "ürün", "ß", "tcp", "udp", "", 'a"b\\c\nd\u2028', "ǅ"])
_EXTRA = (
    _TEXT
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.none()
    | st.lists(_TEXT | st.integers(0, 9) | st.floats(0, 1), max_size=3)
    | st.dictionaries(_TEXT, _TEXT | st.integers(0, 9) | st.none(), max_size=3)
)
_EMAILS = (
    st.none()
    | st.just([])
    | st.sampled_from(["a@b.example", "<A@B.EXAMPLE>", "nope", ""])
    | st.lists(st.sampled_from(["a@b.example", "x"]), max_size=2)
)


#: Members appended to a record: escapes (in keys, in values a mapping reads, surrogate pairs and lone
#: halves), numbers (exponents, out of range, long fractions, leading zeros, minus zero), raw control
#: characters, nesting past the scanner's depth, keys written twice that no mapping reads, trailing text.
_SCAN_NEAR_MISSES = [
    ', "k\\u00e9y": 1',
    ', "src\\u005fip": "1.2.3.4"',
    ', "src_ip": "1.2.3.\\u0034"',
    ', "x": "\\ud83d\\ude00"',
    ', "x": "\\ud83d"',
    ', "x": "\\udc00x"',
    ', "x": "a\\/b\\tc\\"d"',
    ', "x": "\\x41"',
    ', "x": 1e400',
    ', "x": 1E+2',
    ', "x": -0',
    ', "dest_port": -0',
    ', "x": 0.1234567890123456789012',
    ', "x": 01',
    ', "x": 1.',
    ', "x": -',
    ', "x": "a\tb"',  # a raw tab: a control character (others would make the file binary)
    ', "x": ' + "[" * 130 + "]" * 130,
    ', "x": ' + '{"a":' * 130 + "1" + "}" * 130,
    ', "message": 1, "message": {"a": 2}',
    ', "x": tru',
    ', "x": [1, 2,]',
    "} x",
]


@st.composite
def _record(draw: st.DrawFn) -> str:
    shape = draw(st.sampled_from(["eve", "ecs", "zeek", "none"]))
    if shape == "eve":
        record: dict[str, Any] = {
            "timestamp": draw(_TIMES),
            "flow_id": draw(st.integers(0, 10**15)),
            "event_type": draw(_EXTRA),
            "src_ip": draw(_IPS),
            "src_port": draw(_PORTS),
            "dest_ip": draw(_IPS),
            "dest_port": draw(_PORTS),
            "proto": draw(_TEXT | st.integers(0, 20) | st.none()),
            "ether": {"src_mac": draw(_MACS), "dest_mac": draw(_MACS)},
            "alert": {"signature": draw(_EXTRA), "severity": draw(_EXTRA), "action": draw(_EXTRA)},
        }
        if draw(st.booleans()):
            record["smtp"] = {"mail_from": draw(_EMAILS)}
    elif shape == "ecs":
        record = {
            "@timestamp": draw(_TIMES),
            "ecs": {"version": "8.0"},
            "event": {"action": draw(_EXTRA), "category": draw(_EXTRA), "outcome": draw(_EXTRA)},
            "source": {"ip": draw(_IPS), "port": draw(_PORTS), "mac": draw(_MACS)},
            "destination": {"ip": draw(_IPS), "port": draw(_PORTS)},
            "network": {"transport": draw(_TEXT | st.none())},
            "email": {"from": {"address": draw(_EMAILS)}},
        }
        if draw(st.booleans()):  # a dotted key against the nested one, either order
            record["source.ip"] = draw(_IPS)
    elif shape == "zeek":
        record = {
            "ts": draw(_TIMES),
            "uid": draw(_EXTRA),
            "id.orig_h": draw(_IPS),
            "id.orig_p": draw(_PORTS),
            "id.resp_h": draw(_IPS),
            "id.resp_p": draw(_PORTS),
            "proto": draw(_TEXT),
            "id": draw(st.none() | st.just({"orig_h": "9.9.9.9"}) | st.just({})),
        }
    else:
        record = {"message": draw(_TEXT)}
    keys = list(record)
    order = draw(st.permutations(keys))
    # white space around every token, now and then: the reader's scanner skips it as JSON does
    separators = draw(st.sampled_from([(", ", ": "), (", ", ": "), (",", ":"), (" ,\t", " : ")]))
    text = json.dumps({k: record[k] for k in order}, ensure_ascii=draw(st.booleans()), separators=separators)
    tweak = draw(st.sampled_from(["", "", "", "dup", "cut", "nan", "big", "array", "blank", "crlf", "scan"]))
    if tweak == "scan":  # what the one-pass scanner must read as orjson does, or leave to the reference
        text = text[:-1] + draw(st.sampled_from(_SCAN_NEAR_MISSES)) + "}"
    elif tweak == "dup":
        text = text[:-1] + ', "src_ip": "5.6.7.8"}'
    elif tweak == "cut":
        text = text[: len(text) // 2]
    elif tweak == "nan":
        text = text[:-1] + ', "x": NaN}'
    elif tweak == "big":
        text = text[:-1] + ', "flow_id": 123456789012345678901234}'
    elif tweak == "array":
        text = f"[{text}]"
    elif tweak == "blank":
        text = draw(st.sampled_from(["", "   ", "\t", "\x0c", "\u00a0", "\x1f"]))
    elif tweak == "crlf":
        text += "\r"
    return text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_record(), min_size=1, max_size=40), plain=st.booleans())
def test_random_records_parse_identically(lines: list[str], plain: bool, tmp_path: Path) -> None:
    if plain:  # no carriage return in the file: the reader splits every chunk itself
        lines = [line.replace("\r", "") for line in lines]
    text = "\n".join(lines) + "\n"
    # a file of little but control bytes is binary to ingestion, which never hands it to a reader
    assume(control_share(text.encode()) <= MAX_CONTROL_SHARE)
    path = tmp_path / "feed.jsonl"
    path.write_text(text, encoding="utf-8")
    decided = _same(path)
    if plain:
        assert decided["frame_chunks"] == 0


# --- JSON arrays: records read back from their JSON text ---------------------------------------------


def _parse_array(path: Path, native: bool, whole: bool = True) -> tuple[pl.DataFrame, list, Counter, Counter]:
    """Parse an array file, read in one orjson call where it qualifies (``whole``) or always streamed
    through ijson; ``decided["whole"]`` counts the files read whole."""
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        _native(native, monkeypatch) as decided,
        source_for(path) as source,
    ):
        assert source.kind == "json"
        read_whole = events_json._whole_array

        def counted(source: Any) -> list | None:
            records = read_whole(source)
            decided["whole"] += records is not None
            return records

        monkeypatch.setattr(events_json, "_whole_array", counted)
        if not whole:
            monkeypatch.setattr(events_json, "WHOLE_ARRAY_MAX", -1)
        batches = list(get("events-json").parse(source, ParseOptions()))
    events = pl.concat([b.events for b in batches], how="vertical")
    rejects = sorted(((r.line, r.reason, r.raw, r.stage) for b in batches for r in b.rejects), key=str)
    notes: Counter[str] = Counter()
    for b in batches:
        notes.update(b.notes)
    return events, rejects, +notes, decided


def _same_array(path: Path) -> Counter:
    """Compiled reader and reference, each on the array read whole and streamed: four equal results."""
    fast = _parse_array(path, native=True)
    for native, whole in ((False, True), (True, False), (False, False)):
        other = _parse_array(path, native=native, whole=whole)
        assert_frame_equal(fast[0], other[0])
        assert fast[1] == other[1]
        assert fast[2] == other[2]
        if not native:
            assert other[3]["chunks"] == 0
        assert other[3]["whole"] == (fast[3]["whole"] if whole else 0)
    return fast[3]


CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpora" / "suricata"


@pytest.mark.parametrize("name", ["honeypot-2018.alerts.json", "wrccdc-2017.alerts.json"])
def test_suricata_arrays_parse_identically_and_natively(name: str) -> None:
    decided = _same_array(CORPUS / name)
    assert decided["chunks"] >= 1 and decided["events"] > 0
    assert decided["whole"] == 1


def test_array_records_that_do_not_read_back_go_to_the_reference(tmp_path: Path) -> None:
    base = {"timestamp": "2023-03-07T10:38:03Z", "src_ip": "1.2.3.4", "dest_ip": "10.0.0.1"}
    base |= {"event_type": "alert", "flow_id": 1, "proto": "TCP"}
    deep = "[" * 300 + "]" * 300  # past orjson's 255 levels: no JSON text to read back
    texts = [
        json.dumps(base),
        json.dumps({**base, "flow_id": 2, "x": 0}).replace('"x": 0', f'"x": {deep}'),
        json.dumps({**base, "flow_id": 3, "src_ip": "\ud800", "n": 1e5, "z": -0.0}),
    ]
    path = tmp_path / "alerts.json"
    path.write_text("[" + ",\n".join(texts) + "]", encoding="utf-8")
    decided = _same_array(path)
    # the plain record and the one with a surrogate and floats; the deep one read by the reference
    assert decided["events"] + decided["rejects"] + decided["fallback"] == 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_record(), min_size=1, max_size=30))
def test_random_arrays_parse_identically(lines: list[str], tmp_path: Path) -> None:
    records = []
    for text in lines:
        try:
            json.loads(text)
        except ValueError:
            continue
        records.append(text)
    path = tmp_path / "feed.json"
    path.write_text("[" + ",".join(records) + "]", encoding="utf-8")
    _same_array(path)


def test_sample_feeds_as_arrays_parse_identically_and_natively(samples: Path, tmp_path: Path) -> None:
    for name in ("ecs-events.jsonl", "zeek-conn.jsonl"):
        records = []
        for line in (samples / name).read_text(encoding="utf-8").splitlines():
            try:
                json.loads(line)
            except ValueError:
                continue  # a truncated line: an array holds whole records only
            records.append(line)
        path = tmp_path / f"{name}.json"
        path.write_text("[\n" + ",\n".join(records) + "\n]", encoding="utf-8")
        decided = _same_array(path)
        assert decided["whole"] == 1
        # every record went to the compiled reader, which decided most of them itself
        assert decided["events"] + decided["rejects"] + decided["fallback"] == len(records)
        assert decided["events"] > 5 * decided["fallback"]
        assert decided["events"] > len(records) // 2


@settings(max_examples=200, deadline=None)
@given(
    others=st.lists(st.tuples(st.integers(0, 30) | st.none(), st.integers(0, 9)), max_size=12),
    ordered=st.lists(st.integers(0, 30), max_size=30),
)
def test_the_reader_s_rejects_merge_as_one_stable_sort(
    others: list[tuple[int | None, int]], ordered: list[int]
) -> None:
    """``_join`` puts the reference's few rejects among the reader's (in line order already) instead
    of sorting them all: the same list as the stable sort it replaces, ties kept in order."""
    slow = [Reject("f", line, f"slow {tag}", "") for line, tag in others]
    fast = [Reject("f", line, f"fast {i}", "") for i, line in enumerate(sorted(ordered))]
    want = sorted(slow + fast, key=lambda r: -1 if r.line is None else r.line)
    assert _events_native._merge_rejects(list(slow), list(fast)) == want
