"""Duplicate entries, exact and after normalisation, across all files of a run.

A row is a duplicate when its normalised event (every field but ``source_file`` and ``line``) was
seen before; it is *exact* when its raw text also equals the first one's, *normalised* otherwise (the
same event written differently, e.g. another MAC spelling). Duplicates are not dropped silently: the
pipeline writes them to ``rejects.jsonl`` with the line they repeat.

Memory: one 64-bit hash pair and a reference per distinct event (about 40 bytes in a Polars frame), so
10 million distinct events cost about 400 MB; the chance that two distinct events share a 64-bit hash
is about n^2 / 2^65 (3e-6 for 10 million).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

_SEEN_SCHEMA = {"_h": pl.UInt64, "_first_ref": pl.String, "_first_raw": pl.UInt64}


class Deduplicator:
    """Remembers what a run has seen; :meth:`split` partitions each new batch."""

    def __init__(self) -> None:
        self._seen: dict[str, pl.DataFrame] = {}
        self.exact = 0
        self.normalised = 0

    def split(
        self, batch: pl.DataFrame, *, group: str, key_columns: Sequence[str], raw_column: str = "raw"
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Return ``(kept, duplicates)``; ``duplicates`` gains ``duplicate_of`` and ``duplicate_kind``.

        ``group`` separates event shapes that can never repeat each other (one per format), so their
        different ``extra`` structures are never hashed together.
        """
        if batch.height == 0:
            return batch, batch.with_columns(
                duplicate_of=pl.lit(None, pl.String), duplicate_kind=pl.lit(None, pl.String)
            )
        marked = batch.with_columns(
            _h=pl.struct([pl.col(c) for c in key_columns]).hash(seed=7),
            _raw=pl.col(raw_column).hash(seed=11),
            _ref=pl.format("{}:{}", pl.col("source_file"), pl.col("line")),
        ).with_columns(
            _batch_ref=pl.col("_ref").first().over("_h"),
            _batch_raw=pl.col("_raw").first().over("_h"),
            _is_first=pl.col("_h").is_first_distinct(),
        )
        seen = self._seen.get(group, pl.DataFrame(schema=_SEEN_SCHEMA))
        marked = marked.join(seen, on="_h", how="left")
        earlier = pl.col("_first_ref").is_not_null()
        marked = marked.with_columns(
            duplicate_of=pl.when(earlier)
            .then(pl.col("_first_ref"))
            .when(~pl.col("_is_first"))
            .then(pl.col("_batch_ref")),
            _match_raw=pl.when(earlier).then(pl.col("_first_raw")).otherwise(pl.col("_batch_raw")),
        ).with_columns(
            duplicate_kind=pl.when(pl.col("duplicate_of").is_null())
            .then(None)
            .when(pl.col("_match_raw") == pl.col("_raw"))
            .then(pl.lit("exact"))
            .otherwise(pl.lit("normalised"))
        )
        is_dup = pl.col("duplicate_of").is_not_null()
        new_seen = marked.filter(~is_dup).select(
            pl.col("_h"), pl.col("_ref").alias("_first_ref"), pl.col("_raw").alias("_first_raw")
        )
        self._seen[group] = pl.concat([seen, new_seen], how="vertical") if seen.height else new_seen
        helper = [
            "_h",
            "_raw",
            "_ref",
            "_batch_ref",
            "_batch_raw",
            "_is_first",
            "_first_ref",
            "_first_raw",
            "_match_raw",
        ]
        dups = marked.filter(is_dup).drop(helper)
        kept = marked.filter(~is_dup).drop([*helper, "duplicate_of", "duplicate_kind"])
        counts = dups.get_column("duplicate_kind").value_counts()
        for kind, n in counts.iter_rows():
            if kind == "exact":
                self.exact += n
            else:
                self.normalised += n
        return kept, dups
