import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from ppcti.clean.dedup import Deduplicator


def batch(file: str, rows: list[tuple[int, str, str]]) -> pl.DataFrame:
    """rows of (line, normalised value, raw text)."""
    return pl.DataFrame(
        {
            "source_file": [file] * len(rows),
            "line": [r[0] for r in rows],
            "value": [r[1] for r in rows],
            "raw": [r[2] for r in rows],
        },
        schema={"source_file": pl.String, "line": pl.Int64, "value": pl.String, "raw": pl.String},
    )


def test_within_and_across_batches_and_files() -> None:
    dedup = Deduplicator()
    kept, dups = dedup.split(
        batch("a.log", [(1, "x", "X"), (2, "y", "Y"), (3, "x", "X")]), group="g", key_columns=["value"]
    )
    assert kept.get_column("line").to_list() == [1, 2]
    assert dups.select("line", "duplicate_of", "duplicate_kind").rows() == [(3, "a.log:1", "exact")]
    kept, dups = dedup.split(
        batch("b.log", [(1, "y", "y written otherwise"), (2, "z", "Z")]), group="g", key_columns=["value"]
    )
    assert kept.get_column("line").to_list() == [2]
    assert dups.select("line", "duplicate_of", "duplicate_kind").rows() == [(1, "a.log:2", "normalised")]
    assert (dedup.exact, dedup.normalised) == (1, 1)


def test_groups_never_match_each_other() -> None:
    dedup = Deduplicator()
    dedup.split(batch("a", [(1, "x", "X")]), group="one", key_columns=["value"])
    kept, dups = dedup.split(batch("b", [(1, "x", "X")]), group="two", key_columns=["value"])
    assert kept.height == 1 and dups.height == 0


@given(st.lists(st.lists(st.sampled_from("abcdef"), max_size=12), min_size=1, max_size=6))
def test_matches_a_reference_set(batches: list[list[str]]) -> None:
    dedup = Deduplicator()
    seen: dict[str, str] = {}
    for number, values in enumerate(batches):
        file = f"f{number}"
        rows = [(i + 1, v, v) for i, v in enumerate(values)]
        kept, dups = dedup.split(batch(file, rows), group="g", key_columns=["value"])
        expected_kept, expected_dups = [], []
        for line, value, _ in rows:
            if value in seen:
                expected_dups.append((line, seen[value]))
            else:
                seen[value] = f"{file}:{line}"
                expected_kept.append(line)
        assert kept.get_column("line").to_list() == expected_kept
        assert dups.select("line", "duplicate_of").rows() == expected_dups


def test_mark_leaves_the_batch_whole_and_keeps_the_columns_asked_for() -> None:
    dedup = Deduplicator()
    rows = batch("a.log", [(1, "x", "X"), (2, "y", "Y"), (3, "x", "X2")])
    duplicate, dups = dedup.mark(rows, group="g", key_columns=["value"], keep=("line", "raw"))
    assert duplicate is not None and duplicate.to_list() == [False, False, True]
    assert dups.columns == ["line", "raw", "duplicate_of", "duplicate_kind"]
    assert dups.rows() == [(3, "X2", "a.log:1", "normalised")]
    duplicate, dups = dedup.mark(
        batch("b.log", [(1, "z", "Z")]), group="g", key_columns=["value"], keep=("line",)
    )
    assert (
        duplicate is None and dups.columns == ["line", "duplicate_of", "duplicate_kind"] and dups.height == 0
    )
