"""The run folder of an upload the caller may see: the dependency of every capability router."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi import Path as PathParam

from ppcti.api.deps import DbSession, HolderUser, owned_upload
from ppcti.api.jobs import run_path, upload_path

UploadId = Annotated[str, PathParam(min_length=1, max_length=64, description="The upload's id.")]


def upload_run_dir(request: Request, upload_id: UploadId, principal: HolderUser, s: DbSession) -> Path:
    upload = owned_upload(s, principal, upload_id)
    # end the transaction: the connection goes back to the pool before the route reads result files
    s.commit()
    return run_path(request.app.state.ppcti.settings.data_dir, upload.id)


RunDir = Annotated[Path, Depends(upload_run_dir)]


def uploaded_dir(run_dir: Path) -> Path:
    """The folder holding the upload's own bytes, for a run folder from :func:`upload_run_dir`: both live
    in the server's data folder under the upload's id (``runs/<id>``, ``uploads/<id>``)."""
    return upload_path(run_dir.parent.parent, run_dir.name, "x").parent
