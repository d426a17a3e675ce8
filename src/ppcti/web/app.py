"""The web application: the API (:mod:`ppcti.api`) with the pages (:mod:`ppcti.web.pages`) on top.

Composed here, above both packages, so the API never imports the pages that use it.
"""

from __future__ import annotations

from fastapi import FastAPI

from ppcti.api.app import create_api
from ppcti.api.settings import ServerSettings
from ppcti.web.pages import mount_pages


def create_app(settings: ServerSettings, *, start_workers: bool = True) -> FastAPI:
    """Everything ``ppcti serve`` serves, built from a settings object (no environment is read)."""
    app = create_api(settings, start_workers=start_workers)
    mount_pages(app)
    return app
