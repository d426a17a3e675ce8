"""The client's attestation policy: which enclaves it will send data to.

Written once by ``ppcti tee policy init`` (a commented YAML file), read by ``ppcti tee submit`` and
``ppcti tee verify-receipt``. Every setting is declared once in :data:`SETTINGS` with its default and
help, which the template prints as comments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ppcti.errors import ConfigError

#: Keys a measurement entry may pin (hex); an entry matches when every key it gives matches.
MEASUREMENT_KEYS = ("mr_enclave", "mr_signer", "launch_measurement", "mr_td")
#: TCB statuses Intel's verification can report (dcap-qvl spelling).
TCB_STATUSES = (
    "UpToDate",
    "SWHardeningNeeded",
    "ConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded",
    "OutOfDate",
    "OutOfDateConfigurationNeeded",
    "Revoked",
)

SETTINGS: dict[str, tuple[Any, str]] = {
    "measurements": (
        [],
        "Allowed enclave identities; one matching entry is enough. Keys: mr_enclave (exact build), "
        "mr_signer (+ min_svn: any build by that signer), launch_measurement (SEV-SNP), mr_td (TDX).",
    ),
    "min_svn": (0, "Minimum security version (ISVSVN for SGX, guest SVN for SEV-SNP)."),
    "allow_debug": (
        False,
        "Accept debug enclaves (their memory is readable by the host). Never in production.",
    ),
    "allow_simulation": (
        False,
        "Accept the simulation backend (no TEE, no signature). Every output then says "
        "'simulation — not attested'. Never in production.",
    ),
    "tcb_statuses": (["UpToDate"], "Accepted TCB statuses from quote verification."),
    "max_evidence_age": (86400, "Seconds: older evidence is refused (the service re-attests hourly)."),
    "nonce": (False, "Also ask for fresh evidence over our own nonce on the connection before uploading."),
    "sgx_collateral": (
        None,
        "Path (relative to this file) of Intel PCS collateral JSON (dcap-qvl QuoteCollateralV3 form) "
        "for SGX/TDX quotes; without it no hardware quote can be verified.",
    ),
    "snp_vcek": (None, "Path of the VCEK certificate (PEM) for SEV-SNP reports."),
    "snp_chain": (None, "Path of AMD's ASK+ARK chain (PEM) for the VCEK."),
}


@dataclass(frozen=True, slots=True)
class Policy:
    measurements: tuple[dict[str, str], ...] = ()
    min_svn: int = 0
    allow_debug: bool = False
    allow_simulation: bool = False
    tcb_statuses: tuple[str, ...] = ("UpToDate",)
    max_evidence_age: int = 86400
    nonce: bool = False
    sgx_collateral: Path | None = None
    snp_vcek: Path | None = None
    snp_chain: Path | None = None
    source: str = field(default="<built-in>", compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "measurements": list(self.measurements),
            "min_svn": self.min_svn,
            "allow_debug": self.allow_debug,
            "allow_simulation": self.allow_simulation,
            "tcb_statuses": list(self.tcb_statuses),
            "max_evidence_age": self.max_evidence_age,
            "nonce": self.nonce,
        }


def _measurement(entry: Any, where: str) -> dict[str, str]:
    if not isinstance(entry, dict) or not entry:
        raise ConfigError("each measurement is a mapping such as {mr_enclave: HEX}", file=where)
    out = {}
    for key, value in entry.items():
        if key not in MEASUREMENT_KEYS:
            raise ConfigError(
                f"unknown measurement key {key!r}; use {', '.join(MEASUREMENT_KEYS)}", file=where
            )
        text = str(value).strip().lower()
        try:
            bytes.fromhex(text)
        except ValueError:
            raise ConfigError(f"measurement {key} is not hexadecimal", file=where) from None
        out[key] = text
    return out


def load_policy(path: Path) -> Policy:
    """Read a policy file; unknown keys and wrong types are errors, not silently ignored."""
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the policy: {exc}", file=where) from None
    if not isinstance(data, dict):
        raise ConfigError("the policy must be a mapping of settings", file=where)
    unknown = set(data) - set(SETTINGS)
    if unknown:
        raise ConfigError(f"unknown policy settings {sorted(unknown)}", file=where)

    def flag(name: str) -> bool:
        value = data.get(name, SETTINGS[name][0])
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false", file=where)
        return value

    def number(name: str) -> int:
        value = data.get(name, SETTINGS[name][0])
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{name} must be a whole number of 0 or more", file=where)
        return value

    def relative(name: str) -> Path | None:
        value = data.get(name)
        return None if value is None else (path.parent / str(value))

    statuses = data.get("tcb_statuses", SETTINGS["tcb_statuses"][0])
    if not isinstance(statuses, list) or any(s not in TCB_STATUSES for s in statuses):
        raise ConfigError(f"tcb_statuses must be a list drawn from {', '.join(TCB_STATUSES)}", file=where)
    raw_measurements = data.get("measurements") or []
    if not isinstance(raw_measurements, list):
        raise ConfigError("measurements must be a list", file=where)
    return Policy(
        measurements=tuple(_measurement(m, where) for m in raw_measurements),
        min_svn=number("min_svn"),
        allow_debug=flag("allow_debug"),
        allow_simulation=flag("allow_simulation"),
        tcb_statuses=tuple(statuses),
        max_evidence_age=number("max_evidence_age"),
        nonce=flag("nonce"),
        sgx_collateral=relative("sgx_collateral"),
        snp_vcek=relative("snp_vcek"),
        snp_chain=relative("snp_chain"),
        source=where,
    )


def policy_template(*, simulation_measurement: dict[str, str] | None = None) -> str:
    """A commented policy file: production defaults, or one that accepts this machine's simulation."""
    lines = [
        "# ppcti tee attestation policy: which service enclaves `ppcti tee submit` will send data to.",
        "# The client checks the service's evidence against this file on the TLS connection itself,",
        "# before a single byte of the upload leaves. See docs/tee.md.",
        "",
    ]
    values: dict[str, Any] = {name: default for name, (default, _help) in SETTINGS.items()}
    if simulation_measurement:
        lines += [
            "# !!! SIMULATION POLICY: accepts a service with NO trusted execution environment.",
            "# !!! Its operator can read everything you upload. Development only.",
            "",
        ]
        values.update(measurements=[simulation_measurement], allow_debug=True, allow_simulation=True)
    for name, (_default, text) in SETTINGS.items():
        lines.append(f"# {text}")
        value = values[name]
        if name == "measurements" and not value:
            lines += [
                "# e.g.  - mr_enclave: <64 hex digits from `gramine-sgx-sigstruct-view`>",
                "#       - mr_signer: <64 hex digits>",
                "measurements: []",
            ]
        elif value is None:
            lines.append(f"# {name}: collateral/file")
        else:
            lines.append(yaml.safe_dump({name: value}, default_flow_style=False, sort_keys=False).rstrip())
        lines.append("")
    return "\n".join(lines)
