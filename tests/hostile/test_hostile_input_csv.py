"""CSV exports with one bad row: the rows after it are read, the bad span is rejected with its line."""

from __future__ import annotations

from pathlib import Path

from hostile_helpers import assert_accounted, file_entry, jsonl, mail_csv, run
from hypothesis import given, settings
from hypothesis import strategies as st


def _write(tmp_path: Path, lines: list[str], name: str = "mail.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_one_stray_quote_early_in_a_long_export_costs_one_row(tmp_path: Path) -> None:
    lines = mail_csv(5000)
    lines[3] = lines[3].replace(",spam", ',"spam')  # an unclosed quote on line 4
    out = tmp_path / "run"
    run(_write(tmp_path, lines), out)
    entry = file_entry(out, "mail.csv")
    assert (entry["events"], entry["rejects"]) == (4999, 1)
    [reject] = jsonl(out / "rejects.jsonl")
    assert (reject["file"], reject["line"]) == ("mail.csv", 4)
    assert "unbalanced quote" in reject["reason"] and reject["raw"] == lines[3]
    assert_accounted(out)


def test_a_quote_that_never_closes_near_the_end(tmp_path: Path) -> None:
    lines = mail_csv(40)
    lines = [line.replace('"', "") for line in lines]  # no quotes anywhere to close it
    lines[20] = lines[20].replace("Invoice", '"Invoice')
    out = tmp_path / "run"
    run(_write(tmp_path, lines), out)
    entry = file_entry(out, "mail.csv")
    assert (entry["events"], entry["rejects"]) == (39, 1)
    assert jsonl(out / "rejects.jsonl")[0]["line"] == 21


def test_a_field_over_the_csv_field_limit_is_one_reject(tmp_path: Path) -> None:
    lines = mail_csv(300)
    lines[5] = lines[5].replace("Invoice", "x" * 200_000)  # over csv's 131,072-character field limit
    out = tmp_path / "run"
    run(_write(tmp_path, lines), out)
    entry = file_entry(out, "mail.csv")
    assert (entry["events"], entry["rejects"]) == (299, 1)
    [reject] = jsonl(out / "rejects.jsonl")
    assert reject["line"] == 6 and "field" in reject["reason"] and len(reject["raw"]) <= 200


def test_a_row_over_the_line_limit_is_one_reject(tmp_path: Path) -> None:
    lines = mail_csv(300)
    lines[5] = lines[5].replace("Invoice", "x" * 1_500_000)  # a 1.5 MB subject
    out = tmp_path / "run"
    run(_write(tmp_path, lines), out)
    entry = file_entry(out, "mail.csv")
    assert (entry["events"], entry["rejects"]) == (299, 1)
    assert jsonl(out / "rejects.jsonl")[0]["line"] == 6


def test_a_real_multi_line_field_is_kept(tmp_path: Path) -> None:
    lines = mail_csv(10)
    lines[4] = lines[4].replace("Invoice", "Invoice\nsecond line of the subject")
    out = tmp_path / "run"
    run(_write(tmp_path, lines), out)
    entry = file_entry(out, "mail.csv")
    assert (entry["events"], entry["rejects"]) == (10, 0)
    lines_seen = [e["line"] for e in jsonl(out / "events.jsonl")]
    assert lines_seen[3:5] == [5, 7]  # the record on lines 5-6, the next one on line 7


@settings(max_examples=25)
@given(
    spots=st.lists(st.tuples(st.integers(1, 199), st.integers(0, 60)), max_size=6, unique_by=lambda t: t[0])
)
def test_stray_quotes_anywhere_lose_at_most_their_own_rows(tmp_path_factory, spots) -> None:
    tmp_path = tmp_path_factory.mktemp("q")
    lines = mail_csv(200)
    for row, at in spots:
        text = lines[row]
        lines[row] = text[:at] + '"' + text[at:]
    out = tmp_path / "run"
    run(_write(tmp_path, lines), out)
    entry = file_entry(out, "mail.csv")
    assert entry["events"] + entry["duplicates"] >= 200 - 2 * len(spots)
    assert_accounted(out)


def test_an_unbalanced_quote_in_the_header_keeps_the_rows(tmp_path: Path) -> None:
    lines = mail_csv(50)
    lines[0] = lines[0].replace("subject", '"subject')
    out = tmp_path / "run"
    run(_write(tmp_path, lines), out)
    entry = file_entry(out, "mail.csv")
    assert (entry["events"], entry["rejects"]) == (50, 0)
    assert_accounted(out)
