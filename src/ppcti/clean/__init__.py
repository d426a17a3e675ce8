"""Cleaning stages: each rule is a small function over a Polars frame or a single value, tested alone.

The formats call these while parsing; the pipeline applies deduplication and minimisation across
formats. Row-at-a-time helpers exist for code off the hot path (CSV repair, JSON records, tests).
"""

from ppcti.clean.dedup import Deduplicator
from ppcti.clean.emails import clean_email, clean_email_expr, find_emails
from ppcti.clean.mac import mac_expr, normalise_mac
from ppcti.clean.minimise import Profile, load_profile
from ppcti.clean.timestamps import TimeContext, stix_timestamp_expr, to_stix_timestamp

__all__ = [
    "Deduplicator",
    "Profile",
    "TimeContext",
    "clean_email",
    "clean_email_expr",
    "find_emails",
    "load_profile",
    "mac_expr",
    "normalise_mac",
    "stix_timestamp_expr",
    "to_stix_timestamp",
]
