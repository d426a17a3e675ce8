"""JSON feeds that are not one valid document are read record by record."""

from __future__ import annotations

import json
from pathlib import Path

from hostile_helpers import assert_accounted, file_entry, jsonl, run

from ppcti.ingest.jsonrecords import BadRecord, iter_json_records


def _records(n: int) -> list[dict]:
    return [
        {
            "timestamp": f"2023-03-07T10:38:{i % 60:02d}Z",
            "event_type": "alert",
            "src_ip": f"198.51.100.{i % 250 + 1}",
            "src_port": 1000 + i,
            "dest_ip": "10.0.0.6",
            "dest_port": 443,
            "proto": "TCP",
            "flow_id": i,
        }
        for i in range(n)
    ]


def _run_one(tmp_path: Path, text: str, name: str = "feed.json") -> dict:
    path = tmp_path / name
    path.write_text(text)
    out = tmp_path / "run"
    run(path, out)
    assert_accounted(out)
    return file_entry(out, name)


def test_pretty_printed_array_with_one_truncated_record(tmp_path: Path) -> None:
    text = json.dumps(_records(20), indent=2)
    cut = text.index('"src_ip": "198.51.100.12"') + 15
    text = text[:cut] + "\n" + text[text.index("  {", cut) :]  # record 12 stops mid-string
    entry = _run_one(tmp_path, text)
    assert (entry["format"], entry["events"], entry["rejects"]) == ("events-json", 19, 1)
    [reject] = jsonl(tmp_path / "run" / "rejects.jsonl")
    assert reject["line"] == 12 and reject["reason"].startswith("not valid JSON")


def test_concatenated_pretty_printed_documents(tmp_path: Path) -> None:
    text = "\n".join(json.dumps(r, indent=2) for r in _records(30))
    entry = _run_one(tmp_path, text)
    assert (entry["events"], entry["rejects"]) == (30, 0)


def test_concatenated_documents_with_a_broken_one(tmp_path: Path) -> None:
    docs = [json.dumps(r, indent=4) for r in _records(30)]
    docs[7] = docs[7][: len(docs[7]) // 2]
    entry = _run_one(tmp_path, "\n".join(docs))
    assert (entry["events"], entry["rejects"]) == (29, 1)


def test_one_line_array_with_one_nan(tmp_path: Path) -> None:
    text = json.dumps(_records(40)).replace('"flow_id": 5}', '"flow_id": NaN}')
    entry = _run_one(tmp_path, text)
    assert (entry["events"], entry["rejects"]) == (39, 1)
    [reject] = jsonl(tmp_path / "run" / "rejects.jsonl")
    assert reject["line"] == 6 and "NaN" in reject["reason"]


def test_record_reader_numbers_every_record_and_loses_none() -> None:
    text = json.dumps(_records(5), indent=2).replace('"flow_id": 2', '"flow_id": Infinity')
    items = list(iter_json_records(text))
    assert [i.index if isinstance(i, BadRecord) else i[0] for i in items] == [1, 2, 3, 4, 5]
    assert isinstance(items[2], BadRecord)


def test_escaped_lone_surrogates_in_documents_cost_nothing(tmp_path: Path) -> None:
    # orjson refuses "\ud800", so such a file is read record by record; the character no UTF-8 text can
    # hold becomes "?" (as the streaming array reader makes it), a proper pair stays the character
    records = _records(6)
    records[1]["alert"] = {"signature": "\ud800 lone"}
    records[2]["alert"] = {"signature": "\ud83d\ude00 pair", "\udfff": "key"}
    # pretty-printed documents (one per line would be NDJSON, whose lines orjson rejects with a reason)
    text = "\n".join(json.dumps(r, indent=2) for r in records)  # ensure_ascii: the escapes stay
    assert "\\ud800" in text and "\\udfff" in text
    entry = _run_one(tmp_path, text)
    assert (entry["events"], entry["rejects"]) == (6, 0)
    signatures = [e["extra"].get("signature") for e in jsonl(tmp_path / "run" / "events.jsonl")]
    assert "? lone" in signatures and "\U0001f600 pair" in signatures
    items = list(iter_json_records(text))
    assert items[2][1]["alert"] == {"signature": "\U0001f600 pair", "?": "key"}  # type: ignore[index]
