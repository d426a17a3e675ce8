"""Text files that are mostly text: a few binary lines, mixed encodings (one place decides)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_helpers import assert_accounted, file_entry, fw_line, jsonl, mail_csv, run

from ppcti.clean.minimise import load_profile
from ppcti.ingest import Limits, open_upload
from ppcti.ingest.detect import detect_encoding
from ppcti.ingest.textcodec import NAME as MIXED


@pytest.mark.parametrize("native", ["1", "0"])
def test_nul_bytes_near_the_start_of_a_firewall_log_cost_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, native: str
) -> None:
    monkeypatch.setenv("PPCTI_NATIVE", native)
    lines = [fw_line(i) for i in range(2000)]
    lines[3] = "\x00" * 300 + lines[3][20:]  # what an unclean shutdown leaves in a syslog file
    path = tmp_path / "fw.log"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"
    run(path, out)
    entry = file_entry(out, "fw.log")
    assert (entry["format"], entry["events"], entry["rejects"]) == ("firewall-text", 1999, 1)
    [reject] = jsonl(out / "rejects.jsonl")
    assert reject["line"] == 4 and "binary" in reject["reason"]
    assert "blank_lines" not in entry["notes"]
    assert_accounted(out)


def test_a_few_binary_lines_in_an_email_csv_are_rejected_alone(tmp_path: Path) -> None:
    lines = mail_csv(500)
    lines[10] = "\x00\x01\x02garbage\x00" * 10
    path = tmp_path / "mail.csv"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"
    run(path, out)
    entry = file_entry(out, "mail.csv")
    assert (entry["format"], entry["events"], entry["rejects"]) == ("email-csv", 499, 1)
    [reject] = jsonl(out / "rejects.jsonl")
    assert reject["line"] == 11 and "binary" in reject["reason"]
    assert_accounted(out)


def test_binary_decided_over_the_whole_file_not_its_head(tmp_path: Path) -> None:
    blob = bytes(range(256)) * 4000  # 1 MB of binary after a text-looking head
    path = tmp_path / "x.log"
    path.write_bytes(("\n".join(fw_line(i) for i in range(600)) + "\n").encode() + blob)
    with pytest.raises(Exception, match="binary"):
        detect_encoding(path)


def test_mixed_utf8_and_latin1_lines_are_decoded_line_by_line(tmp_path: Path) -> None:
    lines = mail_csv(50, subject="Grüße café")
    raw = [line.encode("utf-8") for line in lines]
    raw[7] = lines[7].encode("cp1252")
    lines[30] = lines[30].replace("Grüße", "Gr\x81ße")
    raw[30] = lines[30].encode("latin-1")  # 0x81 is no cp1252 character: latin-1
    path = tmp_path / "mail.csv"
    path.write_bytes(b"\n".join(raw) + b"\n")
    with open_upload(path, holder="acme", workdir=tmp_path) as up:
        [source] = up.files
        assert source.encoding == MIXED
        assert "2 lines not valid UTF-8" in source.warnings[0]
        text = [line for batch in source.iter_line_batches(Limits()) for line in batch.lines]
    assert text[1] == lines[1] and text[7] == lines[7] and text[30] == lines[30]
    out = tmp_path / "run"
    run(path, out, profile=load_profile("full"))
    events = jsonl(out / "events.jsonl")
    subjects = {e["line"]: e["extra"]["subject"] for e in events}
    assert subjects[2] == "Grüße café 0" and subjects[8] == "Grüße café 6"
    assert subjects[31] == "Gr\x81ße café 29"
    assert_accounted(out)
