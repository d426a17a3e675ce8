"""What a run is asked to do: :class:`RunOptions`, declared once, with the quickstart's defaults.

Options are plain values made at an edge (``ppcti run``'s flags, the TEE service's holder choices, a
web job's form, a Kafka job request); nothing here reads the environment or the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ppcti.clean.minimise import Profile, load_profile
from ppcti.clean.timestamps import TimeContext
from ppcti.errors import ConfigError
from ppcti.ingest import Limits

if TYPE_CHECKING:
    from ppcti.bus.settings import BusSettings

#: Post-processing stages that can be switched off with ``--skip``.
OPTIONAL_STAGES = ("pii", "cti", "analysis", "enrich", "report")


def stage_list(values: Iterable[str]) -> list[str]:
    """Stage names from repeated options, each of which may also list several: ``--skip pii,report``."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Everything a run needs besides its inputs; defaults are the embedded defaults of the quickstart."""

    holder: str
    out: Path
    format: str | None = None
    time: TimeContext = field(default_factory=TimeContext)
    profile: Profile = field(default_factory=lambda: load_profile(None))
    limits: Limits = field(default_factory=Limits)
    skip: frozenset[str] = frozenset()
    tlp: str = "amber"
    nlp: str = "auto"
    pii_rules: Path | None = None
    #: Where to publish the results; made from ``--kafka`` and ``PPCTI_KAFKA_*`` by the caller.
    kafka: BusSettings | None = None
    kafka_events: bool = False
    #: Bytes of input per batch: peak memory is about 30x this for firewall text (see docs/benchmarks.md).
    batch_bytes: int = 8 * 1024 * 1024
    json_mappings: tuple[Path, ...] = ()
    #: Also share attackers at non-public addresses (see :mod:`ppcti.netrange`); off by default.
    share_private: bool = False
    #: ``ppcti.enrich.EnrichSettings`` with at least one service key; None switches the enrich stage off.
    enrich: Any = None
    #: Processes for the run's independent work (PII scan, CTI, analysis; :mod:`ppcti.pipeline.parallel`).
    workers: int = 1

    def __post_init__(self) -> None:
        if not self.holder.strip():
            raise ConfigError("--holder must name the data holder")
        if self.workers < 1:
            raise ConfigError("--workers must be at least 1")
        unknown = set(self.skip) - set(OPTIONAL_STAGES)
        if unknown:
            raise ConfigError(
                f"unknown stages to skip {sorted(unknown)}; choose from {list(OPTIONAL_STAGES)}"
            )
