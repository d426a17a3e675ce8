from pathlib import Path

import openpyxl
import pytest
from formats_helpers import parse_file, source_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppcti.formats import detect

HEADER = "date,sender,recipients,subject,verdict"


def write(tmp_path: Path, rows: list[str], name: str = "mail.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_clean_rows_with_variable_recipients(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            "2023-03-07 10:38:03,<Alice@Example.COM>,bob@corp.example;carol@corp.example,Hello,spam",
            '07/03/2023 10:39,"dave@example.org",<-erin@Corp.Example,Invoice,phishing',
        ],
    )
    events, rejects = parse_file(path, "email-csv")
    assert rejects == []
    rows = events.to_dicts()
    assert rows[0]["timestamp"] == "2023-03-07T10:38:03Z"
    assert rows[0]["emails"] == ["Alice@example.com", "bob@corp.example", "carol@corp.example"]
    assert rows[0]["extra"]["sender"] == "Alice@example.com"
    assert rows[0]["extra"]["recipients"] == ["bob@corp.example", "carol@corp.example"]
    assert rows[1]["emails"] == ["dave@example.org", "erin@corp.example"]
    assert rows[1]["extra"]["verdict"] == "phishing"
    assert rows[0]["line"] == 2 and rows[1]["line"] == 3


def test_repairs_and_rejects(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            "2023-03-07 10:38:03,a@b.com,c@corp.example,e@corp.example,Invoice, urgent,spam",  # spill + comma
            "2023-03-07 10:38:04a@b.com,c@corp.example,Hello,clean",  # missing comma
            "2023-03-07 10:38:05,a@b.comc@corp.example,Hello,clean",  # glued addresses: ambiguous
            "not a date,a@b.com,c@corp.example,Hello,clean",
        ],
    )
    events, rejects = parse_file(path, "email-csv")
    rows = events.to_dicts()
    assert [r["line"] for r in rows] == [2, 3]
    assert rows[0]["extra"]["subject"] == "Invoice, urgent" and rows[0]["extra"]["repaired"] == "extra"
    assert rows[0]["emails"] == ["a@b.com", "c@corp.example", "e@corp.example"]
    assert rows[1]["extra"]["repaired"] == "merged" and rows[1]["timestamp"] == "2023-03-07T10:38:04Z"
    assert [(r.line, r.stage) for r in rejects] == [(4, "repair"), (5, "parse")]
    assert "ambiguous" in rejects[0].reason or "no repair" in rejects[0].reason
    assert rejects[1].reason == "column 'date' does not hold a valid date"


def test_cleaned_rows_are_normalised_csv(tmp_path: Path) -> None:
    path = write(tmp_path, ["2023-03-07 10:38:03,<a@B.com>,c@Corp.Example,Hi,spam"])
    events, _ = parse_file(path, "email-csv")
    assert events.get_column("cleaned").to_list() == ["2023-03-07T10:38:03Z,a@b.com,c@corp.example,Hi,spam"]
    assert events.get_column("raw").to_list() == ["2023-03-07 10:38:03,<a@B.com>,c@Corp.Example,Hi,spam"]


def test_xlsx_sheet_is_read_like_csv(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["2023-03-07 10:38:03", "a@b.com", "c@corp.example", "Hi", "spam"])
    path = tmp_path / "mail.xlsx"
    book.save(path)
    events, rejects = parse_file(path, "email-csv")
    assert rejects == []
    assert events.to_dicts()[0]["emails"] == ["a@b.com", "c@corp.example"]
    with source_for(path) as source:
        assert detect(source).format == "email-csv"


def test_detection_prefers_email_csv_for_mail_exports(tmp_path: Path) -> None:
    path = write(tmp_path, ["2023-03-07 10:38:03,a@b.com,c@corp.example,Hi,spam"] * 3)
    with source_for(path) as source:
        detection = detect(source)
    assert detection.format == "email-csv" and detection.score >= 0.8


cell = st.text(alphabet='abc@.,;<>"- 0123:', max_size=14)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(cell, min_size=1, max_size=8), min_size=1, max_size=15))
def test_every_row_is_an_event_or_a_reject(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]]
) -> None:
    lines = ["2023-03-07 10:38:03," + ",".join(r) for r in rows]
    path = write(tmp_path_factory.mktemp("mail"), lines)
    events, rejects = parse_file(path, "email-csv")
    lines_seen = events.get_column("line").to_list() + [r.line for r in rejects]
    assert len(lines_seen) == len(set(lines_seen))
    assert set(lines_seen) <= set(range(2, len(rows) + 2))
