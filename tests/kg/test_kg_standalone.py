"""kg.ttl stands on its own (DPV-PD terms stated in it, the ontology imported, the DPV release named),
and the layers hold: detection never imports the graph, the graph only consumes a PiiReport."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import rdflib

from ppcti.kg import annotate
from ppcti.kg.graph import export_turtle
from ppcti.kg.iris import DPV_VERSION, ONTOLOGY_IRI
from ppcti.pii.model import Finding, PiiReport
from ppcti.pii.vocabulary import DPV_PD, PPII

OWL = rdflib.Namespace("http://www.w3.org/2002/07/owl#")


def _report() -> PiiReport:
    columns = (("mail", "EMAIL_ADDRESS"), ("ip", "IP_ADDRESS"), ("pesel", "NATIONAL_ID"), ("x", "LOYALTY"))
    findings = [
        Finding(file="people.csv", type=t, confidence=0.9, detector="column:x", column=c, matched=9)
        for c, t in columns
    ]
    return PiiReport(upload="u.zip", holder="acme", findings=findings, generated_at="2026-12-07T02:00:00Z")


def test_kg_ttl_links_types_to_dpv_pd_without_the_packaged_ontology(tmp_path: Path) -> None:
    path = tmp_path / "kg.ttl"
    export_turtle(_report(), path)
    g = rdflib.Graph().parse(path, format="turtle")  # the file alone, no ontology loaded
    sub = rdflib.RDFS.subClassOf
    assert (rdflib.URIRef(PPII + "EmailAddress"), sub, rdflib.URIRef(DPV_PD + "EmailAddress")) in g
    assert (rdflib.URIRef(PPII + "IpAddress"), sub, rdflib.URIRef(DPV_PD + "IPAddress")) in g
    assert (rdflib.URIRef(PPII + "NationalId"), sub, rdflib.URIRef(DPV_PD + "OfficialID")) in g
    dpv_terms = {str(o) for o in g.objects(None, rdflib.URIRef(PPII + "dpvCategory"))}
    assert dpv_terms == {DPV_PD + "EmailAddress", DPV_PD + "IPAddress", DPV_PD + "OfficialID"}
    assert len(set(g.objects(None, OWL.imports))) == 1
    assert next(g.objects(None, OWL.imports)) == rdflib.URIRef(ONTOLOGY_IRI)
    comments = {str(o) for o in g.objects(None, rdflib.RDFS.comment)}
    assert any(f"DPV {DPV_VERSION}" in c for c in comments)
    # a custom type has no DPV-PD term and claims none
    assert not list(g.objects(rdflib.URIRef(PPII + "Loyalty"), sub))


def test_annotate_fills_flags_and_use_case() -> None:
    report = _report()
    assert report.use_case is None and report.flags == []
    annotate(report)
    assert report.use_case in {"threat-intelligence-logs", "personal-records", "other"}
    assert isinstance(report.flags, list)


def test_detection_does_not_import_the_graph() -> None:
    code = (
        "import sys, polars as pl\n"
        "from ppcti.pii import classify_table, PiiOptions, analyze_text\n"
        "classify_table(pl.DataFrame({'email': ['a@b.org', 'c@d.org', 'e@f.org']}), file='t',"
        " options=PiiOptions(nlp='regex'))\n"
        "analyze_text('mail a@b.org', file='t', options=PiiOptions(nlp='regex'))\n"
        "assert not [m for m in sys.modules if m.startswith('ppcti.kg')], 'ppcti.kg imported'\n"
    )
    src = Path(__file__).resolve().parents[2] / "src"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(src)}
    )
    assert out.returncode == 0, out.stderr[-2000:]
