"""Duplicate entries, exact and after normalisation, across all files of a run.

A row is a duplicate when its normalised event (every field but ``source_file`` and ``line``) was
seen before; it is *exact* when its raw text also equals the first one's, *normalised* otherwise (the
same event written differently, e.g. another MAC spelling). Duplicates are not dropped silently: the
pipeline writes them to ``rejects.jsonl`` with the line they repeat.

Memory: per distinct event a 64-bit hash of the event, one of its raw text, a file number and a line
(28 bytes in a Polars frame; about 59 in the compiled hash map used when ``ppcti-native`` is built),
so 10 million distinct events cost about 280 MB (590 MB compiled); the chance that two
distinct events share a 64-bit hash is about n^2 / 2^65 (3e-6 for 10 million). Only duplicate rows pay
for building the "file:line" reference they point to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from ppcti.native import native_module

_SEEN_SCHEMA = {"_h": pl.UInt64, "_first_file": pl.UInt32, "_first_line": pl.Int64, "_first_raw": pl.UInt64}


class _History:
    """The first occurrences of one group: sorted runs whose sizes at least double from newest to oldest.

    Probing a batch costs one binary search per run (``O(batch x log history)``) instead of a scan of
    the whole history, and keeping the runs costs each row ``O(log n)`` merges: without this, a run of
    thousands of small files scanned (and concatenated) its whole history per file, quadratic in the
    number of files. The searches run on NumPy views of the hash columns (no copy): a Polars call per
    run costs ~20x more fixed overhead, which is what a small file pays (``bench/many_files.py``).
    """

    def __init__(self) -> None:
        self.runs: list[tuple[pl.DataFrame, np.ndarray]] = []

    def add(self, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        self._push(frame.sort("_h"))
        while len(self.runs) > 1 and self.runs[-2][0].height <= 2 * self.runs[-1][0].height:
            newer, _ = self.runs.pop()
            older, _ = self.runs.pop()
            # both runs are sorted and share no hash: a linear merge, not a sort of their concatenation
            self._push(older.merge_sorted(newer, key="_h"))

    def _push(self, run: pl.DataFrame) -> None:
        run = run.rechunk()
        self.runs.append((run, run.get_column("_h").to_numpy()))

    def probe(self, hashes: pl.Series) -> pl.DataFrame:
        """The history rows whose hash is one of ``hashes`` (each hash is in the history at most once)."""
        wanted = np.sort(hashes.to_numpy())  # sorted needles walk each run in order: cache-friendly
        found = []
        for run, column in self.runs:
            at = np.searchsorted(column, wanted).clip(0, len(column) - 1)
            hit = column[at] == wanted
            if hit.any():
                # rows by a list of positions: a NumPy index array makes Polars import numpy.ma (35 ms of
                # a run's first batch) to look for a mask
                found.append(run[at[hit].tolist()])
        if not found:
            return pl.DataFrame(schema=_SEEN_SCHEMA)
        return pl.concat(found) if len(found) > 1 else found[0]


def _kept(batch: pl.DataFrame, keep: Sequence[str] | None) -> pl.DataFrame:
    """The batch's columns the duplicates keep (all when ``keep`` is None)."""
    return batch if keep is None else batch.select(keep)


def _none_of(batch: pl.DataFrame, keep: Sequence[str] | None) -> pl.DataFrame:
    """No duplicates, in the shape :meth:`Deduplicator.mark` returns them."""
    rows = _kept(batch, keep).clear()
    empty = pl.lit(None, pl.String)
    return rows.with_columns(duplicate_of=empty, duplicate_kind=empty)


class Deduplicator:
    """Remembers what a run has seen; :meth:`split` partitions each new batch.

    With ``ppcti-native`` built, what a group has seen is a compiled hash map (``SeenEvents``: one
    look-up per row, about twice the reference's memory per distinct event); :class:`_History` is the
    reference, and both give the same duplicates and origins (``tests/clean/test_clean_dedup.py``).
    """

    def __init__(self) -> None:
        module = native_module()
        self._native = getattr(module, "SeenEvents", None) if module is not None else None
        self._seen: dict[str, _History | Any] = {}
        self._files: dict[str, int] = {}
        self._names: list[str] = []
        self.exact = 0
        self.normalised = 0

    def _file_id(self, name: str) -> int:
        if name not in self._files:
            self._files[name] = len(self._names)
            self._names.append(name)
        return self._files[name]

    def split(
        self,
        batch: pl.DataFrame,
        *,
        group: str,
        key_columns: Sequence[str | pl.Expr],
        raw_column: str = "raw",
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Return ``(kept, duplicates)``; ``duplicates`` gains ``duplicate_of`` and ``duplicate_kind``.

        ``group`` separates event shapes that can never repeat each other (one per format), so their
        different ``extra`` structures are never hashed together. ``batch`` holds one file's rows.
        ``key_columns`` are column names or expressions over the batch (hashed, never added to it, so
        that filtering the batch does not copy them).
        """
        duplicate, dups = self.mark(batch, group=group, key_columns=key_columns, raw_column=raw_column)
        return (batch if duplicate is None else batch.filter(~duplicate)), dups

    def mark(
        self,
        batch: pl.DataFrame,
        *,
        group: str,
        key_columns: Sequence[str | pl.Expr],
        raw_column: str = "raw",
        keep: Sequence[str] | None = None,
    ) -> tuple[pl.Series | None, pl.DataFrame]:
        """:meth:`split` without cutting the kept rows out of the batch: ``(duplicate, duplicates)``,
        where ``duplicate`` marks the batch's duplicate rows (None when there is none). Filtering every
        column of a batch costs more than the rest of deduplication when events hold lists, and a writer
        can skip the marked rows instead (:func:`ppcti.outputs.write_frame`). ``keep``: the batch's
        columns the duplicates keep (all when None)."""
        if batch.height == 0:
            return None, _none_of(batch, keep)
        file_id = self._file_id(batch.get_column("source_file")[0])
        # one hash over the key columns side by side: Polars hashes each column and combines them,
        # about twice as fast as hashing them as one struct (which it row-encodes first)
        columns = [
            (pl.col(c) if isinstance(c, str) else c).alias(f"_k{i}") for i, c in enumerate(key_columns)
        ]
        keys = batch.select(_raw=pl.col(raw_column).hash(seed=11), _line=pl.col("line")).insert_column(
            0, batch.select(columns).hash_rows(seed=7).alias("_h")
        )
        history = self._seen.get(group)
        if history is None:
            history = self._seen[group] = _History() if self._native is None else self._native()
        if not isinstance(history, _History):
            found = pl.DataFrame(history.mark(keys.with_columns(pl.col("_line").cast(pl.Int64)), file_id))
            duplicate = found.get_column("dup")
            if not duplicate.any():
                return None, _none_of(batch, keep)
            # side by side first (no copy), then one filter for the three parts
            dups = pl.concat(
                [_kept(batch, keep), keys.select("_raw"), found.drop("dup")], how="horizontal"
            ).filter(duplicate)
            return duplicate, self._described(dups)
        # probe the (small) batch's hashes in the (large, sorted) history, never scan the history
        hits = history.probe(keys.get_column("_h"))
        earlier = keys.get_column("_h").is_in(hits.get_column("_h").implode())
        repeated = ~keys.get_column("_h").is_first_distinct()
        dup_mask = earlier | repeated
        any_dup = bool(dup_mask.any())
        firsts = keys.filter(~dup_mask) if any_dup else keys
        added = firsts.select(
            pl.col("_h"),
            pl.lit(file_id, pl.UInt32).alias("_first_file"),
            pl.col("_line").alias("_first_line"),
            pl.col("_raw").alias("_first_raw"),
        )
        history.add(added)
        if not any_dup:
            return None, _none_of(batch, keep)
        # where each duplicate's first occurrence is: an earlier batch, or earlier in this one
        repeats = keys.get_column("_h").filter(repeated).implode()
        origin = pl.concat([hits, added.filter(pl.col("_h").is_in(repeats))], rechunk=False).unique(
            subset="_h", keep="first", maintain_order=True
        )
        dups = pl.concat(
            [
                _kept(batch, keep).filter(dup_mask),
                keys.filter(dup_mask).select("_h", "_raw"),
            ],
            how="horizontal",
        )
        dups = dups.join(origin, on="_h", how="left", maintain_order="left").drop("_h")
        return dup_mask, self._described(dups)

    def _described(self, dups: pl.DataFrame) -> pl.DataFrame:
        """Duplicates with ``_raw`` and their first occurrence's ``_first_*`` as ``duplicate_of`` and
        ``duplicate_kind`` (and counted)."""
        names = dict(enumerate(self._names))
        dups = dups.with_columns(
            duplicate_of=pl.format(
                "{}:{}",
                pl.col("_first_file").replace_strict(names, return_dtype=pl.String),
                pl.col("_first_line"),
            ),
            duplicate_kind=pl.when(pl.col("_first_raw") == pl.col("_raw"))
            .then(pl.lit("exact"))
            .otherwise(pl.lit("normalised")),
        ).drop("_raw", "_first_file", "_first_line", "_first_raw")
        exact = int((dups.get_column("duplicate_kind") == "exact").sum())
        self.exact += exact
        self.normalised += dups.height - exact
        return dups
