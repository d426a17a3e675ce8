"""IRIs of the upload graph: namespaces, stable ``urn:uuid`` v5 node names and the class of each type.

Shared by :mod:`ppcti.kg.graph` (which builds the graph) and :mod:`ppcti.kg.inference` (which adds its
conclusions), so neither imports the other for them.
"""

from __future__ import annotations

import uuid
from functools import lru_cache

from ppcti import __version__
from ppcti.pii.vocabulary import DPV_PD, PPII, _local_name, load_vocabulary

CSVW = "http://www.w3.org/ns/csvw#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
DPV = "https://w3id.org/dpv#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
#: The DPV release the ``dpv:`` and ``pd:`` IRIs follow (its namespaces are unversioned).
DPV_VERSION = "2.0"
#: The ontology kg.ttl imports (owl:imports) for the ``ppii:`` classes it uses.
ONTOLOGY_IRI = "https://w3id.org/ppcti/pii"

#: Root of the v5 UUIDs; changing it changes every IRI ppcti has ever exported.
IRI_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://w3id.org/ppcti/kg")
#: The software agent every activity is associated with.
AGENT_IRI = f"https://w3id.org/ppcti/agent/ppcti/{__version__}"

PREFIXES = {
    "ppii": PPII, "pd": DPV_PD, "dpv": DPV, "csvw": CSVW, "dcat": DCAT, "dct": DCT, "prov": PROV,
    "xsd": XSD, "owl": OWL,
}  # fmt: skip


def node_iri(*parts: str) -> str:
    """A stable node name: the same parts give the same IRI in every run."""
    return "urn:uuid:" + str(uuid.uuid5(IRI_NAMESPACE, "\x1f".join(parts)))


@lru_cache(maxsize=1)
def _known() -> dict[str, tuple[str, str | None]]:
    return {t: (c.iri, c.dpv_iri or (DPV_PD + c.parent if c.parent else None))
            for t, c in load_vocabulary().categories.items()}  # fmt: skip


def category_iri(type_id: str) -> str:
    """The ontology class of a type; custom types (from user rules) get a class in the same namespace."""
    known = _known().get(type_id)
    return known[0] if known else PPII + _local_name(type_id)


def dpv_pd_iri(type_id: str) -> str | None:
    """The DPV-PD concept a type is (exactMatch) or specialises (dpvParent); None for custom types."""
    known = _known().get(type_id)
    return known[1] if known else None


def uri(iri: str):  # -> rdflib.URIRef (rdflib imported lazily)
    from rdflib import URIRef

    return URIRef(iri)
