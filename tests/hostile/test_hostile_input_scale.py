"""Many small files: what each file costs must not grow with the files before it.

No timings here (``bench/many_files.py`` measures them): the tests check the structure that keeps the
cost per file flat, and that the faster structure finds exactly the duplicates a plain set finds.
"""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ppcti.clean.dedup import Deduplicator


def _batch(file: str, values: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source_file": [file] * len(values),
            "line": list(range(1, len(values) + 1)),
            "value": values,
            "raw": values,
        },
        schema={"source_file": pl.String, "line": pl.Int64, "value": pl.String, "raw": pl.String},
    )


@pytest.mark.parametrize("compiled", [False, True])
def test_history_of_thousands_of_small_files_stays_a_few_sorted_runs(compiled: bool) -> None:
    dedup = Deduplicator()
    if not compiled:
        dedup._native = None  # the reference: sorted runs
    elif dedup._native is None:
        pytest.skip("ppcti-native not built")
    files = 3000
    for i in range(files):
        dedup.split(_batch(f"f{i}.log", [f"v{i}", f"w{i}"]), group="g", key_columns=["value"])
    if compiled:
        assert len(dedup._seen["g"]) == 2 * files  # one hash-map entry per distinct event
    else:
        runs = dedup._seen["g"].runs
        # each probe costs one binary search per run: logarithmic in the history, not linear in the files
        assert len(runs) <= 2 * math.log2(2 * files) + 1
        assert sum(run.height for run, _ in runs) == 2 * files
    kept, dups = dedup.split(_batch("last.log", ["v7", "new", "w2999"]), group="g", key_columns=["value"])
    assert kept.get_column("value").to_list() == ["new"]
    assert dups.get_column("duplicate_of").to_list() == ["f7.log:1", "f2999.log:2"]


@settings(max_examples=40)
@given(batches=st.lists(st.lists(st.sampled_from("abcdefghij"), max_size=6), max_size=40))
def test_duplicates_are_exactly_those_a_set_finds(batches: list[list[str]]) -> None:
    dedup = Deduplicator()
    seen: dict[str, str] = {}
    for i, values in enumerate(batches):
        name = f"f{i}"
        kept, dups = dedup.split(_batch(name, values), group="g", key_columns=["value"])
        expected_kept, expected_of = [], []
        for line, value in enumerate(values, 1):
            if value in seen:
                expected_of.append(seen[value])
            else:
                seen[value] = f"{name}:{line}"
                expected_kept.append(value)
        assert kept.get_column("value").to_list() == expected_kept
        assert dups.get_column("duplicate_of").to_list() == expected_of
