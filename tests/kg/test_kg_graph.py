"""The per-upload graph, its inference rules and the kg.ttl export."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyoxigraph
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib.compare import isomorphic

from ppcti.kg.graph import CSVW, DPV, PROV, build_graph, export_turtle, infer_flags
from ppcti.pii.model import Finding, PiiReport
from ppcti.pii.vocabulary import FIXED_TYPE_IDS, PPII

RAW = "alice.secret@example.org"


def col(file: str, column: str, type_id: str, confidence: float = 0.9, examples=()) -> Finding:
    return Finding(
        file=file,
        type=type_id,
        confidence=confidence,
        detector="structured",
        column=column,
        matched=18,
        sampled=20,
        match_rate=0.9,
        examples=list(examples),
    )


def span(file: str, type_id: str, start: int, confidence: float = 0.85) -> Finding:
    return Finding(
        file=file,
        type=type_id,
        confidence=confidence,
        detector="presidio",
        start=start,
        end=start + 10,
        examples=[RAW],
    )


def report(findings, files=(), holder="ACME"):
    return PiiReport(
        upload="upload.zip",
        holder=holder,
        files=list(files),
        findings=list(findings),
        generated_at="2026-11-29T02:00:00Z",
    )


def flags_of(rep, flag):
    flags, _ = infer_flags(rep)
    return [f for f in flags if f["flag"] == flag]


def test_sweeney_triple_in_one_file_is_high_risk():
    rep = report(
        [col("p.csv", "dob", "BIRTH_DATE"), col("p.csv", "zip", "POSTAL_CODE"), col("p.csv", "sex", "GENDER")]
    )
    (flag,) = flags_of(rep, "reidentification-risk")
    assert flag["severity"] == "high"
    assert flag["scope"] == "file"
    assert flag["file"] == "p.csv"
    assert flag["types"] == ["BIRTH_DATE", "GENDER", "POSTAL_CODE"]
    assert flag["rule"] == "ZipGenderBirthDate"


def test_triple_spread_over_files_is_weaker_upload_flag():
    rep = report(
        [col("a.csv", "dob", "BIRTH_DATE"), col("a.csv", "zip", "POSTAL_CODE"), col("b.csv", "sex", "GENDER")]
    )
    (flag,) = flags_of(rep, "reidentification-risk")
    assert (flag["severity"], flag["scope"]) == ("medium", "upload")
    assert "file" not in flag


def test_incomplete_or_unsure_sets_raise_nothing():
    assert (
        flags_of(
            report([col("p.csv", "dob", "BIRTH_DATE"), col("p.csv", "zip", "POSTAL_CODE")]),
            "reidentification-risk",
        )
        == []
    )
    low = report(
        [
            col("p.csv", "dob", "BIRTH_DATE"),
            col("p.csv", "zip", "POSTAL_CODE"),
            col("p.csv", "sex", "GENDER", confidence=0.3),
        ]
    )
    assert flags_of(low, "reidentification-risk") == []


def test_three_unlisted_quasi_identifiers_give_medium_flag():
    rep = report([col("p.csv", "n", "NATIONALITY"), col("p.csv", "c", "COUNTRY"), col("p.csv", "a", "AGE")])
    (flag,) = flags_of(rep, "reidentification-risk")
    assert (flag["severity"], flag["rule"]) == ("medium", "three-or-more-quasi-identifiers")
    assert flag["types"] == ["AGE", "COUNTRY", "NATIONALITY"]


def test_health_column_marks_special_category():
    rep = report([col("p.csv", "smoker", "SMOKING_STATUS"), col("p.csv", "name", "PERSON")])
    (flag,) = flags_of(rep, "special-category")
    assert flag["types"] == ["SMOKING_STATUS"]
    assert flag["files"] == ["p.csv"]
    assert flags_of(report([col("p.csv", "lic", "MEDICAL_LICENSE")]), "special-category") == []


def test_direct_identifiers_listed():
    rep = report(
        [col("p.csv", "name", "PERSON"), col("p.csv", "age", "AGE"), span("t.txt", "EMAIL_ADDRESS", 0)]
    )
    (flag,) = flags_of(rep, "direct-identifiers")
    assert flag["types"] == ["EMAIL_ADDRESS", "PERSON"]
    assert flag["files"] == ["p.csv", "t.txt"]


@pytest.mark.parametrize(
    ("findings", "files", "expected"),
    [
        pytest.param([], [], "other", id="empty"),
        pytest.param(
            [col("fw.csv", "src_ip", "IP_ADDRESS"), col("fw.csv", "dst_ip", "IP_ADDRESS"),
             col("fw.csv", "ts", "DATE_TIME"), col("fw.csv", "user", "PERSON", 0.6)],
            [{"path": "fw.csv",
              "columns": ["ts", "src_ip", "dst_ip", "src_port", "dst_port", "proto", "action", "user"]}],
            "threat-intelligence-logs", id="firewall-csv",
        ),
        pytest.param([span("fw.log", "IP_ADDRESS", 0)], [{"path": "fw.log", "format": "firewall-text"}],
                     "threat-intelligence-logs", id="parsed-log-format"),
        pytest.param(
            [col("p.csv", "name", "PERSON"), col("p.csv", "dob", "BIRTH_DATE"),
             col("p.csv", "mail", "EMAIL_ADDRESS"), col("p.csv", "iban", "IBAN_CODE"),
             col("p.csv", "created", "DATE_TIME")],
            [], "personal-records", id="customer-table",
        ),
        pytest.param([col("p.csv", "ts", "DATE_TIME"), col("p.csv", "url", "URL")], [], "other",
                     id="timestamps-without-network-ids"),
        pytest.param([col("p.csv", "name", "PERSON")], [], "other", id="single-name-column"),
    ],
)  # fmt: skip
def test_use_case(findings, files, expected):
    assert infer_flags(report(findings, files))[1] == expected


def _full_report(holder="ACME") -> PiiReport:
    return report(
        [
            col("data/p.csv", "dob", "BIRTH_DATE", examples=[RAW]),
            col("data/p.csv", "zip", "POSTAL_CODE"),
            col("data/p.csv", "sex", "GENDER"),
            col("data/p.csv", "smoker", "SMOKING_STATUS"),
            col("data/p.csv", "$.contact.mail", "EMAIL_ADDRESS", examples=["a***@example.org", RAW]),
            span("notes.txt", "EMAIL_ADDRESS", 4),
            span("notes.txt", "EMAIL_ADDRESS", 40, 0.95),
            span("notes.txt", "PERSON", 70),
            col("data/p.csv", "loyalty", "LOYALTY_CARD"),
        ],
        files=[
            {"path": "data/p.csv", "format": "csv", "columns": ["dob", "zip", "sex", "smoker", "id"]},
            {"path": "notes.txt", "format": "txt"},
        ],
        holder=holder,
    )


def test_graph_structure_and_provenance():
    g = build_graph(_full_report())
    U = rdflib.URIRef  # noqa: N806
    datasets = list(g.subjects(rdflib.RDF.type, U("http://www.w3.org/ns/dcat#Dataset")))
    assert len(datasets) == 1
    ds = datasets[0]
    assert str(ds).startswith("urn:uuid:")
    assert (ds, rdflib.RDF.type, U(CSVW + "TableGroup")) in g
    urls = {str(o) for o in g.objects(None, U(CSVW + "url"))}
    assert urls == {"data/p.csv", "notes.txt"}
    tables = set(g.objects(ds, U(CSVW + "table")))
    assert {str(next(g.objects(t, U(CSVW + "url")))) for t in tables} == {"data/p.csv"}
    names = {str(o) for o in g.objects(None, U(CSVW + "name"))}
    assert {"dob", "zip", "sex", "smoker", "id", "$.contact.mail"} <= names
    assert (ds, U(DPV + "hasPersonalData"), U(PPII + "SmokingStatus")) in g
    assert (ds, U(DPV + "hasPersonalData"), U(PPII + "LoyaltyCard")) in g
    confidences = [o.toPython() for o in g.objects(None, U(PPII + "confidence"))]
    assert confidences
    assert all(isinstance(c, Decimal) for c in confidences)
    activity = next(g.subjects(rdflib.RDF.type, U(PROV + "Activity")))
    started = next(g.objects(activity, U(PROV + "startedAtTime"))).toPython()
    assert started == datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    agent = next(g.objects(activity, U(PROV + "wasAssociatedWith")))
    assert (agent, rdflib.RDF.type, U(PROV + "SoftwareAgent")) in g
    # two e-mail spans in notes.txt collapse into one finding with a count
    occ = [o.toPython() for o in g.objects(None, U(PPII + "occurrences"))]
    assert sorted(occ) == [1, 2]
    assert (ds, U(PPII + "useCase"), U(PPII + "PersonalRecords")) in g
    flag_ids = {str(o) for o in g.objects(None, U(PPII + "flagId"))}
    assert flag_ids == {"reidentification-risk", "special-category", "direct-identifiers"}


def test_export_round_trips_through_rdflib_and_pyoxigraph_without_raw_values(tmp_path: Path):
    out = tmp_path / "kg.ttl"
    export_turtle(_full_report(), out)
    text = out.read_text(encoding="utf-8")
    assert RAW not in text
    assert "a***@example.org" not in text
    parsed = rdflib.Graph().parse(out, format="turtle")
    assert isomorphic(parsed, build_graph(_full_report()))
    assert all(RAW not in str(term) for triple in parsed for term in triple)
    store = pyoxigraph.Store()
    store.load(out.read_bytes(), pyoxigraph.RdfFormat.TURTLE)
    assert len(store) == len(parsed)
    assert not (tmp_path / "kg.ttl.tmp").exists()


def test_unparseable_timestamp_is_kept_as_text_not_typed():
    rep = _full_report()
    rep.generated_at = "yesterday"
    g = build_graph(rep)
    assert not list(g.objects(None, rdflib.URIRef(PROV + "startedAtTime")))
    assert "yesterday" in {str(o) for o in g.objects(None, rdflib.URIRef(PPII + "generatedAt"))}


def test_same_report_same_graph_other_holder_other_graph():
    assert isomorphic(build_graph(_full_report()), build_graph(_full_report()))
    assert not isomorphic(build_graph(_full_report()), build_graph(_full_report(holder="Other")))


_types = st.sampled_from([*FIXED_TYPE_IDS, "CUSTOM_THING", "odd type/ü"])
_findings = st.lists(
    st.one_of(
        st.builds(
            col,
            st.sampled_from(["a.csv", "b/c.csv"]),
            st.sampled_from(["x", "y", "Straße", "$.a[0]"]),
            _types,
            st.floats(0, 1),
            st.just([RAW]),
        ),
        st.builds(span, st.sampled_from(["t.txt", "a.csv"]), _types, st.integers(0, 10_000), st.floats(0, 1)),
    ),
    max_size=12,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings=_findings)
def test_any_report_exports_valid_deterministic_turtle(findings):
    rep = report(findings)
    g1 = build_graph(rep)
    ttl = g1.serialize(format="turtle")
    assert RAW not in ttl
    assert isomorphic(rdflib.Graph().parse(data=ttl, format="turtle"), g1)
    assert isomorphic(build_graph(rep), g1)
    flags, use_case = infer_flags(rep)
    assert use_case in {"threat-intelligence-logs", "personal-records", "other"}
    confident = {f.type for f in findings if f.confidence >= 0.5}
    for flag in flags:
        assert set(flag["types"]) <= confident
