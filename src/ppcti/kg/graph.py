"""The per-upload knowledge graph: what personal data an upload holds, where, and what follows from it.

``kg.ttl`` describes the upload as a ``dcat:Dataset`` / ``csvw:TableGroup`` whose files are
``dcat:Distribution`` (and ``csvw:Table`` when they have columns), their columns as ``csvw:Column``,
``dpv:hasPersonalData`` links to the ontology's categories, one ``ppii:Finding`` per column/type with
confidence and detector, the PROV-O activity that produced it, the holder, and the inferred flags and
use case. It never holds values, not even masked examples: a graph is shared more freely than
``pii.json``.

IRIs are ``urn:uuid`` v5 derived from the holder, the upload name, file paths and column names, so two
runs over the same upload give the same (isomorphic) graph and graphs from several runs merge cleanly
in a store (:mod:`ppcti.kg.store`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ppcti import __version__
from ppcti.kg.iris import (
    AGENT_IRI,
    CSVW,
    DCAT,
    DCT,
    DPV,
    DPV_VERSION,
    ONTOLOGY_IRI,
    OWL,
    PREFIXES,
    PROV,
    category_iri,
    dpv_pd_iri,
    node_iri,
)
from ppcti.pii.vocabulary import PPII

if TYPE_CHECKING:
    import rdflib

    from ppcti.pii.model import Finding, PiiReport


def _file_path(entry: dict[str, Any]) -> str | None:
    for key in ("path", "file", "name"):
        value = entry.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _is_datetime(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return "T" in text


def _group_findings(findings: Iterable[Finding]) -> dict[tuple[str, str | None, str], list[Finding]]:
    """One node per (file, column, type): free-text spans of one type in one file collapse into one
    finding with a count, which keeps kg.ttl small however long the text is."""
    groups: dict[tuple[str, str | None, str], list[Finding]] = defaultdict(list)
    for f in findings:
        groups[(f.file, f.column, f.type)].append(f)
    return groups


def base_graph(report: PiiReport) -> rdflib.Graph:
    """The upload graph without inferred flags: dataset, files, columns, findings, provenance."""
    from rdflib import RDF, RDFS, Graph, Literal, URIRef
    from rdflib.namespace import XSD as RXSD

    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)

    def u(iri: str) -> URIRef:
        return URIRef(iri)

    holder = report.holder or ""
    # The document stands on its own: it names the ontology its ppii: classes come from and the DPV
    # release its dpv:/pd: IRIs follow, and states each used class's DPV-PD concept itself (below).
    doc = u(node_iri("document", holder, report.upload))
    g.add((doc, RDF.type, u(OWL + "Ontology")))
    g.add((doc, u(OWL + "imports"), u(ONTOLOGY_IRI)))
    g.add((doc, u(DCT + "conformsTo"), u(DPV)))
    g.add((doc, RDFS.comment, Literal(f"dpv: and pd: IRIs follow DPV {DPV_VERSION}", lang="en")))
    dataset = u(node_iri("dataset", holder, report.upload))
    g.add((dataset, RDF.type, u(DCAT + "Dataset")))
    g.add((dataset, RDF.type, u(CSVW + "TableGroup")))
    g.add((dataset, u(DCT + "title"), Literal(report.upload)))

    agent = u(AGENT_IRI)
    g.add((agent, RDF.type, u(PROV + "SoftwareAgent")))
    g.add((agent, RDFS.label, Literal(f"ppcti {__version__}")))
    activity = u(node_iri("activity", holder, report.upload, report.generated_at or ""))
    g.add((activity, RDF.type, u(PROV + "Activity")))
    g.add((activity, RDFS.label, Literal("ppcti PII identification")))
    g.add((activity, u(PROV + "wasAssociatedWith"), agent))
    g.add((activity, u(PROV + "used"), dataset))
    if report.generated_at:
        if _is_datetime(report.generated_at):
            g.add((activity, u(PROV + "startedAtTime"), Literal(report.generated_at, datatype=RXSD.dateTime)))
        else:  # keep what we were given, untyped: an ill-typed xsd:dateTime breaks strict consumers
            g.add((activity, u(PPII + "generatedAt"), Literal(report.generated_at)))
    if report.holder:
        holder_node = u(node_iri("holder", holder))
        g.add((holder_node, RDF.type, u(PROV + "Agent")))
        g.add((holder_node, RDFS.label, Literal(report.holder)))
        g.add((dataset, u(DCT + "publisher"), holder_node))
        g.add((dataset, u(PROV + "wasAttributedTo"), holder_node))

    files: dict[str, URIRef] = {}
    columns: dict[tuple[str, str], URIRef] = {}

    def file_node(path: str, fmt: str | None = None) -> URIRef:
        node = files.get(path)
        if node is None:
            node = files[path] = u(node_iri("file", holder, report.upload, path))
            g.add((node, RDF.type, u(DCAT + "Distribution")))
            g.add((node, u(CSVW + "url"), Literal(path)))
            g.add((node, u(DCT + "isPartOf"), dataset))
            g.add((dataset, u(DCAT + "distribution"), node))
        if fmt:
            g.add((node, u(DCT + "format"), Literal(fmt)))
        return node

    def column_node(path: str, name: str) -> URIRef:
        node = columns.get((path, name))
        if node is None:
            table = file_node(path)
            schema = u(node_iri("schema", holder, report.upload, path))
            g.add((table, RDF.type, u(CSVW + "Table")))
            g.add((dataset, u(CSVW + "table"), table))
            g.add((table, u(CSVW + "tableSchema"), schema))
            g.add((schema, RDF.type, u(CSVW + "Schema")))
            node = columns[(path, name)] = u(node_iri("column", holder, report.upload, path, name))
            g.add((node, RDF.type, u(CSVW + "Column")))
            g.add((node, u(CSVW + "name"), Literal(name)))
            g.add((node, u(CSVW + "titles"), Literal(name)))
            g.add((schema, u(CSVW + "column"), node))
        return node

    for entry in report.files:
        path = _file_path(entry)
        if path is None:
            continue
        fmt = entry.get("format") or entry.get("kind")
        file_node(path, fmt if isinstance(fmt, str) else None)
        for name in entry.get("columns") or ():
            if isinstance(name, str):
                column_node(path, name)

    for (path, column, type_id), group in sorted(
        _group_findings(report.findings).items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2])
    ):
        category = u(category_iri(type_id))
        pd_term = dpv_pd_iri(type_id)
        if pd_term is not None:
            g.add((category, RDFS.subClassOf, u(pd_term)))
        g.add((category, u(PPII + "typeId"), Literal(type_id)))
        file = file_node(path)
        subject = column_node(path, column) if column is not None else file
        finding = u(node_iri("finding", holder, report.upload, path, column or "", type_id))
        best = max(group, key=lambda f: f.confidence)
        g.add((subject, u(DPV + "hasPersonalData"), category))
        g.add((dataset, u(DPV + "hasPersonalData"), category))
        g.add((finding, RDF.type, u(PPII + "Finding")))
        g.add((finding, u(PPII + "category"), category))
        if pd_term is not None:
            g.add((finding, u(PPII + "dpvCategory"), u(pd_term)))
        g.add((finding, u(PPII + "typeId"), Literal(type_id)))
        g.add((finding, u(PPII + "inFile"), file))
        if column is not None:
            g.add((finding, u(PPII + "aboutColumn"), subject))
        g.add(
            (
                finding,
                u(PPII + "confidence"),
                Literal(f"{min(1.0, max(0.0, best.confidence)):.4f}", datatype=RXSD.decimal),
            )
        )
        for detector in sorted({f.detector for f in group}):
            g.add((finding, u(PPII + "detector"), Literal(detector)))
        if column is not None:
            g.add((finding, u(PPII + "matched"), Literal(best.matched)))
            g.add((finding, u(PPII + "sampled"), Literal(best.sampled)))
            if best.match_rate is not None:
                g.add(
                    (finding, u(PPII + "matchRate"), Literal(f"{best.match_rate:.4f}", datatype=RXSD.decimal))
                )
        else:
            g.add((finding, u(PPII + "occurrences"), Literal(len(group))))
        g.add((finding, u(PROV + "wasGeneratedBy"), activity))
    return g


def infer_flags(report: PiiReport) -> tuple[list[dict[str, Any]], str]:
    """Re-identification, special-category and direct-identifier flags, and the upload's use case
    ("threat-intelligence-logs", "personal-records" or "other"), inferred over the upload graph joined
    with the ontology. The caller stores them in ``report.flags`` / ``report.use_case``."""
    from ppcti.kg.inference import infer

    return infer(base_graph(report))


def annotate(report: PiiReport) -> PiiReport:
    """Fill ``report.flags`` and ``report.use_case`` from :func:`infer_flags`; returns the report."""
    report.flags, report.use_case = infer_flags(report)
    return report


def build_graph(report: PiiReport) -> rdflib.Graph:
    """The complete upload graph, inferred flags and use case included.

    A report :func:`annotate` already filled carries the inference's conclusions: they are used as
    they are rather than inferred a second time over the same findings (a run annotates the report,
    then writes ``kg.ttl``; inference is most of the cost of either).
    """
    from ppcti.kg.inference import add_conclusions, infer

    graph = base_graph(report)
    if report.use_case is None:
        flags, use_case = infer(graph)
    else:
        flags, use_case = report.flags, report.use_case
    add_conclusions(graph, flags, use_case)
    return graph


def export_turtle(report: PiiReport, path: Path) -> None:
    """Write ``kg.ttl``. Written to a temporary name first so a crash never leaves half a file."""
    path = Path(path)
    data = build_graph(report).serialize(format="turtle", encoding="utf-8")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
