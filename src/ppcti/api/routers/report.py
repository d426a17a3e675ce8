"""Report capability: the run's self-contained analyst report.

The report carries its own inline scripts (its charts), which the app's policy forbids; it is therefore
served with a policy of its own that sandboxes it into an opaque origin, so its scripts can draw charts
but never read the session cookie or call the API.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from ppcti.api.capabilities import Capability
from ppcti.api.results import result_file
from ppcti.api.routers.common import RunDir

router = APIRouter(tags=["report"])

REPORT_CSP = (
    "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data:; font-src data:"
)


@router.get("/report", summary="The analyst report (HTML, sandboxed)", response_class=FileResponse)
def get_report(run_dir: RunDir) -> FileResponse:
    response = FileResponse(result_file(run_dir, "report.html"), media_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = REPORT_CSP
    return response


CAPABILITY = Capability(name="report", title="Report", requires=("report.html",), router=router)
