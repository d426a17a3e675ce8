"""What a run folder publishes, without a broker: order, skipping, PII split, KG chunks, bad lines."""

from __future__ import annotations

import tempfile
from pathlib import Path

import orjson
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ppcti.bus.batches as batches_module
from ppcti.bus.envelope import NTRIPLES, STIX_JSON, TURTLE
from ppcti.bus.run import event_batches, jsonl_lines, pii_outputs, run_outputs
from ppcti.bus.settings import BusSettings
from ppcti.errors import FormatError

SETTINGS = BusSettings("unused:1", events_per_batch=2)


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else orjson.dumps(data))


def test_order_and_skipped_files(tmp_path: Path) -> None:
    _write(tmp_path / "insights.json", {"top": []})
    _write(tmp_path / "summary.json", {"events": 3})
    _write(tmp_path / "cti" / "bundles.jsonl", b'{"id":"b1"}\n\n{"id":"b2"}\n')
    kinds = [o.kind for o in run_outputs(tmp_path, SETTINGS)]
    assert kinds == ["run-summary", "cti-bundle", "cti-bundle", "insights"]


def test_events_only_when_asked(tmp_path: Path) -> None:
    lines = [orjson.dumps({"holder": "h", "line": i}) for i in range(1, 6)]
    _write(tmp_path / "events.jsonl", b"\n".join(lines) + b"\n")
    assert list(run_outputs(tmp_path, SETTINGS)) == []
    batches = [orjson.loads(bytes(o.payload)) for o in run_outputs(tmp_path, SETTINGS, include_events=True)]
    assert [b["count"] for b in batches] == [2, 2, 1]
    assert [b["first_line"] for b in batches] == [1, 3, 5]
    assert [e["line"] for b in batches for e in b["events"]] == [1, 2, 3, 4, 5]


def test_pii_report_header_then_findings() -> None:
    report = {"upload": "u", "holder": "h", "findings": [{"type": "EMAIL"}, {"type": "IP"}], "flags": []}
    outputs = pii_outputs(report)
    assert [o.kind for o in outputs] == ["pii-report", "pii-finding", "pii-finding"]
    assert outputs[0].payload == {"upload": "u", "holder": "h", "flags": [], "finding_count": 2}
    assert [o.payload["type"] for o in outputs[1:]] == ["EMAIL", "IP"]


def test_small_kg_is_sent_as_turtle(tmp_path: Path) -> None:
    ttl = b"@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\n"
    _write(tmp_path / "kg.ttl", ttl)
    [out] = list(run_outputs(tmp_path, SETTINGS))
    assert (out.kind, out.content_type, out.payload) == ("kg-additions", TURTLE, ttl)


def test_large_kg_is_split_into_ntriples_chunks_without_losing_a_triple(tmp_path: Path) -> None:
    graph = rdflib.Graph()
    ex = rdflib.Namespace("http://example.org/")
    for i in range(400):
        graph.add((ex[f"s{i}"], ex.p, rdflib.Literal(f"value {i}")))
    _write(tmp_path / "kg.ttl", graph.serialize(format="turtle", encoding="utf-8"))
    settings = BusSettings("unused:1", max_message_bytes=8192)
    chunks = list(run_outputs(tmp_path, settings))
    assert len(chunks) > 1
    assert all(c.content_type == NTRIPLES and len(c.payload) <= 8192 for c in chunks)
    back = rdflib.Graph()
    for chunk in chunks:
        back.parse(data=chunk.payload, format="nt")
    assert set(back) == set(graph)


def test_bad_bundle_line_names_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path / "cti" / "bundles.jsonl", b'{"id":"b1"}\n{"id": oops}\n')
    with pytest.raises(FormatError) as info:
        list(run_outputs(tmp_path, SETTINGS))
    assert info.value.line == 2
    assert info.value.file.endswith("bundles.jsonl")
    assert "oops" not in str(info.value)


def test_bundles_keep_their_bytes_and_type(tmp_path: Path) -> None:
    _write(tmp_path / "cti" / "bundles.jsonl", b'{"id":"b1","type":"bundle"}\n')
    [out] = list(run_outputs(tmp_path, SETTINGS))
    assert (out.content_type, out.payload) == (STIX_JSON, b'{"id":"b1","type":"bundle"}')


def test_event_batches_of_an_empty_file(tmp_path: Path) -> None:
    _write(tmp_path / "events.jsonl", b"\n")
    assert list(event_batches(tmp_path / "events.jsonl", 10)) == []


json_lines = st.lists(
    st.one_of(
        st.just(""),
        st.just("  "),
        st.integers().map(str),
        st.text(max_size=10).map(lambda s: orjson.dumps(s).decode()),
    ),
    max_size=30,
)


@pytest.fixture
def monkeypatch_chunk(monkeypatch):
    return lambda size: monkeypatch.setattr(batches_module, "_CHUNK", size)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=json_lines, chunk=st.integers(1, 64), final_newline=st.booleans(), crlf=st.booleans())
def test_jsonl_lines_whatever_the_chunking(lines, chunk, final_newline, crlf, monkeypatch_chunk) -> None:
    text = ("\r\n" if crlf else "\n").join(lines) + ("\n" if final_newline and lines else "")
    expected = [(i, line.strip().encode()) for i, line in enumerate(lines, start=1) if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.jsonl"
        path.write_text(text, encoding="utf-8", newline="")
        monkeypatch_chunk(chunk)
        assert [(n, bytes(b)) for n, b in jsonl_lines(path)] == expected
