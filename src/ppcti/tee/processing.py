"""What runs inside the enclave for one session: unseal, the ``ppcti run`` pipeline, CTIEncrypt-K, seal.

This is a composition of existing library entry points, not a copy of them: the same
:func:`ppcti.pipeline.run_pipeline` that ``ppcti run`` calls (cleaning, the format extractors, PII,
STIX, pattern analysis, report), then :func:`ppcti.fhe.encrypt_cti` on the run folder, so the CTI's
addresses leave encrypted under the holder's FHE public key. Plaintext exists only in the session's
``work`` folder, which the Gramine manifest puts on an encrypted mount (in the simulation it is a plain
folder, shredded with the session: docs/tee.md, "What the simulation does not do").
"""

from __future__ import annotations

import tarfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from ppcti import fhe
from ppcti.clean.minimise import BUILTIN_PROFILES, load_profile
from ppcti.clean.timestamps import TimeContext
from ppcti.errors import ConfigError
from ppcti.pipeline import OPTIONAL_STAGES, RunOptions, run_pipeline
from ppcti.tee.digest import HashingReader
from ppcti.tee.sealing import SealedWriter, unseal_to
from ppcti.tee.sessions import Session, shred_tree

UPLOAD_FILE = "upload.sealed"
RESULT_FILE = "result.sealed"
PUBLIC_KEY_FILE = "public.key"
#: Options a holder may set for the run inside (the rest of ``ppcti run``'s are the operator's, or files).
RUN_OPTIONS = ("timezone", "year", "date", "date_order", "profile", "skip", "tlp", "nlp")

Progress = Callable[[str, int, int], None]


def safe_upload_name(name: str) -> str:
    """The upload's own name, reduced to a plain file name (its extension decides how it is read)."""
    base = Path(name.replace("\\", "/")).name
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in base).lstrip(".")
    return cleaned[:120] or "upload.bin"


def run_options(holder: str, out: Path, options: dict[str, Any]) -> RunOptions:
    """The holder's choices as :class:`RunOptions`; no server paths, no Kafka."""
    unknown = set(options) - set(RUN_OPTIONS)
    if unknown:
        raise ConfigError(f"options not accepted by the service: {sorted(unknown)}")
    profile = options.get("profile")
    if profile is not None and profile not in BUILTIN_PROFILES:
        raise ConfigError(
            f"profile must be one of {sorted(BUILTIN_PROFILES)} (files stay on the holder's side)"
        )
    day = options.get("date")
    try:
        given = date.fromisoformat(day) if day else None
    except (TypeError, ValueError):
        raise ConfigError("date must be YYYY-MM-DD") from None
    skip = options.get("skip") or []
    if not isinstance(skip, list) or not set(skip) <= set(OPTIONAL_STAGES):
        raise ConfigError(f"skip takes stages from {list(OPTIONAL_STAGES)}")
    return RunOptions(
        holder=holder,
        out=out,
        time=TimeContext(
            timezone=str(options.get("timezone") or "UTC"),
            year=options.get("year"),
            date=given,
            date_order=str(options.get("date_order") or "DMY").upper(),
        ),
        profile=load_profile(profile),
        skip=frozenset(skip),
        tlp=str(options.get("tlp") or "amber"),
        nlp=str(options.get("nlp") or "auto"),
    )


def process_session(session: Session, progress: Progress) -> None:
    """Run the whole job for a sealed upload; leaves only ``result.sealed`` in the session folder."""
    work = session.folder / "work"
    inbox, out = work / "input", work / "out"
    inbox.mkdir(parents=True, mode=0o700)
    try:
        source = inbox / safe_upload_name(session.upload_name)
        unseal_to(session.folder / UPLOAD_FILE, session.key, "upload", source)
        options = run_options(session.holder, out, session.options)
        run_pipeline([source], options, progress=progress)
        shred_tree(inbox)
        fhe.encrypt_cti(  # the [fhe] extra: the service checks for it at start
            out, session.folder / PUBLIC_KEY_FILE, out, progress=lambda d, t: progress("CTIEncrypt-K", d, t)
        )
        progress("seal results", 0, 1)
        names = [p.relative_to(out).as_posix() for p in sorted(out.rglob("*")) if p.is_file()]
        with (
            SealedWriter(session.folder / RESULT_FILE, session.key, "result") as sealed,
            tarfile.open(fileobj=sealed, mode="w|", format=tarfile.PAX_FORMAT) as tar,  # type: ignore[call-overload]
        ):
            for name in names:  # each file is read once, for the archive and its hash together
                info = tar.gettarinfo(out / name, arcname=name)
                with open(out / name, "rb") as handle:
                    reader = HashingReader(handle)
                    tar.addfile(info, reader)  # type: ignore[arg-type]
                session.results[name] = reader.digest.hexdigest()
        session.result_size = sealed.plaintext_bytes
        session.processed_at = time.time()
        progress("seal results", 1, 1)
    finally:
        shred_tree(work)
