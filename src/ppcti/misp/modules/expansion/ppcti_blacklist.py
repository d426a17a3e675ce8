"""MISP expansion module: is this address on a private blacklist? Asked under encryption, answered yes/no.

A MISP analyst of the data holder runs it on an ``ip-src``, ``ip-dst``, ``ip-src|port``, ``ip-dst|port``,
``domain|ip``, ``email-src``, ``email-dst`` or ``email`` attribute. The module hands the value to
``ppcti fhe lookup`` (on standard input, so it never shows in a process list), which encrypts it under
the holder's public key, sends only the ciphertext to a ``ppcti fhe serve`` correlation service, and
decrypts the answer with the holder's secret key. The service never sees the value; MISP receives one
word, found or not found.

It runs inside the misp-modules server (``misp-modules -c DIR``), whose environment pins its own
dependencies, so it imports the standard library only and reaches ppcti through its command line.
Configuration (MISP → Server settings → Plugins → Enrichment): ``service_url``, ``keys_dir`` (the folder
with public.key and secret.key), optionally ``blacklist`` (a name on the service), ``ppcti`` (the command,
default ``ppcti``) and ``cafile``. Where the blacklist is sharded over ``ppcti worker fhe`` processes on
Kafka, ``kafka_bootstrap`` and ``shards`` take the place of ``service_url``. A bearer token for the
service comes from the server's environment (``PPCTI_FHE_TOKEN``), never from MISP's settings.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from typing import Any

misperrors = {"error": "Error"}
mispattributes = {
    "input": [
        "ip-src",
        "ip-dst",
        "ip-src|port",
        "ip-dst|port",
        "domain|ip",
        "email-src",
        "email-dst",
        "email",
    ],
    "output": ["text"],
}
moduleinfo = {
    "version": "1.0",
    "author": "ppcti",
    "description": "Private blacklist lookup under homomorphic encryption (ppcti): found / not found only.",
    "module-type": ["expansion", "hover"],
    "name": "ppcti private blacklist",
    "logo": "",
    "requirements": ["ppcti[fhe] installed where misp-modules runs", "a ppcti fhe serve service"],
    "features": (
        "Encrypts the attribute's address under the data holder's key, has a correlation service compare "
        "the ciphertext with an encrypted blacklist, and decrypts the yes/no answer locally."
    ),
    "references": [],
    "input": "An IP address or e-mail address attribute (composite types: the address part).",
    "output": "One text value: found or not found on the private blacklist.",
}
moduleconfig = ["service_url", "keys_dir", "blacklist", "ppcti", "cafile", "kafka_bootstrap", "shards"]

#: Which part of a composite value is the address.
_PART = {"ip-src|port": 0, "ip-dst|port": 0, "domain|ip": 1}
#: Seconds one lookup may take (encryption, correlation against a large list, decryption).
TIMEOUT = 600


def _attribute(request: dict[str, Any]) -> tuple[str, str] | None:
    """``(type, value)`` from the standard format (``attribute``) or the legacy one (``{type: value}``)."""
    attr = request.get("attribute")
    if isinstance(attr, dict):
        kind, value = attr.get("type"), attr.get("value")
        if isinstance(kind, str) and isinstance(value, str):
            return kind, value
        return None
    for kind in mispattributes["input"]:
        value = request.get(kind)
        if isinstance(value, str):
            return kind, value
    return None


def _address(kind: str, value: str) -> str | None:
    if kind in _PART:
        parts = value.split("|")
        return parts[_PART[kind]].strip() if len(parts) == 2 else None
    return value.strip() or None


def handler(q: str | bool = False) -> dict[str, Any] | bool:
    if q is False:
        return False
    try:
        request = json.loads(q)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return {"error": "request is not JSON"}
    found = _attribute(request)
    if found is None:
        return {"error": "no supported attribute in the request"}
    kind, value = found
    if kind not in mispattributes["input"]:
        return {"error": f"attribute type {kind} is not supported"}
    address = _address(kind, value)
    if address is None:
        return {"error": f"{kind} value is not in the expected form"}
    config = request.get("config") or {}
    url, kafka, keys = config.get("service_url"), config.get("kafka_bootstrap"), config.get("keys_dir")
    if not (url or kafka) or not keys:
        return {"error": "configure service_url (or kafka_bootstrap) and keys_dir for this module"}
    command = [*shlex.split(config.get("ppcti") or "ppcti"), "fhe", "lookup", "--keys", keys]
    if kafka:
        shards = str(config.get("shards") or "1")
        if not shards.isdigit() or int(shards) < 1:
            return {"error": "shards must be a whole number of at least 1"}
        command += ["--kafka", kafka, "--shards", shards]
    else:
        command += ["--server", url]
    if config.get("blacklist"):
        command += ["--blacklist", config["blacklist"]]
    if config.get("cafile"):
        command += ["--cafile", config["cafile"]]
    try:
        done = subprocess.run(
            command, input=address + "\n", capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except FileNotFoundError:
        return {"error": "the ppcti command was not found (set the module's ppcti setting)"}
    except subprocess.TimeoutExpired:
        return {"error": f"lookup took longer than {TIMEOUT} s"}
    if done.returncode != 0:
        # ppcti's own messages name files and reasons, never the queried value
        reason = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        return {"error": f"ppcti lookup failed: {reason[0].removeprefix('error: ')}"}
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    if not answers:
        return {"error": f"{kind} value is not an IP or e-mail address"}
    where = config.get("blacklist") or "the private blacklist"
    verdict = "found" if answers[0].get("found") is True else "not found"
    return {
        "results": [
            {
                "types": ["text"],
                "categories": ["External analysis"],
                "values": [f"{verdict} on {where}"],
                "comment": "ppcti private blacklist lookup (homomorphic encryption)",
            }
        ]
    }


def introspection() -> dict[str, Any]:
    return mispattributes


def version() -> dict[str, Any]:
    moduleinfo["config"] = moduleconfig
    return moduleinfo
