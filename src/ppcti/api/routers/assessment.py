"""Assessment capability: the privacy assessment of a run (``ppcti assess``) — posture, re-identification
risk of the upload's tables, ENISA breach severity, breach cost, and the recommended privacy-enhancing
technique with its reasons. Made on request with the holder's profile (with the default profile when
first read), kept as ``assessment.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import yaml
from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field

from ppcti.api.capabilities import Capability
from ppcti.api.jobs import upload_path
from ppcti.api.results import JSON_OBJECT, JSONBytes, file_json
from ppcti.api.routers.common import RunDir, UploadId
from ppcti.assess import assess
from ppcti.assess.profile import Profile, load_profile, parse_profile
from ppcti.errors import ConfigError
from ppcti.outdir import write_atomic

router = APIRouter(tags=["assessment"])

ASSESSMENT = "assessment.json"


class AssessmentRequest(BaseModel):
    profile: str | None = Field(
        default=None,
        max_length=100_000,
        description="The organisation's profile as YAML (the text `ppcti assess init` writes); "
        "its defaults without it.",
    )


@router.post(
    "/assessment",
    summary="Assess the run with the organisation's profile (replaces an earlier assessment)",
    response_class=JSONBytes,
    responses={**JSON_OBJECT, 400: {"description": "The profile is invalid (the field is named)"}},
)
def make_assessment(
    request: Request,
    upload_id: UploadId,
    run_dir: RunDir,
    body: Annotated[AssessmentRequest | None, Body()] = None,
) -> JSONBytes:
    if body is None or body.profile is None:
        profile = load_profile(None)
    else:
        try:
            data = yaml.safe_load(body.profile)
        except yaml.YAMLError:
            raise ConfigError("profile: not valid YAML") from None
        profile = parse_profile(data, "uploaded profile")
    return JSONBytes(_assess(request, upload_id, run_dir, profile))


def _assess(request: Request, upload_id: str, run_dir: Path, profile: Profile) -> bytes:
    uploaded = upload_path(request.app.state.ppcti.settings.data_dir, upload_id, "x").parent
    data = orjson.dumps(assess(run_dir, profile, inputs=[uploaded] if uploaded.is_dir() else []))
    write_atomic(run_dir / ASSESSMENT, data)
    return data


@router.get(
    "/assessment",
    summary="The run's latest assessment (made with the default profile when none was made yet)",
    response_class=JSONBytes,
    responses=JSON_OBJECT,
)
def get_assessment(request: Request, upload_id: UploadId, run_dir: RunDir) -> JSONBytes:
    if (run_dir / ASSESSMENT).is_file():
        return file_json(run_dir, ASSESSMENT)
    return JSONBytes(_assess(request, upload_id, run_dir, load_profile(None)))


CAPABILITY = Capability(
    name="assessment", title="Assessment", requires=("pii.json", "summary.json"), router=router
)
