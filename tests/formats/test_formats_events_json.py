import json
from pathlib import Path

import pytest
from formats_helpers import parse_file, source_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppcti.formats import detect
from ppcti.formats.mapping import flatten, load_mapping

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpora" / "suricata"

EVE = {
    "timestamp": "2017-03-25T16:49:58.856335-0600",
    "event_type": "alert",
    "src_ip": "84.92.227.177",
    "src_port": 6668,
    "dest_ip": "10.192.19.6",
    "dest_port": 57966,
    "proto": "TCP",
    "flow_id": 1,
    "alert": {"signature": "ET CHAT IRC", "severity": 3},
    "ether": {"src_mac": "00-17-10-88-BC-02"},
}
ECS = {
    "@timestamp": "2023-03-07T10:38:03.120Z",
    "ecs": {"version": "8.11.0"},
    "source": {"ip": "2001:0db8:0000:0000:0000:0000:0000:0001", "port": 443, "mac": "00-17-10-88-BC-03"},
    "destination": {"ip": "10.0.0.5", "port": 50000},
    "network": {"transport": "tcp"},
    "event": {"action": "connection_attempted"},
}
ZEEK = {
    "ts": 1678185483.25,
    "uid": "CHhAvVGS1DHFjwGM9",
    "id.orig_h": "198.51.100.9",
    "id.orig_p": 5353,
    "id.resp_h": "10.0.0.7",
    "id.resp_p": 53,
    "proto": "udp",
    "orig_l2_addr": "0017.1088.bc04",
}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            EVE,
            {
                "timestamp": "2017-03-25T22:49:58.856335Z",
                "src_ip": "84.92.227.177",
                "dst_port": 57966,
                "protocol": "TCP",
                "src_mac": "00:17:10:88:bc:02",
            },
        ),
        (
            ECS,
            {
                "timestamp": "2023-03-07T10:38:03.120Z",
                "src_ip": "2001:db8::1",
                "dst_ip": "10.0.0.5",
                "protocol": "TCP",
                "src_mac": "00:17:10:88:bc:03",
            },
        ),
        (
            ZEEK,
            {
                "timestamp": "2023-03-07T10:38:03.25Z",
                "src_port": 5353,
                "dst_ip": "10.0.0.7",
                "protocol": "UDP",
                "src_mac": "00:17:10:88:bc:04",
            },
        ),
    ],
    ids=["suricata-eve", "ecs", "zeek"],
)
def test_builtin_mappings(tmp_path: Path, record: dict, expected: dict) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps(record) + "\n")
    events, rejects = parse_file(path, "events-json")
    assert rejects == []
    row = events.to_dicts()[0]
    for key, value in expected.items():
        assert row[key] == value, key


def test_mixed_feed_array_and_rejects(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_text(
        json.dumps(
            [
                EVE,
                ECS,
                ZEEK,
                "not an object",
                {"unrelated": 1},
                {**EVE, "src_ip": "x", "dest_ip": "y"},
                {**EVE, "timestamp": "bogus"},
            ]
        )
    )
    events, rejects = parse_file(path, "events-json")
    assert events.get_column("extra").struct.field("mapping").to_list() == ["suricata-eve", "ecs", "zeek"]
    assert [(r.line, r.reason) for r in rejects] == [
        (4, "record is not a JSON object"),
        (5, "no mapping recognises this record"),
        (6, "no valid source or destination address"),
        (7, "invalid timestamp"),
    ]


def test_array_streams_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ppcti.formats.events_json as events_json
    from ppcti.formats import ParseOptions, get

    records = [{**EVE, "src_port": 1000 + i, "flow_id": i} for i in range(25)]
    records.insert(7, "not an object")
    path = tmp_path / "feed.json"
    path.write_bytes(json.dumps(records, indent=2).encode("utf-16"))  # pretty, and not UTF-8
    monkeypatch.setattr(events_json, "_BATCH_RECORDS", 10)

    def whole_document(data: bytes) -> object:
        raise AssertionError("a well-formed array must stream, not be parsed whole")

    monkeypatch.setattr(events_json.orjson, "loads", whole_document)
    with source_for(path) as source:
        assert source.kind == "json"
        batches = list(get("events-json").parse(source, ParseOptions()))
    assert len(batches) >= 3  # three batches of records plus the last flush: never the whole array at once
    lines = [line for b in batches for line in b.events.get_column("line").to_list()]
    assert lines == [i for i in range(1, 27) if i != 8]  # positions in the array
    assert [(r.line, r.reason) for b in batches for r in b.rejects] == [(8, "record is not a JSON object")]
    ports = [p for b in batches for p in b.events.get_column("src_port").to_list()]
    assert ports == [1000 + i for i in range(25)]


def test_array_with_integers_beyond_63_bits_is_read_whole(tmp_path: Path) -> None:
    # ijson's parser stops at 2**63; such values (Windows event keywords, for one) must not cost the file
    path = tmp_path / "feed.json"
    path.write_text(json.dumps([{**EVE, "keywords": 0x8020000000000000}, ZEEK]))
    events, rejects = parse_file(path, "events-json")
    assert events.get_column("line").to_list() == [1, 2]
    assert rejects == []


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_a_number_too_large_for_a_float_costs_nothing_but_its_entry(tmp_path: Path, suffix: str) -> None:
    # 1e400: in an array it reads as an infinite float (int() refuses it with OverflowError, not
    # ValueError), so the port is left out; orjson refuses the NDJSON line, which is then a reject
    record = json.dumps(EVE).replace('"dest_port": 57966', '"dest_port": 1e400')
    assert "1e400" in record
    path = tmp_path / f"feed{suffix}"
    zeek = json.dumps(ZEEK)
    path.write_text(f"[{record}, {zeek}]" if suffix == ".json" else f"{record}\n{zeek}\n")
    events, rejects = parse_file(path, "events-json")
    if suffix == ".json":
        assert events.get_column("line").to_list() == [1, 2]
        assert events.get_column("dst_port").to_list()[0] is None
        assert rejects == []
    else:
        assert events.get_column("line").to_list() == [2]
        assert [r.line for r in rejects] == [1] and rejects[0].reason


def test_records_nested_deeper_than_orjson_writes_do_not_stop_the_run(tmp_path: Path) -> None:
    deep: dict = {"x": 1}
    for _ in range(300):  # orjson reads 1,024 levels but writes only 255
        deep = {"a": deep}
    path = tmp_path / "feed.json"
    path.write_text(json.dumps([EVE, {**EVE, "alert": deep}, {"unrelated": deep}]))
    events, rejects = parse_file(path, "events-json")
    assert events.get_column("line").to_list() == [1, 2]
    assert [(r.line, r.reason) for r in rejects] == [(3, "no mapping recognises this record")]
    assert json.loads(rejects[0].raw) == {"unrelated": deep}  # the raw record is kept all the same


def test_broken_array_is_read_record_by_record(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_text("[\n" + json.dumps(EVE) + ",\n{broken,\n" + json.dumps(ZEEK) + "\n]\n")
    events, rejects = parse_file(path, "events-json")
    # every record is accounted for: the two good ones are events, the broken one is one reject
    assert events.get_column("line").to_list() == [1, 3]
    assert [(r.line, r.raw) for r in rejects] == [(2, "{broken")]


def test_broken_ndjson_line_is_rejected_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps(EVE) + "\n{broken\n\n" + json.dumps(ZEEK) + "\n")
    events, rejects = parse_file(path, "events-json")
    assert events.get_column("line").to_list() == [1, 4]
    assert rejects[0].line == 2 and rejects[0].reason.startswith("not valid JSON")


def test_real_suricata_corpus_is_recognised_and_parsed() -> None:
    for path in sorted(CORPUS.glob("*.json")):
        with source_for(path) as source:
            assert detect(source).format == "events-json"
        events, rejects = parse_file(path, "events-json")
        assert rejects == []
        assert events.height == len(json.loads(path.read_text()))
        assert events.get_column("timestamp").str.ends_with("Z").all()


def test_flatten_literal_dotted_and_nested_keys() -> None:
    assert flatten({"id.orig_h": "a"})["id.orig_h"] == "a"
    assert flatten({"id": {"orig_h": "b"}})["id.orig_h"] == "b"
    assert flatten({"a": {"b.c": {"d": 1}}})["a.b.c.d"] == 1
    assert flatten({"id.orig_h": "literal", "id": {"orig_h": "nested"}})["id.orig_h"] == "literal"
    assert flatten({"id": {"orig_h": "nested"}, "id.orig_h": "literal"})["id.orig_h"] == "literal"


def test_user_mapping_file(tmp_path: Path) -> None:
    spec = tmp_path / "m.yaml"
    spec.write_text(
        "name: fw\nsignature: [srcaddr, dstaddr]\nfields:\n  src_ip: [srcaddr]\n  dst_ip: [dstaddr]\n"
        "  timestamp: [time]\n"
    )
    mapping = load_mapping(spec)
    assert mapping.first(flatten({"srcaddr": "1.2.3.4"}), "src_ip") == "1.2.3.4"


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            json_value.filter(lambda v: not isinstance(v, list)),
            st.fixed_dictionaries(
                {
                    "src_ip": st.text(max_size=15),
                    "event_type": st.text(max_size=5),
                    "timestamp": st.text(max_size=25),
                }
            ),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_random_records_end_as_events_or_rejects(
    tmp_path_factory: pytest.TempPathFactory, records: list
) -> None:
    path = tmp_path_factory.mktemp("j") / "feed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    events, rejects = parse_file(path, "events-json")
    seen = sorted(events.get_column("line").to_list() + [r.line for r in rejects])
    assert seen == list(range(1, len(records) + 1))


@pytest.mark.parametrize(
    ("text", "encoding", "whole"),
    [
        ('[{"a": 1}, {"b": "x"}]', "utf-8", True),
        ('\ufeff[{"a": 1}]', "utf-8", True),  # a byte-order mark
        ('[{"a": 1}]', "utf-16", False),  # another encoding: the streaming path decodes it
        ('[{"a": 1234567890123456789}]', "utf-8", False),  # 19 digits: ijson may refuse the array
        ('[{"id": "x:1234567890123456789"}]', "utf-8", False),  # ...even in a string, to be safe
        ('[{"a": "\\ud800"}]', "utf-8", False),  # orjson refuses a lone surrogate, ijson reads '?'
        ('[{"a": 1}] x', "utf-8", False),  # not one document
    ],
)
def test_which_arrays_are_read_in_one_call(tmp_path: Path, text: str, encoding: str, whole: bool) -> None:
    from ppcti.formats import events_json

    path = tmp_path / "feed.json"
    path.write_bytes(text.encode(encoding))
    with source_for(path) as source:
        records = events_json._whole_array(source)
    assert (records is not None) == whole
    if whole:
        assert records == json.loads(text.removeprefix("\ufeff"))


def test_an_array_over_the_size_limit_streams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ppcti.formats import events_json

    path = tmp_path / "feed.json"
    path.write_text(json.dumps([EVE, ZEEK]))
    with source_for(path) as source:
        monkeypatch.setattr(events_json, "WHOLE_ARRAY_MAX", source.size - 1)
        assert events_json._whole_array(source) is None
        monkeypatch.setattr(events_json, "WHOLE_ARRAY_MAX", source.size)
        assert events_json._whole_array(source) == [EVE, ZEEK]
