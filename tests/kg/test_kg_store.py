"""The pyoxigraph store for many uploads' graphs."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from ppcti.errors import FormatError
from ppcti.kg.graph import build_graph, export_turtle
from ppcti.kg.store import KgStore, validate_turtle
from ppcti.pii.model import Finding, PiiReport


def _report(upload: str, types: list[str], holder: str = "ACME") -> PiiReport:
    return PiiReport(upload=upload, holder=holder, generated_at="2026-11-29T02:00:00Z", findings=[
        Finding(file="a.csv", type=t, confidence=0.9, detector="structured", column=t.lower(), matched=5,
                sampled=5)
        for t in types])


def test_store_holds_many_uploads_and_answers_across_them(tmp_path: Path):
    store = KgStore()
    store.add_report(_report("one.zip", ["SMOKING_STATUS", "PERSON"]))
    store.add_report(_report("two.zip", ["IP_ADDRESS", "DATE_TIME"]))
    export_turtle(_report("three.zip", ["SMOKING_STATUS"], holder="Other"), tmp_path / "kg.ttl")
    store.add_turtle(tmp_path / "kg.ttl")
    assert store.uploads_with("SMOKING_STATUS") == ["one.zip", "three.zip"]
    assert store.uploads_with("IP_ADDRESS") == ["two.zip"]
    assert store.uploads_with('x" } DROP ALL {') == []
    special = store.query(
        """SELECT DISTINCT ?ds WHERE { ?ds ppii:hasFlag ?f . ?f ppii:flagId "special-category" }""")
    assert len(special) == 2
    out = tmp_path / "all.nq"
    n = store.export(out)
    assert n == len(store)
    assert out.stat().st_size > 0


def test_re_adding_an_upload_replaces_it():
    store = KgStore()
    first = store.add_report(_report("one.zip", ["SMOKING_STATUS"]))
    size = len(store)
    again = store.add_report(_report("one.zip", ["PERSON"]))
    assert first == again
    assert store.uploads_with("SMOKING_STATUS") == []
    assert store.uploads_with("PERSON") == ["one.zip"]
    assert abs(len(store) - size) < 40


def test_persistent_store_reopens(tmp_path: Path):
    path = tmp_path / "db"
    store = KgStore(path)
    store.add_report(_report("one.zip", ["PERSON"]))
    n = len(store)
    store.close()
    reopened = KgStore(path)
    assert len(reopened) == n
    assert reopened.uploads_with("PERSON") == ["one.zip"]


def test_validate_turtle(tmp_path: Path):
    good = tmp_path / "kg.ttl"
    export_turtle(_report("one.zip", ["PERSON", "AGE"]), good)
    n = len(build_graph(_report("one.zip", ["PERSON", "AGE"])))
    assert validate_turtle(good) == len(rdflib.Graph().parse(good)) == n
    bad = tmp_path / "bad.ttl"
    bad.write_text("<a> <b> .", encoding="utf-8")
    with pytest.raises(FormatError, match="not valid Turtle") as info:
        validate_turtle(bad)
    assert info.value.file == str(bad)
    with pytest.raises(FormatError, match="not valid Turtle"):
        KgStore().add_turtle(bad)


def test_a_graph_without_exactly_one_dataset_is_refused():
    with pytest.raises(FormatError, match="exactly one dataset"):
        KgStore().add_ntriples(b"<urn:a> <urn:b> <urn:c> .\n")
