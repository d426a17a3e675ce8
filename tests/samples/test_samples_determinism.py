"""Same seed, same bytes; another seed, other data; the upload ZIP is complete and reproducible."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import samples_refparse as ref
from hypothesis import given, settings
from hypothesis import strategies as st

from ppcti.errors import ConfigError
from ppcti.samples import GeneratedSet, generate, load_ground_truth


def _tree(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


def test_same_seed_gives_identical_bytes(tmp_path: Path, default_set: GeneratedSet) -> None:
    again = generate(tmp_path / "again")
    first, second = _tree(default_set.out), _tree(again.out)
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name


def test_different_seed_gives_different_data(tmp_path: Path, default_set: GeneratedSet) -> None:
    other = _tree(generate(tmp_path / "other", seed=8, make_zip=False).out)
    base = _tree(default_set.out)
    for item in default_set.files:
        assert other[item.name] != base[item.name], item.name


def test_zip_holds_every_data_file_with_fixed_dates(default_set: GeneratedSet) -> None:
    assert default_set.zip_path is not None
    with zipfile.ZipFile(default_set.zip_path) as archive:
        names = archive.namelist()
        assert names == [f.name for f in default_set.files]
        for info in archive.infolist():
            assert info.date_time == (2023, 3, 1, 0, 0, 0)
            assert archive.read(info) == (default_set.out / info.filename).read_bytes()
    suffixes = {Path(n).suffix for n in names}
    assert {".json", ".jsonl", ".csv", ".txt", ".log", ".xlsx"} <= suffixes
    assert "ground_truth.jsonl" not in names


def test_xlsx_document_dates_are_fixed(default_set: GeneratedSet) -> None:
    xlsx = next(f.path for f in default_set.files if f.path.suffix == ".xlsx")
    with zipfile.ZipFile(xlsx) as archive:
        core = archive.read("docProps/core.xml")
        assert core.count(b"2023-03-01T00:00:00Z") == 2
        assert {i.date_time for i in archive.infolist()} == {(2023, 3, 1, 0, 0, 0)}


def test_rows_are_split_over_files_per_format(default_set: GeneratedSet) -> None:
    for fmt in ("firewall-text", "email-csv", "events-json"):
        assert sum(f.entries for f in default_set.by_format(fmt)) == 300


def test_bad_arguments_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least"):
        generate(tmp_path, rows=5)
    with pytest.raises(ConfigError, match="unknown format"):
        generate(tmp_path, formats=("syslog",))


def test_without_ground_truth_the_data_is_unchanged(tmp_path: Path, default_set: GeneratedSet) -> None:
    bare = generate(tmp_path, ground_truth=False, make_zip=False)
    assert not (tmp_path / "ground_truth.jsonl").exists()
    for item in bare.files:
        assert item.path.read_bytes() == (default_set.out / item.name).read_bytes()
        assert item.entries == next(f.entries for f in default_set.files if f.name == item.name)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32), rows=st.integers(20, 400))
def test_any_seed_and_size_is_deterministic_and_complete(
    tmp_path_factory: pytest.TempPathFactory, seed: int, rows: int
) -> None:
    one = tmp_path_factory.mktemp("a")
    two = tmp_path_factory.mktemp("b")
    first = generate(one, rows=rows, seed=seed, make_zip=False)
    generate(two, rows=rows, seed=seed, make_zip=False)
    assert _tree(one) == _tree(two)
    truth = load_ground_truth(first.ground_truth)
    assert len(truth) == 3 * rows
    lines = [(r["source_file"], r["line"]) for r in truth]
    assert len(set(lines)) == len(lines)
    for record in truth:
        if record["expect"] == "duplicate":
            assert (record["source_file"], record["of_line"]) in set(lines)
    ref.check_against_reference(first)


def test_large_json_array_keeps_one_element_per_line(tmp_path: Path) -> None:
    # 12,000 entries put 4,800 in the EVE array: more than one write batch (4,096).
    result = generate(tmp_path, rows=12_000, formats=("events-json",), make_zip=False, ground_truth=False)
    eve = next(f for f in result.files if f.name.endswith(".json"))
    items = ref.json_items(eve.path)  # asserts the line layout and that the array parses
    assert len(items) == eve.entries == 4_800
