"""ppcti.cleaned: neutralised CSV rows parse back to the same cells (plus the ``'``), the originals file
restores every changed cell, and cleaned paths stay short, contained and distinct."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from native_marks import native_part
from ppcti.cleaned import FORMULA_START, NAME_MAX, ORIGINALS_SUFFIX, CleanedFiles, CleanedWriter, neutralise

native, needs_risky_rows = native_part("risky_rows")

cells = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12)


@given(
    st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=8),
    st.sampled_from([",", ";", "\t", "|", "^"]),
)
def test_rows_round_trip_through_neutralisation(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], delimiter: str
) -> None:
    folder = tmp_path_factory.mktemp("cleaned")
    path = folder / "mail.csv"
    lines = []
    for row in rows:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator="").writerow(row)
        lines.append(buffer.getvalue())
    with CleanedWriter(path, delimiter=delimiter) as writer:
        writer.write_header(delimiter.join("abc"))
        writer.write(pl.DataFrame({"cleaned": lines}), pl.Series(range(2, 2 + len(rows))))
    with open(path, encoding="utf-8", newline="") as handle:
        parsed = list(csv.reader(handle, delimiter=delimiter))
    assert parsed[0] == ["a", "b", "c"]
    assert len(parsed) == len(rows) + 1
    restored = [list(r) for r in parsed[1:]]
    sidecar = path.with_name(path.name + ".originals.jsonl")
    if sidecar.exists():
        for line in sidecar.read_bytes().splitlines():
            item = orjson.loads(line)
            column = "abc".index(item["column"])
            assert restored[item["line"] - 2][column] == "'" + item["value"]
            restored[item["line"] - 2][column] = item["value"]
    assert restored == rows
    for record in parsed[1:]:
        assert all(not c or c[0] not in FORMULA_START for c in record)


# entries made of the characters the pattern looks at, and some others
_entries = st.text(st.sampled_from(list(',;\t|"=+-@\r\n a1é\u2028')), max_size=14)


@needs_risky_rows
@given(st.lists(st.none() | _entries, min_size=1, max_size=30), st.sampled_from([",", ";", "\t", "|", "^"]))
def test_compiled_scan_finds_the_rows_the_pattern_finds(
    tmp_path_factory: pytest.TempPathFactory, entries: list[str | None], delimiter: str
) -> None:
    writer = CleanedWriter(tmp_path_factory.mktemp("risky") / "x.csv", delimiter=delimiter)
    writer.close()
    column = pl.Series(entries, dtype=pl.String).fill_null("")
    expected = column.str.contains(writer._risky).arg_true().to_list()
    assert native is not None
    assert native.risky_rows(column.to_frame(), delimiter) == expected
    assert writer._risky_rows(column).to_list() == expected


@needs_risky_rows
def test_the_writer_uses_the_compiled_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    class Spy:
        def risky_rows(self, table: pl.DataFrame, delimiter: str) -> list[int]:
            calls.append(table.height)
            assert native is not None
            return native.risky_rows(table, delimiter)

    monkeypatch.setattr("ppcti.cleaned.native_module", Spy)
    path = tmp_path / "x.csv"
    with CleanedWriter(path, delimiter=",") as writer:
        writer.write_header("a,b")
        writer.write(pl.DataFrame({"cleaned": ["1,2", "=1,2", "3,-4"]}), pl.Series([2, 3, 4]))
    assert calls == [3]
    assert path.read_text().splitlines() == ["a,b", "1,2", "'=1,2", "3,'-4"]


@given(cells)
def test_neutralise_only_changes_formula_starts(cell: str) -> None:
    safe = neutralise(cell)
    if cell and cell[0] in FORMULA_START:
        assert safe == "'" + cell
    else:
        assert safe is cell


def test_paths_are_short_contained_and_distinct(tmp_path: Path) -> None:
    files = CleanedFiles(tmp_path / "cleaned")
    names = ["a" * 400 + ".log", "a" * 400 + ".log", "../../etc/passwd", "/abs/x.csv", "X.CSV", "x.csv"]
    names.append("é" * 300)
    paths = [files.place(n) for n in names]
    assert len({p.as_posix().casefold() for p in paths}) == len(paths)
    for p in paths:
        assert p.resolve().is_relative_to((tmp_path / "cleaned").resolve())
        # the originals file beside each copy must fit too
        assert all(len(part.encode()) + len(ORIGINALS_SUFFIX) <= NAME_MAX for part in p.parts[-2:])
        p.write_text("ok")  # the file system takes every one of them
