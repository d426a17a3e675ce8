"""The trusted-execution capability of the API: a holder checks the signed receipt of a run that went
through a TEE service (``ppcti tee submit``), without trusting the machine it checks it on to have done
the run.

Submission itself stays with the holder's own client: it must verify the enclave's evidence on the TLS
connection before one byte of the upload leaves, and the upload must never pass through a server that
is not the enclave (this one included). A browser can do neither, so the API offers no "submit" that
would route an upload through the platform. What it offers is the offline check of what came back:
the enclave's signature over the receipt, the binding of its signing key to the evidence, every result
file's hash, and, given the holder's policy, the evidence judged against it.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ppcti.api.deps import HolderUser
from ppcti.errors import MissingExtra, TeeError

router = APIRouter(prefix="/tee", tags=["tee"])

#: A results folder of ``ppcti tee submit``, zipped: its members and bytes are capped while unpacking.
MAX_MEMBERS = 10_000
MAX_UNPACKED_BYTES = 2 * 1024**3
MAX_POLICY_BYTES = 256 * 1024


class ReceiptCheck(BaseModel):
    """What the receipt says and what was checked of it."""

    valid: bool
    simulation: bool
    verdict: str
    session_id: str
    upload_sha256: str
    results_checked: int
    session_key_destroyed_at: str
    policy_checked: bool
    measurement: dict[str, str] | None = None
    platform: str | None = None


def _unpack(archive: Path, into: Path) -> Path:
    """The results folder inside the ZIP (its root, or its one top folder); hostile members refused."""
    into.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_MEMBERS:
                raise TeeError(f"the archive has more than {MAX_MEMBERS} members")
            if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
                raise TeeError("the archive unpacks to more than 2 GiB")
            for member in members:
                name = PurePosixPath(member.filename)
                if name.is_absolute() or ".." in name.parts or member.filename.startswith("\\"):
                    raise TeeError("the archive holds a member outside its folder")
                if member.is_dir():
                    continue
                if (member.external_attr >> 16) & 0o170000 == 0o120000:
                    raise TeeError("the archive holds a link")
                target = into.joinpath(*name.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, target.open("wb") as out:
                    shutil.copyfileobj(src, out, 1024 * 1024)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise TeeError(f"not a readable ZIP of a results folder ({type(exc).__name__})") from None
    if (into / "receipt.json").is_file():
        return into
    tops = [p for p in into.iterdir() if p.is_dir()]
    if len(tops) == 1 and (tops[0] / "receipt.json").is_file():
        return tops[0]
    raise TeeError("the archive holds no receipt.json (zip the folder ppcti tee submit wrote)")


def check_receipt(archive: Path, policy_text: bytes | None) -> ReceiptCheck:
    """Unpack and check; every broken check is a :class:`TeeError` naming it."""
    try:
        from ppcti.tee.policy import load_policy
        from ppcti.tee.receipt import verify_receipt_dir
        from ppcti.tee.verify import SIMULATION_VERDICT
    except ModuleNotFoundError:
        raise MissingExtra("tee", "checking a TEE receipt") from None

    with tempfile.TemporaryDirectory(prefix="ppcti-receipt-") as tmp:
        policy = None
        if policy_text:
            (Path(tmp) / "policy.yaml").write_bytes(policy_text)
            policy = load_policy(Path(tmp) / "policy.yaml")
            if policy.sgx_collateral or policy.snp_vcek or policy.snp_chain:
                # files named by a policy would be read from this server's disk: check those locally
                raise TeeError("a policy naming collateral files is checked with ppcti tee verify-receipt")
        folder = _unpack(archive, Path(tmp) / "results")
        body, attestation = verify_receipt_dir(folder, policy=policy)
    return ReceiptCheck(
        valid=True,
        simulation=body.get("verdict") == SIMULATION_VERDICT,
        verdict=str(body.get("verdict")),
        session_id=str(body.get("session_id")),
        upload_sha256=str((body.get("upload") or {}).get("sha256")),
        results_checked=len(body.get("results") or {}),
        session_key_destroyed_at=str(body.get("session_key_destroyed_at")),
        policy_checked=policy is not None,
        measurement={k: str(v) for k, v in attestation.measurement.items()} if attestation else None,
        platform=getattr(attestation, "platform", None) if attestation else None,
    )


@router.post(
    "/receipts",
    summary="Check the signed receipt of a TEE run (a ZIP of the folder `ppcti tee submit` wrote)",
    responses={400: {"description": "A check failed; the message names it"}},
)
async def post_receipt(
    principal: HolderUser,
    results: Annotated[UploadFile, File(description="ZIP of the results folder")],
    policy: Annotated[UploadFile | None, File(description="The holder's policy (YAML), optional")] = None,
) -> ReceiptCheck:
    del principal  # any holder user may check a receipt; nothing is stored
    policy_text = await policy.read(MAX_POLICY_BYTES + 1) if policy is not None else None
    if policy_text is not None and len(policy_text) > MAX_POLICY_BYTES:
        raise TeeError("the policy is larger than 256 KiB")
    results.file.seek(0)
    with tempfile.NamedTemporaryFile(prefix="ppcti-results-", suffix=".zip") as spooled:
        await run_in_threadpool(shutil.copyfileobj, results.file, spooled, 1024 * 1024)
        spooled.flush()
        return await run_in_threadpool(check_receipt, Path(spooled.name), policy_text or None)
