"""The capabilities the API and the pages offer for an upload, in one explicit registry.

A capability names the result files it needs, an API router mounted under
``/api/v1/uploads/{upload_id}`` and, optionally, a page (a template under ``ppcti/web/templates`` and a
function that builds its context from the run folder). Which capabilities exist is the list
``CAPABILITY_MODULES`` (each module exposes ``CAPABILITY``); which apply to an upload follows from the
files its run wrote. A capability that is not installed or not produced is simply absent: no route, no
link, no empty page.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter

#: Modules that define a capability, in the order of the pages' navigation.
CAPABILITY_MODULES: tuple[str, ...] = (
    "ppcti.api.routers.pii",
    "ppcti.api.routers.cti",
    "ppcti.api.routers.analysis",
    "ppcti.api.routers.attacks",
    "ppcti.api.routers.assessment",
    "ppcti.api.routers.report",
)


@dataclass(frozen=True, slots=True)
class Capability:
    name: str
    title: str
    #: Run-folder files that must exist for the capability to apply to an upload.
    requires: tuple[str, ...]
    router: APIRouter
    #: Template of the capability's page, and how to build its context from the run folder.
    template: str | None = None
    context: Callable[[Path], dict[str, Any]] | None = None

    def applies(self, files: Iterable[str]) -> bool:
        present = set(files)
        return all(name in present for name in self.requires)


def load_capabilities(modules: Iterable[str] = CAPABILITY_MODULES) -> list[Capability]:
    """The capabilities whose modules import; a module whose optional dependencies are missing is
    skipped (its capability is absent), any other error is raised."""
    found: list[Capability] = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                raise
            continue
        found.append(module.CAPABILITY)
    return found
