"""Many uploads' graphs in one pyoxigraph store: where the graphs get large.

One ``kg.ttl`` is a few hundred triples and rdflib handles it well. A data-sharing service collects the
graphs of every upload of every holder: tens of thousands of uploads, millions of triples, and questions
across them ("which holders shared special-category data this month?"). rdflib keeps everything in
Python objects and its SPARQL engine is interpreted; pyoxigraph (Rust, RocksDB on disk or in memory)
loads and queries such a collection orders of magnitude faster and exports it in one streaming dump.
So: rdflib for building and reasoning over one upload, :class:`KgStore` for collections and bulk export.

Each upload lives in its own named graph (the dataset IRI), so re-adding an upload replaces it and the
ontology (loaded once into its own graph) is shared by all queries.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ppcti.errors import FormatError
from ppcti.pii.vocabulary import PPII, ontology_path

if TYPE_CHECKING:
    from ppcti.pii.model import PiiReport

#: Named graph holding the ontology.
ONTOLOGY_GRAPH = "https://w3id.org/ppcti/pii"
_DCAT_DATASET = "http://www.w3.org/ns/dcat#Dataset"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def validate_turtle(path: Path) -> int:
    """Parse a Turtle file with pyoxigraph (a second, independent parser next to rdflib); return the
    number of triples or raise :class:`FormatError`."""
    import pyoxigraph

    store = pyoxigraph.Store()
    try:
        store.load(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
    except SyntaxError as exc:
        raise FormatError(f"not valid Turtle: {exc.msg}", file=str(path)) from exc
    return len(store)


class KgStore:
    """A pyoxigraph store of upload graphs; ``path=None`` keeps it in memory (tests, one-off exports)."""

    def __init__(self, path: Path | None = None) -> None:
        import pyoxigraph

        self._ox = pyoxigraph
        self.store = pyoxigraph.Store(str(path)) if path is not None else pyoxigraph.Store()
        onto = pyoxigraph.NamedNode(ONTOLOGY_GRAPH)
        if not any(True for _ in self.store.quads_for_pattern(None, None, None, onto)):
            self.store.load(ontology_path().read_bytes(), pyoxigraph.RdfFormat.TURTLE, to_graph=onto)

    def add_report(self, report: PiiReport) -> str:
        """Store one upload's graph (built with inference) under its dataset IRI; returns that IRI."""
        from ppcti.kg.graph import build_graph

        data = build_graph(report).serialize(format="nt", encoding="utf-8")
        return self.add_ntriples(data)

    def add_ntriples(self, data: bytes) -> str:
        """Store an upload graph given as N-Triples (or a kg.ttl read from disk, see :meth:`add_turtle`)."""
        return self._add(data, self._ox.RdfFormat.N_TRIPLES)

    def add_turtle(self, path: Path) -> str:
        """Store an exported ``kg.ttl``."""
        try:
            return self._add(Path(path).read_bytes(), self._ox.RdfFormat.TURTLE)
        except SyntaxError as exc:
            raise FormatError(f"not valid Turtle: {exc.msg}", file=str(path)) from exc

    def _add(self, data: bytes, fmt: object) -> str:
        ox = self._ox
        scratch = ox.Store()
        scratch.load(data, fmt)
        datasets = {
            q.subject.value
            for q in scratch.quads_for_pattern(None, ox.NamedNode(_RDF_TYPE), ox.NamedNode(_DCAT_DATASET))
        }
        if len(datasets) != 1:
            raise FormatError(f"an upload graph describes exactly one dataset, found {len(datasets)}")
        name = datasets.pop()
        graph = ox.NamedNode(name)
        if self.store.contains_named_graph(graph):
            self.store.remove_graph(graph)
        self.store.load(data, fmt, to_graph=graph)
        return name

    def query(self, sparql: str) -> list[dict[str, str]]:
        """SELECT over all uploads and the ontology (default graph = union of named graphs)."""
        solutions = self.store.query(sparql, prefixes={"ppii": PPII}, use_default_graph_as_union=True)
        names = [v.value for v in solutions.variables]
        return [{n: row[n].value for n in names if row[n] is not None} for row in solutions]

    def uploads_with(self, type_id: str) -> list[str]:
        """Dataset titles (upload names) holding a category, e.g. every upload with SMOKING_STATUS."""
        rows = self.query(f"""
            SELECT DISTINCT ?title WHERE {{
              ?ds a <{_DCAT_DATASET}> ; <http://purl.org/dc/terms/title> ?title ;
                  <https://w3id.org/dpv#hasPersonalData> ?cat .
              ?cat ppii:typeId "{_sparql_string(type_id)}" .
            }} ORDER BY ?title""")
        return [r["title"] for r in rows]

    def close(self) -> None:
        """Release the on-disk store (RocksDB holds a lock until the store object is gone)."""
        import gc

        self.store.flush()
        del self.store
        gc.collect()

    def __len__(self) -> int:
        return len(self.store)

    def export(self, path: Path) -> int:
        """Dump every upload (and the ontology) as N-Quads; returns the number of quads."""
        self.store.dump(str(path), self._ox.RdfFormat.N_QUADS)
        return len(self.store)


def _sparql_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
