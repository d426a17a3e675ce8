"""The processing steps the stock workers run: events to CTI bundles, upload announcements to PII.

Each is a function ``Envelope -> list[Output]`` for :class:`ppcti.bus.worker.Worker`. The stage code
(``ppcti.stix``, ``ppcti.pii``) is imported when the step is built, not when this module is imported, so
the bus does not depend on those stages being installed to be tested.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ppcti.bus.envelope import STIX_JSON, Envelope, Output
from ppcti.bus.run import pii_outputs
from ppcti.bus.worker import Process, check_envelope_kind
from ppcti.errors import FormatError, InputRefused

BundleFn = Callable[[dict[str, Any]], bytes | None]


def cti_step(bundle: BundleFn) -> Process:
    """Events in a batch to one ``cti-bundle`` output per event that yields CTI, in event order."""

    def process(envelope: Envelope) -> list[Output]:
        check_envelope_kind(envelope, "event-batch")
        payload = envelope.payload
        events = payload.get("events") if isinstance(payload, dict) else None
        if not isinstance(events, list):
            raise FormatError("an event batch must be an object with an 'events' list")
        out = []
        for event in events:
            if not isinstance(event, dict):
                raise FormatError("an event in a batch is not a JSON object")
            data = bundle(event)
            if data is not None:
                out.append(Output("cti-bundle", data, STIX_JSON))
        return out

    return process


def stix_bundle_fn() -> BundleFn:
    """``ppcti.stix.bundle_json`` with default options (needs the STIX stage)."""
    try:
        from ppcti.stix import bundle_json  # type: ignore[attr-defined]
    except ImportError:
        raise InputRefused("the CTI worker needs ppcti.stix.bundle_json, which this install lacks") from None

    def bundle(event: dict[str, Any]) -> bytes | None:
        return bundle_json(event)

    return bundle


ScanFn = Callable[[Path, str | None], dict[str, Any]]


def resolve_shared(shared_dir: Path, announced: str) -> Path:
    """The announced path inside the shared folder; anything outside it is refused (no ``..`` escapes)."""
    root = shared_dir.resolve()
    candidate = (root / announced).resolve()
    if candidate != root and root not in candidate.parents:
        raise FormatError("announced path is outside the shared folder")
    if not candidate.exists():
        raise FormatError("announced path does not exist in the shared folder")
    return candidate


def pii_step(scan: ScanFn, shared_dir: Path) -> Process:
    """An upload announcement ``{"path", "holder", "upload_id"}`` to the PII report and its findings."""

    def process(envelope: Envelope) -> list[Output]:
        check_envelope_kind(envelope, "upload")
        payload = envelope.payload
        if not isinstance(payload, dict) or not isinstance(payload.get("path"), str):
            raise FormatError("an upload announcement must be an object with a 'path' string")
        path = resolve_shared(shared_dir, payload["path"])
        holder = payload.get("holder") or envelope.holder or None
        report = scan(path, holder)
        report.setdefault("upload_id", payload.get("upload_id"))
        return pii_outputs(report)

    return process


def pii_scan_fn() -> ScanFn:
    """``ppcti.pii.scan_paths`` with default options (needs the PII stage)."""
    try:
        from ppcti.pii import scan_paths  # type: ignore[attr-defined]
    except ImportError:
        raise InputRefused("the PII worker needs ppcti.pii.scan_paths, which this install lacks") from None

    def scan(path: Path, holder: str | None) -> dict[str, Any]:
        from ppcti.kg import annotate

        return annotate(scan_paths([path], holder=holder)).to_dict()

    return scan
