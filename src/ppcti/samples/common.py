"""Pieces every format generator shares: file plans, the clock, bursts and campaign records.

A generator writes one file in one pass and streams its ground truth alongside, so memory stays flat
for a million rows. Time moves forward per entry (files cover disjoint days, see :class:`FilePlan`);
botnet bursts are scheduled at random positions and compress many attacks on one service into a window
of seconds to a minute, which is what the botnet detector downstream looks for.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ppcti.samples.pools import BotnetGroup
from ppcti.samples.timefmt import US, epoch_us

#: Expected span of a file's traffic; no draw can take more than twice this, so a file that starts at
#: 07:00 ends before midnight of its day (time-only lines take their date from configuration and must
#: not cross midnight).
MAX_SPAN_S = 28_000
#: Traffic starts at 07:00 UTC of the file's day.
START_OFFSET_S = 25_200


@dataclass(frozen=True, slots=True)
class FilePlan:
    """One output file: its name, format, share of the format's rows and the UTC day it covers."""

    name: str
    format: str
    style: str
    share: int
    day: tuple[int, int, int]
    max_rows: int | None = None


@dataclass(slots=True)
class Campaign:
    """Where one botnet burst landed, for ``ground_truth_campaigns.json``."""

    group: str
    source_file: str
    first_line: int
    last_line: int = 0
    start: str = ""
    end: str = ""
    members: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "source_file": self.source_file,
            "first_line": self.first_line,
            "last_line": self.last_line,
            "start": self.start,
            "end": self.end,
            "members_seen": sorted(self.members),
        }


def split_rows(total: int, plans: tuple[FilePlan, ...]) -> list[int]:
    """Rows per file: proportional to ``share``, at least one each, capped by ``max_rows``; sums to total.

    Rows a capped file cannot take go to the first uncapped file.
    """
    weight = sum(p.share for p in plans)
    counts = [max(1, total * p.share // weight) for p in plans]
    counts = [min(c, p.max_rows) if p.max_rows else c for c, p in zip(counts, plans, strict=True)]
    uncapped = next(i for i, p in enumerate(plans) if p.max_rows is None)
    counts[uncapped] += total - sum(counts)
    if counts[uncapped] < 1:
        raise ValueError("too few rows for the files of this format")
    return counts


class Clock:
    """Non-decreasing time for one file: ordinary gaps, or seconds-apart gaps inside a burst."""

    __slots__ = ("_burst_gap", "_gap", "_rng", "now")

    def __init__(self, rng: random.Random, day: tuple[int, int, int], rows: int) -> None:
        self._rng = rng
        self.now = epoch_us(*day) + START_OFFSET_S * US + rng.randrange(US)
        mean_s = min(40.0, MAX_SPAN_S / max(rows, 1))
        self._gap = int(2 * mean_s * US)
        # Bursts are at most as spread as ordinary traffic, so no gap exceeds 2x the mean.
        self._burst_gap = min(3 * US, self._gap)

    def tick(self, burst: bool = False) -> int:
        self.now += int(self._rng.random() * (self._burst_gap if burst else self._gap))
        return self.now


class BurstSchedule:
    """Positions where a botnet burst starts, and which group it is; bursts do not overlap."""

    __slots__ = ("_groups", "_index", "_rng", "_starts", "current", "left")

    def __init__(
        self, rng: random.Random, rows: int, groups: tuple[BotnetGroup, ...], *, every: int = 120
    ) -> None:
        self._rng = rng
        self._groups = groups
        count = 0 if rows < 40 else max(1, rows // every)
        self._starts = set(rng.sample(range(rows - 20), count)) if count else set()
        self._index = rng.randrange(len(groups))
        self.left = 0
        self.current: BotnetGroup | None = None

    def step(self, position: int) -> BotnetGroup | None:
        """The group attacking at ``position``, or None for ordinary traffic."""
        if self.left == 0 and position in self._starts:
            self.current = self._groups[self._index % len(self._groups)]
            self._index += 1
            self.left = self._rng.randrange(8, 18)
        if self.left == 0:
            return None
        self.left -= 1
        return self.current


def forced_positions(rng: random.Random, rows: int, kinds: tuple[str, ...]) -> dict[int, str]:
    """Entry indexes (0-based) where a defect kind is forced, one per kind, in files of 40+ entries.

    Rates alone leave a few-hundred-line file without, say, a duplicate now and then; a sample set that
    silently lacks a defect would let a cleaner pass without handling it. Positions are in the last
    three quarters so there are earlier entries to duplicate.
    """
    if rows < 40:
        return {}
    return dict(zip(rng.sample(range(rows // 4, rows - 1), len(kinds)), kinds, strict=True))
