"""``generate()``: write the sample upload, its ground truth, and optionally the upload ZIP.

Layout of ``out``::

    firewall.log  firewall-rsyslog.log  firewall-syslog.txt  router-console.txt     firewall-text
    mail-export.csv  mail-gateway.csv  mail-quarantine.csv  mail-export.xlsx       email-csv
    suricata-alerts.json  ecs-events.jsonl  zeek-conn.jsonl                        events-json
    ground_truth.jsonl            one record per entry (see :mod:`ppcti.samples.truth`)
    ground_truth_config.json      time zone, year and date the expected timestamps assume
    ground_truth_campaigns.json   botnet groups and where their bursts landed
    sample-upload.zip             the data files above as one upload (with ``make_zip``)

Same seed, same rows: byte-identical files. Every file uses its own random stream (seeded by the seed and
the file name) and covers its own day, so files are independent and never repeat each other's events.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from ppcti.errors import ConfigError
from ppcti.samples import email, events, firewall
from ppcti.samples.archive import pack
from ppcti.samples.common import Campaign, FilePlan, split_rows
from ppcti.samples.pools import Pools, build_pools
from ppcti.samples.truth import TruthWriter

FORMATS: tuple[str, ...] = ("firewall-text", "email-csv", "events-json")
PLANS: dict[str, tuple[FilePlan, ...]] = {
    "firewall-text": firewall.PLANS,
    "email-csv": email.PLANS,
    "events-json": events.PLANS,
}
DEFAULT_ROWS = 300
DEFAULT_SEED = 7
DEFAULT_HOLDER = "sample-holder"
#: Fewest entries per format: every file of the format gets at least a few.
MIN_ROWS = 20
ZIP_NAME = "sample-upload.zip"
GROUND_TRUTH = "ground_truth.jsonl"
GROUND_TRUTH_CONFIG = "ground_truth_config.json"
GROUND_TRUTH_CAMPAIGNS = "ground_truth_campaigns.json"

#: What the expected timestamps assume for styles that lack a zone, a year or a date.
TIME_CONFIG: dict[str, object] = {
    "timezone": "UTC",
    "year": 2023,
    "date_for_time_only": "2023-03-07",
    "date_order": "DMY",
}


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    """One data file and how many of its entries are events, rejects and duplicates."""

    name: str
    format: str
    path: Path
    events: int
    rejects: int
    duplicates: int

    @property
    def entries(self) -> int:
        return self.events + self.rejects + self.duplicates


@dataclass(frozen=True, slots=True)
class GeneratedSet:
    """What :func:`generate` wrote."""

    out: Path
    files: tuple[GeneratedFile, ...]
    ground_truth: Path
    config: Path
    campaigns: Path
    zip_path: Path | None

    def by_format(self, fmt: str) -> tuple[GeneratedFile, ...]:
        return tuple(f for f in self.files if f.format == fmt)


def generate(
    out: Path,
    *,
    rows: int = DEFAULT_ROWS,
    seed: int = DEFAULT_SEED,
    make_zip: bool = True,
    holder: str = DEFAULT_HOLDER,
    formats: tuple[str, ...] = FORMATS,
    ground_truth: bool = True,
    on_file: Callable[[str, int], None] | None = None,
) -> GeneratedSet:
    """Write ``rows`` entries per format (split over the format's files) into ``out``.

    ``formats`` limits the formats written; ``ground_truth=False`` skips ``ground_truth.jsonl`` (the
    benchmark needs a million lines, not their expectations). ``on_file(name, rows)`` is called before
    each file is written (for progress display).
    Raises :class:`~ppcti.errors.ConfigError` for fewer than ``MIN_ROWS`` rows or an unknown format.
    """
    if rows < MIN_ROWS:
        raise ConfigError(f"--rows must be at least {MIN_ROWS}")
    unknown = [f for f in formats if f not in PLANS]
    if unknown or not formats:
        raise ConfigError(
            f"unknown format(s): {', '.join(unknown) or 'none given'}; known: {', '.join(FORMATS)}"
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pools = build_pools(seed)
    campaigns: list[Campaign] = []
    written: list[tuple[FilePlan, Path]] = []
    truth_path = out / GROUND_TRUTH
    with truth_path.open("wb") if ground_truth else contextlib.nullcontext() as truth_handle:
        truth = TruthWriter(truth_handle, holder=holder)
        for fmt in FORMATS:
            if fmt not in formats:
                continue
            plans = PLANS[fmt]
            for plan, count in zip(plans, split_rows(rows, plans), strict=True):
                if on_file is not None:
                    on_file(plan.name, count)
                path = out / plan.name
                _write_one(path, plan, count, seed, pools, truth, campaigns)
                written.append((plan, path))
    files = tuple(
        GeneratedFile(
            plan.name,
            plan.format,
            path,
            truth.counts[plan.name]["event"],
            truth.counts[plan.name]["reject"],
            truth.counts[plan.name]["duplicate"],
        )
        for plan, path in written
    )
    config_path = out / GROUND_TRUTH_CONFIG
    config_path.write_bytes(orjson.dumps(TIME_CONFIG, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    campaigns_path = out / GROUND_TRUTH_CAMPAIGNS
    campaigns_path.write_bytes(
        orjson.dumps(
            {
                "botnets": [
                    {
                        "name": g.name,
                        "members": list(g.members),
                        "target": g.target,
                        "port": g.port,
                        "protocol": g.protocol,
                    }
                    for g in pools.botnets
                ],
                "bursts": [c.to_dict() for c in campaigns],
            },
            option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE,
        )
    )
    zip_path = None
    if make_zip:
        zip_path = out / ZIP_NAME
        pack(zip_path, ((plan.name, path) for plan, path in written))
    return GeneratedSet(out, files, truth_path, config_path, campaigns_path, zip_path)


def _write_one(
    path: Path,
    plan: FilePlan,
    rows: int,
    seed: int,
    pools: Pools,
    truth: TruthWriter,
    campaigns: list[Campaign],
) -> None:
    if plan.format == "firewall-text":
        with path.open("w", encoding="utf-8", newline="") as handle:
            firewall.write_file(handle, plan, rows, seed, pools, truth, campaigns)
    elif plan.style == "xlsx":
        email.write_xlsx(path, plan, rows, seed, pools, truth)
    elif plan.format == "email-csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            email.write_csv(handle, plan, rows, seed, pools, truth)
    else:
        with path.open("wb") as handle:
            events.write_file(handle, plan, rows, seed, pools, truth, campaigns)
