"""Thresholds and limits of the pattern analysis, declared once with their defaults and help.

The CLI builds its ``--option`` flags from :data:`AnalysisOptions`'s field metadata, so a threshold added
here shows up in ``ppcti analyse --help`` and in the docs test without being declared twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any

from ppcti.errors import ConfigError

#: Verdicts, not actions: "delivered" or "allowed" say nothing about whether the mail was hostile.
DEFAULT_BENIGN_VERDICTS: tuple[str, ...] = (
    "benign",
    "clean",
    "legit",
    "legitimate",
    "none",
    "ok",
    "pass",
    "passed",
)


def _opt(default: Any, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    """Every threshold of :func:`ppcti.analysis.analyse`; construct with keywords only."""

    botnet_window: str = _opt(
        "10m",
        "Sliding window for botnet detection: distinct sources hitting one target and service within this "
        "span (units s, m, h, d).",
    )
    botnet_min_sources: int = _opt(5, "Distinct sources inside one window that make a botnet group.")
    botnet_match: str = _opt(
        "port",
        "What 'the same target' means for botnets: 'port' (protocol and destination port, or the "
        "protocol when there is no port) or 'protocol' (protocol only).",
    )
    sweep_window: str = _opt("10m", "Sliding window for sweep detection (one source, many targets).")
    sweep_min_targets: int = _opt(10, "Distinct targets one source must hit inside one window to be a sweep.")
    cross_min_holders: int = _opt(2, "Holders that must have seen an attacker for the cross-holder table.")
    cross_include_private: bool = _opt(
        False,
        "Also correlate non-public source addresses across holders (off: 10.0.0.1 at two holders is two "
        "different machines).",
    )
    include_outbound: bool = _opt(
        False,
        "Keep network entries from a non-public source to only public destinations (the holder's own "
        "hosts going out). Off: they are users, not attackers, and would flood botnets and sweeps.",
    )
    internal_email_domains: tuple[str, ...] = _opt(
        (),
        "E-mail domains of the holders (subdomains included). Empty: detected per holder, see "
        "internal_domain_min_share.",
    )
    internal_domain_min_share: float = _opt(
        0.25,
        "Auto-detection: a recipient domain is internal to a holder when it receives at least this share "
        "of the holder's e-mail entries.",
    )
    benign_verdicts: tuple[str, ...] = _opt(
        DEFAULT_BENIGN_VERDICTS,
        "E-mail verdicts (case-insensitive) that mean 'not an attack'; such entries are left out.",
    )
    max_targets: int = _opt(
        1000, "Targets listed in insights.json (most attacked first); all go to infrastructure.json."
    )
    max_groups: int = _opt(500, "Botnet groups and sweeps listed each (largest first).")
    max_cross: int = _opt(1000, "Cross-holder attackers listed (seen by most holders first).")
    top_n: int = _opt(20, "Length of the top attackers / top targets lists.")
    members_cap: int = _opt(
        100, "Members, attackers or targets listed per item (the full count is always given)."
    )
    entries_cap: int = _opt(
        50, "Supporting (source_file, line) entries listed per item (the full count is given)."
    )

    def __post_init__(self) -> None:
        for name in ("botnet_window", "sweep_window"):
            duration_us(getattr(self, name), name)
        ints = (
            "botnet_min_sources",
            "sweep_min_targets",
            "cross_min_holders",
            "max_targets",
            "max_groups",
            "max_cross",
            "top_n",
            "members_cap",
            "entries_cap",
        )
        for name in ints:
            if getattr(self, name) < 1:
                raise ConfigError(f"analysis option {name} must be at least 1")
        if self.botnet_match not in ("port", "protocol"):
            raise ConfigError("analysis option botnet_match must be 'port' or 'protocol'")
        if not 0 < self.internal_domain_min_share <= 1:
            raise ConfigError("analysis option internal_domain_min_share must be in (0, 1]")

    @property
    def botnet_window_us(self) -> int:
        return duration_us(self.botnet_window, "botnet_window")

    @property
    def sweep_window_us(self) -> int:
        return duration_us(self.sweep_window, "sweep_window")

    def to_dict(self) -> dict[str, Any]:
        """The options as written into insights.json, so a reader knows what the numbers mean."""
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in fields(self)}


_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def duration_us(text: str, name: str = "duration") -> int:
    """A window like ``"10m"`` in microseconds, the resolution of event timestamps."""
    match = _DURATION.match(str(text))
    if not match or int(match.group(1)) == 0:
        raise ConfigError(f"analysis option {name} must be a positive duration like 30s, 10m, 2h or 1d")
    delta = timedelta(**{_UNIT[match.group(2)]: int(match.group(1))})
    return delta // timedelta(microseconds=1)


def option_help() -> dict[str, str]:
    """Help text per option name, for the CLI and the docs."""
    return {f.name: f.metadata["help"] for f in fields(AnalysisOptions)}
