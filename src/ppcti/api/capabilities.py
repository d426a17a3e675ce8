"""The capabilities the API and the pages offer for an upload, in one explicit registry.

A capability names the result files it needs, an API router mounted under
``/api/v1/uploads/{upload_id}`` and, optionally, a page (a template under ``ppcti/web/templates``, a
function that builds its context from the run folder and the page's query parameters, and optionally an
action that answers the page's form). Which capabilities exist is the list
``CAPABILITY_MODULES`` (each module exposes ``CAPABILITY``); which apply to an upload follows from the
files its run wrote. A capability that is not installed or not produced is simply absent: no route, no
link, no empty page.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

#: Modules that define a capability, in the order of the pages' navigation.
CAPABILITY_MODULES: tuple[str, ...] = (
    "ppcti.api.routers.pii",
    "ppcti.api.routers.cti",
    "ppcti.api.routers.analysis",
    "ppcti.api.routers.attacks",
    "ppcti.api.routers.assessment",
    "ppcti.api.routers.enrichment",
    "ppcti.api.routers.export",
    "ppcti.api.routers.fhe",
    "ppcti.api.routers.report",
)

#: Builds a page's template context from the run folder and the page's query parameters.
PageContext = Callable[[Path, Mapping[str, str]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class PageAction:
    """One submission of a capability page's form, already authenticated, CSRF-checked and scoped to an
    upload the caller may see (the page route does that before the action runs)."""

    request: Request
    upload_id: str
    run_dir: Path
    form: FormData


@dataclass(frozen=True, slots=True)
class Capability:
    name: str
    title: str
    #: Run-folder files that must exist for the capability to apply to an upload.
    requires: tuple[str, ...]
    router: APIRouter
    #: Template of the capability's page, and how to build its context from the run folder.
    template: str | None = None
    context: PageContext | None = None
    #: Answers a POST of the page's form (run in a worker thread). What it returns is added to the page's
    #: context, or is the answer when it is a response (a download). A ``PpctiError`` or an
    #: ``HTTPException`` it raises is shown on the page with its status.
    action: Callable[[PageAction], dict[str, Any] | Response] | None = None

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
