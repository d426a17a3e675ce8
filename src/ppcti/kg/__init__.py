"""ppcti.kg: the PII knowledge graph.

- :mod:`ppcti.pii.vocabulary`: PII categories, DPV-PD mappings and multilingual header synonyms, read
  from the packaged ontology (``data/ontology.ttl``); detection uses it to match headers.
- :mod:`ppcti.kg.graph`: per-upload graph (CSVW + DPV + PROV-O), inference of re-identification and
  special-category flags and of the upload's use case, Turtle export (``kg.ttl``).

rdflib is imported lazily, so importing this package is cheap.
"""

from __future__ import annotations

from ppcti.pii.vocabulary import (
    DPV_PD,
    FIXED_TYPE_IDS,
    PPII,
    Category,
    Vocabulary,
    load_vocabulary,
    normalise_header,
)

__all__ = [
    "DPV_PD",
    "FIXED_TYPE_IDS",
    "PPII",
    "Category",
    "Vocabulary",
    "annotate",
    "build_graph",
    "export_turtle",
    "infer_flags",
    "load_vocabulary",
    "normalise_header",
]


def __getattr__(name: str):
    # graph functions live in a module that imports rdflib at call time; exposing them lazily keeps
    # ``import ppcti.kg`` light for the detector, which only needs the vocabulary.
    if name in {"annotate", "build_graph", "export_turtle", "infer_flags"}:
        from ppcti.kg import graph

        return getattr(graph, name)
    raise AttributeError(name)
