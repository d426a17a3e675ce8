"""Rules over the upload graph joined with the ontology: the graph amplifies detection.

Each finding alone says "this column is a postal code"; the rules say what the findings mean together.
The rules are SPARQL over the graph and read their parameters from the ontology (quasi-identifier sets,
special-category and identifier-kind annotations, use-case evidence, event-column patterns), so a new
quasi-identifier set or a new category is a Turtle edit:

- ``reidentification-risk``: every member of a ``ppii:QuasiIdentifierSet`` occurs in one file (severity
  of the set) or only across files of the upload (one level lower: linking needs a join key);
  otherwise three or more quasi-identifiers in one file give a ``medium`` flag.
- ``special-category``: a category annotated ``ppii:specialCategory`` or below a DPV
  ``dpv:SpecialCategoryPersonalData`` concept (GDPR Art. 9: health, e.g. smoking status).
- ``direct-identifiers``: categories that identify a person on their own (names, IDs, e-mail, IP ...).

Only findings with confidence >= :data:`MIN_CONFIDENCE` take part. The use-case rule is described in
:func:`_use_case`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ppcti.kg.iris import category_iri, node_iri, uri
from ppcti.pii.vocabulary import PPII, ontology_graph

if TYPE_CHECKING:
    import rdflib

#: Findings below this confidence are recorded in kg.ttl but do not trigger flags.
MIN_CONFIDENCE = 0.5
#: A file counts as a log when most of its evidence points that way; see _use_case.
LOG_FORMAT_WEIGHT = 3

_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
_LOWER = {"high": "medium", "medium": "low", "low": "low"}

_PREFIXES = f"""
PREFIX ppii: <{PPII}>
PREFIX csvw: <http://www.w3.org/ns/csvw#>
PREFIX dct:  <http://purl.org/dc/terms/>
PREFIX dpv:  <https://w3id.org/dpv#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""

# A finding that counts: confident enough. ?have is its category, ?file where it was found.
_COUNTS = """?f a ppii:Finding ; ppii:category ?have ; ppii:inFile ?file ; ppii:confidence ?conf .
             FILTER(?conf >= {min})"""

Q_SETS_PER_FILE = """
SELECT DISTINCT ?file ?set ?severity WHERE {
  ?set a ppii:QuasiIdentifierSet ; ppii:severity ?severity .
  ?file dct:isPartOf ?ds .
  FILTER NOT EXISTS {
    ?set ppii:member ?need .
    FILTER NOT EXISTS { COUNTS ?have rdfs:subClassOf* ?need . }
  }
}"""

Q_SETS_IN_UPLOAD = """
SELECT DISTINCT ?set ?severity WHERE {
  ?set a ppii:QuasiIdentifierSet ; ppii:severity ?severity .
  FILTER NOT EXISTS {
    ?set ppii:member ?need .
    FILTER NOT EXISTS { COUNTS ?have rdfs:subClassOf* ?need . }
  }
}"""

Q_MEMBERS = """SELECT ?set ?tid WHERE { ?set ppii:member ?m . ?m ppii:typeId ?tid . }"""

Q_QUASI_PER_FILE = """
SELECT ?file (COUNT(DISTINCT ?have) AS ?n) (GROUP_CONCAT(DISTINCT ?tid; separator=" ") AS ?tids) WHERE {
  COUNTS ?have rdfs:subClassOf* ?k . ?k ppii:identifierKind "quasi" . ?f ppii:typeId ?tid .
} GROUP BY ?file"""

Q_SPECIAL = """
SELECT DISTINCT ?file ?tid WHERE {
  COUNTS ?f ppii:typeId ?tid .
  ?have rdfs:subClassOf* ?sc .
  { ?sc ppii:specialCategory true } UNION { ?sc a dpv:SpecialCategoryPersonalData }
}"""

Q_DIRECT = """
SELECT DISTINCT ?file ?tid WHERE {
  COUNTS ?f ppii:typeId ?tid .
  ?have rdfs:subClassOf* ?k . ?k ppii:identifierKind "direct" .
}"""

Q_EVIDENCE = """
SELECT ?ucid (COUNT(DISTINCT ?f) AS ?n) WHERE {
  COUNTS ?have rdfs:subClassOf* ?k . ?k ppii:evidenceFor ?uc . ?uc ppii:useCaseId ?ucid .
} GROUP BY ?ucid"""

Q_EVENT_COLUMNS = """
SELECT ?name WHERE { ?schema csvw:column ?col . ?col csvw:name ?name . }"""

Q_LOG_FILES = """
SELECT (COUNT(DISTINCT ?file) AS ?n) WHERE {
  ?file dct:format ?fmt . ppii:ThreatIntelligenceLogs ppii:logFormat ?fmt .
}"""

Q_NETWORK = """
ASK { COUNTS ?have ppii:typeId ?tid . FILTER(?tid IN ("IP_ADDRESS", "MAC_ADDRESS")) }"""


def _q(template: str) -> str:
    return _PREFIXES + template.replace("COUNTS", _COUNTS.format(min=MIN_CONFIDENCE))


def _joined(graph: rdflib.Graph) -> rdflib.Graph:
    from rdflib import Graph

    joined = Graph()
    for triple in ontology_graph():
        joined.add(triple)
    for triple in graph:
        joined.add(triple)
    return joined


def infer(graph: rdflib.Graph) -> tuple[list[dict[str, Any]], str]:
    """Flags and use case for one upload graph (from :func:`ppcti.kg.graph.base_graph`)."""
    g = _joined(graph)
    paths = {
        str(file): str(url)
        for file, url in g.query(
            _PREFIXES
            + """
        SELECT ?file ?url WHERE { ?file dct:isPartOf ?ds ; csvw:url ?url . }"""
        )
    }
    members: dict[str, list[str]] = {}
    for row in g.query(_PREFIXES + Q_MEMBERS):
        members.setdefault(str(row[0]), []).append(str(row[1]))

    flags: list[dict[str, Any]] = []
    files_with_set: set[str] = set()
    for file, qset, severity in g.query(_q(Q_SETS_PER_FILE)):
        set_id = str(qset).removeprefix(PPII)
        files_with_set.add(str(file))
        flags.append(
            _flag(
                "reidentification-risk",
                str(severity),
                "file",
                paths.get(str(file)),
                sorted(members[str(qset)]),
                set_id,
                "quasi-identifiers that together single out individuals occur in one file",
            )
        )
    covered_sets = {f["rule"] for f in flags}
    for qset, severity in g.query(_q(Q_SETS_IN_UPLOAD)):
        set_id = str(qset).removeprefix(PPII)
        if set_id not in covered_sets:
            flags.append(
                _flag(
                    "reidentification-risk",
                    _LOWER[str(severity)],
                    "upload",
                    None,
                    sorted(members[str(qset)]),
                    set_id,
                    "quasi-identifiers of one set are spread over several files of the upload; "
                    "they re-identify if the files share a key",
                )
            )
    for file, n, tids in g.query(_q(Q_QUASI_PER_FILE)):
        if int(n) >= 3 and str(file) not in files_with_set:
            flags.append(
                _flag(
                    "reidentification-risk",
                    "medium",
                    "file",
                    paths.get(str(file)),
                    sorted(set(str(tids).split())),
                    "three-or-more-quasi-identifiers",
                    "three or more quasi-identifiers in one file",
                )
            )

    special: dict[str, set[str]] = {}
    for file, tid in g.query(_q(Q_SPECIAL)):
        special.setdefault(str(tid), set()).add(paths.get(str(file), ""))
    if special:
        flags.append(
            _flag(
                "special-category",
                "high",
                "upload",
                None,
                sorted(special),
                "gdpr-art9",
                "special-category personal data (GDPR Art. 9, e.g. health) needs an Art. 9(2) "
                "condition and strong protection before sharing",
                files=sorted({p for ps in special.values() for p in ps if p}),
            )
        )
    direct: dict[str, set[str]] = {}
    for file, tid in g.query(_q(Q_DIRECT)):
        direct.setdefault(str(tid), set()).add(paths.get(str(file), ""))
    if direct:
        flags.append(
            _flag(
                "direct-identifiers",
                "high",
                "upload",
                None,
                sorted(direct),
                "direct-identifier",
                "values identify a person on their own: pseudonymise or remove before sharing",
                files=sorted({p for ps in direct.values() for p in ps if p}),
            )
        )

    flags.sort(
        key=lambda f: (
            _SEVERITY_ORDER.get(f["severity"], 9),
            f["flag"],
            f.get("file") or "",
            f["types"],
            f["rule"],
        )
    )
    return flags, _use_case(g)


def _flag(
    flag: str,
    severity: str,
    scope: str,
    file: str | None,
    types: list[str],
    rule: str,
    reason: str,
    files: list[str] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "flag": flag,
        "severity": severity,
        "scope": scope,
        "types": types,
        "rule": rule,
        "reason": reason,
    }
    if file is not None:
        out["file"] = file
    if files:
        out["files"] = files
    return out


def _use_case(g: rdflib.Graph) -> str:
    """Threat-intelligence logs vs records about people, from what was found.

    log evidence = findings of log-typical categories (IP, MAC, date/time, URL) + columns whose
    normalised header matches the ontology's event-column pattern (port, protocol, action, signature,
    ...) + 3 x files in a parsed log format. record evidence = findings of person-record categories
    (name, birth date, IDs, address, health ...). Logs when log evidence wins and an IP or MAC address was
    found or a file is a parsed log; personal records when record evidence wins with at least two
    findings; otherwise "other" (including uploads without PII).
    """
    from ppcti.pii.vocabulary import normalise_header

    evidence = {str(ucid): int(n) for ucid, n in g.query(_q(Q_EVIDENCE))}
    pattern_lit = next(
        iter(g.objects(uri(PPII + "ThreatIntelligenceLogs"), uri(PPII + "eventColumnPattern"))), None
    )
    events = 0
    if pattern_lit is not None:
        pattern = re.compile(str(pattern_lit))
        events = sum(
            1
            for (name,) in g.query(_PREFIXES + Q_EVENT_COLUMNS)
            if pattern.match(normalise_header(str(name)))
        )
    log_files = next(int(n) for (n,) in g.query(_PREFIXES + Q_LOG_FILES))
    network = bool(g.query(_q(Q_NETWORK)).askAnswer)
    logs = evidence.get("threat-intelligence-logs", 0) + events + LOG_FORMAT_WEIGHT * log_files
    records = evidence.get("personal-records", 0)
    if logs > records and (network or log_files):
        return "threat-intelligence-logs"
    if records >= logs and records >= 2:
        return "personal-records"
    return "other"


def add_conclusions(graph: rdflib.Graph, flags: list[dict[str, Any]], use_case: str) -> None:
    """Record flags and use case in the upload graph (``ppii:hasFlag``, ``ppii:useCase``)."""
    from rdflib import RDF, RDFS, Literal

    dataset = next(graph.subjects(RDF.type, uri("http://www.w3.org/ns/dcat#Dataset")))
    files = {str(url): file for file, url in graph.subject_objects(uri("http://www.w3.org/ns/csvw#url"))}
    uc_node = {"threat-intelligence-logs": "ThreatIntelligenceLogs", "personal-records": "PersonalRecords"}
    graph.add((dataset, uri(PPII + "useCase"), uri(PPII + uc_node.get(use_case, "Other"))))
    for flag in flags:
        node = uri(
            node_iri("flag", str(dataset), flag["flag"], flag["rule"], flag.get("file") or "", *flag["types"])
        )
        graph.add((node, RDF.type, uri(PPII + "Flag")))
        graph.add((dataset, uri(PPII + "hasFlag"), node))
        graph.add((node, uri(PPII + "flagId"), Literal(flag["flag"])))
        graph.add((node, uri(PPII + "severity"), Literal(flag["severity"])))
        graph.add((node, uri(PPII + "scope"), Literal(flag["scope"])))
        graph.add((node, uri(PPII + "rule"), Literal(flag["rule"])))
        graph.add((node, RDFS.comment, Literal(flag["reason"], lang="en")))
        for tid in flag["types"]:
            graph.add((node, uri(PPII + "involves"), uri(category_iri(tid))))
        for path in [flag.get("file"), *flag.get("files", [])]:
            if path and path in files:
                graph.add((node, uri(PPII + "concerns"), files[path]))
