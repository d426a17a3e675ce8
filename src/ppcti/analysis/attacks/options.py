"""Thresholds of attack classification, profiling, clustering and anomaly detection, with their defaults.

Declared once here (with help text) and written into ``insights.json`` under ``attacks.options``, so a
reader knows what the numbers mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ppcti.analysis.options import duration_us
from ppcti.errors import ConfigError

#: Ports where a login is asked for: SSH, Telnet, FTP, mail (SMTP submission, POP3, IMAP), LDAP, SMB,
#: databases, RDP, VNC, WinRM and MikroTik's Winbox/API.
AUTH_PORTS: tuple[int, ...] = (
    21,
    22,
    23,
    110,
    143,
    389,
    445,
    465,
    587,
    993,
    995,
    1433,
    1521,
    3306,
    3389,
    5432,
    5900,
    5985,
    5986,
    6379,
    8291,
    8728,
    8729,
    27017,
)


def _opt(default: Any, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True, slots=True)
class AttackOptions:
    """Every threshold of the attack analysis; construct with keywords only."""

    brute_force_ports: tuple[int, ...] = _opt(AUTH_PORTS, "Destination ports that ask for a login.")
    brute_force_window: str = _opt("10m", "Window for brute force: attempts of one source on one login.")
    brute_force_min_attempts: int = _opt(10, "Attempts on one target and login port within the window.")
    scan_window: str = _opt("10m", "Window for vertical and horizontal scans.")
    vertical_scan_min_ports: int = _opt(10, "Distinct ports of one target one source touches (vertical).")
    horizontal_scan_min_targets: int = _opt(
        10, "Distinct targets one source touches on one port (horizontal)."
    )
    flood_window: str = _opt("1m", "Window for floods on one target.")
    flood_min_events: int = _opt(600, "Entries on one target within the flood window (10/s by default).")
    probe_confidence: float = _opt(0.3, "Confidence of a lone blocked inbound entry being a probe.")
    subject_confidence: float = _opt(0.5, "Confidence of phishing from lure wording in a subject alone.")
    max_campaigns: int = _opt(30, "Most clusters (campaigns) of attackers with similar behaviour.")
    cluster_seed: int = _opt(0, "Seed of k-means, so campaigns are reproducible.")
    outlier_z: float = _opt(
        3.5, "Robust z-score of an attacker's distance to its campaign centre to be unusual."
    )
    anomaly_bucket: str = _opt("1h", "Time window of the anomaly baseline.")
    anomaly_z: float = _opt(3.5, "Robust (median/MAD) z-score above which a window is anomalous.")
    anomaly_min_events: int = _opt(10, "Entries a window needs before it can be anomalous.")
    max_listed: int = _opt(200, "Attackers, /24 networks, targets, outliers and anomalies listed each.")

    def __post_init__(self) -> None:
        for name in ("brute_force_window", "scan_window", "flood_window", "anomaly_bucket"):
            duration_us(getattr(self, name), name)
        for name in (
            "brute_force_min_attempts",
            "vertical_scan_min_ports",
            "horizontal_scan_min_targets",
            "flood_min_events",
            "max_campaigns",
            "anomaly_min_events",
            "max_listed",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"attack option {name} must be at least 1")
        for name in ("probe_confidence", "subject_confidence"):
            if not 0 < getattr(self, name) <= 1:
                raise ConfigError(f"attack option {name} must be in (0, 1]")
        if self.outlier_z <= 0 or self.anomaly_z <= 0:
            raise ConfigError("attack options outlier_z and anomaly_z must be positive")

    @classmethod
    def from_pairs(cls, pairs: list[str]) -> AttackOptions:
        """Options from ``NAME=VALUE`` texts (the CLI's ``--attack-option``), typed like the defaults;
        a list of ports is comma-separated."""
        known = {f.name: f.default for f in fields(cls)}
        values: dict[str, Any] = {}
        for pair in pairs:
            name, sep, text = pair.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in known:
                raise ConfigError(f"attack option must be NAME=VALUE with NAME one of {', '.join(known)}")
            default = known[name]
            try:
                if isinstance(default, tuple):
                    values[name] = tuple(int(p) for p in text.split(",") if p.strip())
                elif isinstance(default, int):
                    values[name] = int(text)
                elif isinstance(default, float):
                    values[name] = float(text)
                else:
                    values[name] = text.strip()
            except ValueError:
                raise ConfigError(f"attack option {name} needs a {type(default).__name__} value") from None
        return cls(**values)

    def us(self, name: str) -> int:
        return duration_us(getattr(self, name), name)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in fields(self)}
