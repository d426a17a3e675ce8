"""Settings of CTI creation, declared once with their defaults."""

from __future__ import annotations

from dataclasses import dataclass

from ppcti.errors import ConfigError
from ppcti.stix.markings import TLP_LEVELS, normalise_tlp

DEFAULT_TLP = "amber"
#: ``created``/``modified`` of holder identities. Fixed, so an identity is the same object in every bundle
#: and every run (its id depends only on the holder name).
DEFAULT_IDENTITY_CREATED = "2020-01-01T00:00:00.000Z"
DEFAULT_PRODUCER = "ppcti"
DEFAULT_INDICATOR_TYPES: tuple[str, ...] = ("malicious-activity",)
DEFAULT_CACHE_SIZE = 1 << 16
DEFAULT_MAX_REPORTED = 1000

#: STIX 2.1 indicator-type-ov.
INDICATOR_TYPES = frozenset(
    {
        "anomalous-activity",
        "anonymization",
        "benign",
        "compromised",
        "malicious-activity",
        "attribution",
        "unknown",
    }
)


@dataclass(frozen=True, slots=True)
class CtiOptions:
    """How events become STIX.

    ``tlp``: TLP 2.0 level marking every emitted object (clear, green, amber, amber+strict, red).
    ``indicator_types``: indicator-type-ov values of indicators unless an e-mail verdict says otherwise.
    ``include_subject``: e-mail subjects may be personal data; they are only ever copied when the event
    still carries one (the privacy profile decides), and this switch can drop them regardless.
    ``producer``: name of the identity that creates the run-wide indicators of ``aggregate.json``.
    ``identity_created``: fixed ``created``/``modified`` of identities (reproducible output).
    ``portless_traffic``: also emit network-traffic without both ports (ICMP); valid STIX, but the strict
    validator flags it because STIX says traffic SHOULD name both ports.
    ``aggregate_observations``: put per-entry observations (network-traffic, email-message) into
    ``observations.json`` beside the addresses. Each is distinct by its start time, so that bundle grows
    with the number of entries; switch off for very large runs to keep only the addresses there.
    ``max_reported``: how many invalid values :class:`CtiSummary` keeps in memory (all go to the file).
    ``share_private``: also make indicators of attackers at non-public addresses (private, CGNAT,
    loopback, link-local, documentation ranges; see :mod:`ppcti.netrange`). Off: they stay with the
    holder, as do attackers inside the network (lateral movement). Outbound traffic and the holder's own
    addresses never become indicators either way.
    """

    tlp: str = DEFAULT_TLP
    indicator_types: tuple[str, ...] = DEFAULT_INDICATOR_TYPES
    include_subject: bool = True
    producer: str = DEFAULT_PRODUCER
    identity_created: str = DEFAULT_IDENTITY_CREATED
    portless_traffic: bool = False
    aggregate_observations: bool = True
    max_reported: int = DEFAULT_MAX_REPORTED
    share_private: bool = False

    def __post_init__(self) -> None:
        level = normalise_tlp(self.tlp)
        if level is None:
            raise ConfigError(f"unknown TLP level; use one of {', '.join(TLP_LEVELS)}")
        object.__setattr__(self, "tlp", level)
        object.__setattr__(self, "indicator_types", tuple(self.indicator_types))
        unknown = [t for t in self.indicator_types if t not in INDICATOR_TYPES]
        if unknown or not self.indicator_types:
            raise ConfigError(
                f"indicator_types must be values of indicator-type-ov: {sorted(INDICATOR_TYPES)}"
            )
        if not self.producer.strip():
            raise ConfigError("producer name must not be empty")
        if self.max_reported < 0:
            raise ConfigError("max_reported must be >= 0")
