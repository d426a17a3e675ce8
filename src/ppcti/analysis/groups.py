"""Analysis 2: sources acting together.

* botnets: many distinct sources hitting one target and service within ``botnet_window``;
* sweeps: one source hitting many distinct targets within ``sweep_window``.

Both run :func:`ppcti.analysis.windows.dense_groups` on the per-target hits, then describe each group
with its members, window, and the entries that support it.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ppcti.analysis.common import entry_refs, finish_entries, iso, with_entry_fields
from ppcti.analysis.options import AnalysisOptions
from ppcti.analysis.windows import dense_groups

#: Integer ids of (holder, target, service) and (holder, attacker): see ``load._ids``.
BOTNET_KEY = ["hid", "tid", "sid"]
SWEEP_KEY = ["hid", "aid"]
BOTNET_LABELS = ["holder", "target_kind", "target", "service"]
SWEEP_LABELS = ["holder", "attacker_kind", "attacker"]
#: What :func:`~ppcti.analysis.common.entry_refs` and the window bounds read.
ENTRY_COLUMNS = ["t", "source_file", "line"]


def _assigned(
    hits: pl.DataFrame, keys: list[str], member: str, window_us: int, n: int, columns: list[str]
) -> pl.DataFrame:
    """The hits that belong to a group (their ``columns`` the hits have, and ``row``), with their
    ``group`` and ``peak``.

    Only ids and times go through the window search; the few rows that qualify are then gathered
    with the columns the description reads, so the millions of others never have their strings copied.
    """
    slim = hits.select(*keys, member, "t").with_row_index("_i")
    groups, found = dense_groups(slim, keys, member, window_us=window_us, min_members=n)
    own = [c for c in columns if c in hits.columns]
    rows = hits.select(*own, "row")[found.get_column("_i")].with_columns(found.get_column("group"))
    return rows.join(groups.select("group", "peak"), on="group")


def _described(
    assigned: pl.DataFrame,
    labels: list[str],
    member: str,
    extra: list[pl.Expr],
    options: AnalysisOptions,
    events: pl.DataFrame | None,
) -> tuple[pl.DataFrame, int]:
    """The first ``max_groups`` groups in :func:`ordered` order, described, and how many there are.

    Only the groups listed get their supporting entries: picking them costs more than the rest of the
    description, and a run finds ten times more sweeps than it lists. Their file and line come from
    ``events`` when the hits leave them out (see :func:`~ppcti.analysis.common.with_entry_fields`).
    """
    cap = options.members_cap
    members = assigned.group_by("group").agg(
        *[pl.col(c).first() for c in labels],
        *extra,
        peak=pl.col("peak").first(),
        members=pl.col(member).unique().sort().head(cap),
        members_count=pl.col(member).n_unique(),
        window_start=pl.col("t").min(),
        window_end=pl.col("t").max(),
    )
    listed = ordered(members, labels).head(options.max_groups)
    rows = assigned.join(listed.select("group"), on="group", how="semi")
    rows = with_entry_fields(rows, events, ENTRY_COLUMNS)
    entries = rows.group_by("group").agg(entry_refs(options.entries_cap)).with_columns(finish_entries())
    return listed.join(entries, on="group", maintain_order="left").drop("group"), members.height


def ordered(found: pl.DataFrame, labels: list[str]) -> pl.DataFrame:
    """Largest group first; then earliest, then by its labels: a total order, so groups found in
    separate parts of the input merge into the order one pass over all of it gives."""
    return found.sort(
        ["members_count", "window_start", *labels],
        descending=[True, False, *([False] * len(labels))],
    )


def botnet_groups(
    hits: pl.DataFrame, options: AnalysisOptions, events: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, int]:
    """The first ``max_groups`` botnet groups of ``hits``, described and :func:`ordered`, and how many
    there are. ``events``: where the entry fields the hits leave out are found (None when the hits
    carry them)."""
    columns = [*BOTNET_LABELS, "attacker", "private", "range", *ENTRY_COLUMNS]
    window, n = options.botnet_window_us, options.botnet_min_sources
    assigned = _assigned(hits, BOTNET_KEY, "aid", window, n, columns)
    extra = [pl.col("private").first(), pl.col("range").first()]
    return _described(assigned, BOTNET_LABELS, "attacker", extra, options, events)


def sweep_groups(
    hits: pl.DataFrame, options: AnalysisOptions, events: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, int]:
    """The first ``max_groups`` sweeps of ``hits``, described and ordered, and how many there are
    (``events``: see :func:`botnet_groups`)."""
    columns = [*SWEEP_LABELS, "target", "service", *ENTRY_COLUMNS]
    window, n = options.sweep_window_us, options.sweep_min_targets
    assigned = _assigned(hits, SWEEP_KEY, "tid", window, n, columns)
    extra = [pl.col("service").unique().sort().head(options.members_cap).alias("services")]
    return _described(assigned, SWEEP_LABELS, "target", extra, options, events)


def botnets(
    hits: pl.DataFrame, options: AnalysisOptions, events: pl.DataFrame | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Botnet groups (largest first, at most ``max_groups``) and how many were found in all."""
    found, total = botnet_groups(hits, options, events)
    return botnet_rows(found, options, total=total)


def sweeps(
    hits: pl.DataFrame, options: AnalysisOptions, events: pl.DataFrame | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Sweeps (widest first, at most ``max_groups``) and how many were found in all."""
    found, total = sweep_groups(hits, options, events)
    return sweep_rows(found, options, total=total)


def botnet_rows(
    found: pl.DataFrame, options: AnalysisOptions, *, total: int | None = None
) -> tuple[list[dict[str, Any]], int]:
    """The ``botnets`` section from ordered groups, and their number (``total``: when ``found`` was
    already cut to ``max_groups``)."""
    total = found.height if total is None else total
    found = found.head(options.max_groups).with_row_index("n", offset=1)
    out = found.select(
        id=pl.format("botnet-{}", pl.col("n")),
        holder="holder",
        target_kind="target_kind",
        target="target",
        target_private="private",
        target_range="range",
        service="service",
        window_start=iso("window_start"),
        window_end=iso("window_end"),
        peak_sources_in_window="peak",
        members_count="members_count",
        members="members",
        entries_count="entries_count",
        entries="entries",
    )
    return out.to_dicts(), total


def sweep_rows(
    found: pl.DataFrame, options: AnalysisOptions, *, total: int | None = None
) -> tuple[list[dict[str, Any]], int]:
    """The ``sweeps`` section from ordered groups, and their number (``total``: see :func:`botnet_rows`)."""
    total = found.height if total is None else total
    found = found.head(options.max_groups).with_row_index("n", offset=1)
    out = found.select(
        id=pl.format("sweep-{}", pl.col("n")),
        holder="holder",
        source_kind="attacker_kind",
        source="attacker",
        window_start=iso("window_start"),
        window_end=iso("window_end"),
        peak_targets_in_window="peak",
        targets_count="members_count",
        targets="members",
        services="services",
        entries_count="entries_count",
        entries="entries",
    )
    return out.to_dicts(), total
