"""Assessment capability: the privacy assessment of a run (``ppcti assess``) — posture, re-identification
risk of the upload's tables, ENISA breach severity, breach cost, and the recommended privacy-enhancing
technique with its reasons. Made on request with the holder's profile (with the default profile when
first read), kept as ``assessment.json``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import orjson
import yaml
from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from ppcti.api.capabilities import Capability, PageAction
from ppcti.api.results import JSON_OBJECT, JSONBytes, file_json
from ppcti.api.routers.common import RunDir, UploadId, uploaded_dir
from ppcti.assess import assess
from ppcti.assess.profile import Profile, load_profile, parse_profile, template_text
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
    upload_id: UploadId,
    run_dir: RunDir,
    body: Annotated[AssessmentRequest | None, Body()] = None,
) -> JSONBytes:
    profile = load_profile(None) if body is None or body.profile is None else _parse(body.profile)
    return JSONBytes(_assess(run_dir, profile))


def _parse(text: str) -> Profile:
    """A profile from its YAML text; a ``ConfigError`` naming the field when it is not valid."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigError("profile: not valid YAML") from None
    return parse_profile(data, "uploaded profile")


def _assess(run_dir: Path, profile: Profile) -> bytes:
    uploaded = uploaded_dir(run_dir)
    data = orjson.dumps(assess(run_dir, profile, inputs=[uploaded] if uploaded.is_dir() else []))
    write_atomic(run_dir / ASSESSMENT, data)
    return data


@router.get(
    "/assessment",
    summary="The run's latest assessment (made with the default profile when none was made yet)",
    response_class=JSONBytes,
    responses=JSON_OBJECT,
)
def get_assessment(upload_id: UploadId, run_dir: RunDir) -> JSONBytes:
    if (run_dir / ASSESSMENT).is_file():
        return file_json(run_dir, ASSESSMENT)
    return JSONBytes(_assess(run_dir, load_profile(None)))


#: Largest profile the page's form accepts (the same as the API's).
MAX_PROFILE = 100_000


def _context(run_dir: Path, _params: Mapping[str, str]) -> dict[str, Any]:
    path = run_dir / ASSESSMENT
    raw = path.read_bytes() if path.is_file() else _assess(run_dir, load_profile(None))
    doc = orjson.loads(raw)
    top = (doc.get("recommendation") or {}).get("top")
    rosi = {r.get("pet"): r for r in (doc.get("cost") or {}).get("rosi") or []}
    return {"assessment": doc, "top_rosi": rosi.get(top), "profile_text": template_text()}


def _action(action: PageAction) -> dict[str, Any]:
    text = action.form.get("profile")
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("profile: paste the profile's YAML (ppcti assess init writes a commented one)")
    if len(text) > MAX_PROFILE:
        raise ConfigError(f"profile: longer than {MAX_PROFILE} characters")
    doc = orjson.loads(_assess(action.run_dir, _parse(text)))
    return {"assessment": doc, "profile_text": text, "saved": True}


CAPABILITY = Capability(
    name="assessment",
    title="Assessment",
    requires=("pii.json", "summary.json"),
    router=router,
    template="assessment.html",
    context=_context,
    action=_action,
)
