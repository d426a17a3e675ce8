import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.clean.dedup import Deduplicator, _History


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


def _reference() -> Deduplicator:
    dedup = Deduplicator()
    dedup._native = None  # the sorted-run history, the reference of the compiled one
    return dedup


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["g1", "g2"]),
            st.lists(
                st.tuples(st.sampled_from("abcdefgh"), st.sampled_from(["raw", "RAW"]), st.booleans()),
                max_size=15,
            ),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_compiled_history_matches_the_reference(
    batches: list[tuple[str, list[tuple[str, str, bool]]]],
) -> None:
    """Same duplicates, origins and kinds from the compiled hash map as from the sorted runs, across
    groups, files and batches, null lines included; and the compiled map really ran."""
    from ppcti.native import native_module

    module = native_module()
    if module is None or not hasattr(module, "SeenEvents"):
        pytest.skip("ppcti-native not built")
    compiled, reference = Deduplicator(), _reference()
    assert compiled._native is module.SeenEvents
    for number, (group, rows) in enumerate(batches):
        frame = pl.DataFrame(
            {
                "source_file": [f"f{number % 3}"] * len(rows),
                "line": [None if missing else i + 1 for i, (_, _, missing) in enumerate(rows)],
                "value": [v for v, _, _ in rows],
                "raw": [v + r for v, r, _ in rows],
            },
            schema={"source_file": pl.String, "line": pl.Int64, "value": pl.String, "raw": pl.String},
        )
        got = compiled.mark(frame, group=group, key_columns=["value"], keep=("line", "raw"))
        want = reference.mark(frame, group=group, key_columns=["value"], keep=("line", "raw"))
        assert (got[0] is None) == (want[0] is None)
        if got[0] is not None:
            assert got[0].to_list() == want[0].to_list()
        assert got[1].equals(want[1])
    assert (compiled.exact, compiled.normalised) == (reference.exact, reference.normalised)
    assert all(not isinstance(h, _History) for h in compiled._seen.values())
