"""The assessment's published data, loaded once: sources, breach costs, PET candidates and criteria.

Figures live in YAML files under ``data/`` so that a new study or a corrected cell is a data edit with
its source beside it, never a code change.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load(resources.files("ppcti.assess").joinpath(f"data/{name}").read_text("utf-8"))


def sources() -> dict[str, dict[str, Any]]:
    """Published sources by key (``data/sources.yaml``)."""
    return _load("sources.yaml")


def costs() -> dict[str, Any]:
    """Average breach costs and GDPR fine rules (``data/costs.yaml``)."""
    return _load("costs.yaml")


def candidates() -> dict[str, dict[str, Any]]:
    """The PETs and their sourced criteria cells (``data/pets.yaml``)."""
    return _load("pets.yaml")["pets"]


def criteria() -> dict[str, dict[str, str]]:
    """Criteria of the PET matrix: ``kind`` (benefit or cost) and ``label``."""
    return _load("pets.yaml")["criteria"]


def cite(key: str) -> str:
    """``publisher, year`` of a source, for sentences."""
    src = sources()[key]
    return f"{src['publisher']}, {src['year']}"
