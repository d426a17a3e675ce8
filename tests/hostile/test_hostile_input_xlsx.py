"""A broken or entity-bomb workbook inside a ZIP is refused as a member; the rest of the upload runs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
from hostile_helpers import assert_accounted, file_entry, fw_line, jsonl, mail_csv, run, run_cli, summary


def _workbook(sheets: dict[str, list[str]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row.replace('"', "").split(","))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _replace_part(data: bytes, part: str, new: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, new if info.filename == part else zin.read(info.filename))
    return out.getvalue()


def _bomb(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    entities = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 9))
    bombed = f"<?xml version='1.0'?><!DOCTYPE worksheet [{entities}]>" + sheet.replace(
        "<t>date</t>", "<t>&l8;</t>"
    )
    return _replace_part(data, "xl/worksheets/sheet1.xml", bombed.encode())


def _upload(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "upload.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_broken_and_bomb_workbooks_are_refused_members_and_the_rest_runs(tmp_path: Path) -> None:
    good = _workbook({"mail": mail_csv(5)})
    broken = _replace_part(good, "xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row><c")
    upload = _upload(
        tmp_path,
        {
            "a/fw.log": ("\n".join(fw_line(i) for i in range(10)) + "\n").encode(),
            "b/broken.xlsx": broken,
            "c/bomb.xlsx": _bomb(good),
            "d/good.xlsx": good,
            "e/mail.csv": ("\n".join(mail_csv(5)) + "\n").encode(),
        },
    )
    out = tmp_path / "run"
    assert run_cli(upload, out).returncode == 0
    data = summary(out)
    refused = {r["member"]: r["reason"] for r in data["refused_members"]}
    assert set(refused) == {"b/broken.xlsx", "c/bomb.xlsx"}
    assert all("unreadable XLSX" in reason for reason in refused.values())
    assert data["events"] == 10 + 5  # the CSV repeats the good workbook's rows
    assert file_entry(out, "d/good.xlsx")["events"] == 5
    assert_accounted(out)


def test_a_later_sheet_that_breaks_mid_file_costs_the_rest_of_that_file_only(tmp_path: Path) -> None:
    rows = mail_csv(1500)  # more than the detection sample, so the second sheet is reached while parsing
    data = _workbook({"mail": rows, "more": mail_csv(3)})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet2 = zf.read("xl/worksheets/sheet2.xml")
    data = _replace_part(data, "xl/worksheets/sheet2.xml", sheet2[: len(sheet2) * 3 // 4])  # cut short
    upload = _upload(tmp_path, {"wb.xlsx": data, "fw.log": (fw_line(1) + "\n").encode()})
    out = tmp_path / "run"
    run(upload, out)
    entry = file_entry(out, "wb.xlsx")
    assert entry["events"] == 1500 and entry["rejects"] >= 1
    reasons = [r["reason"] for r in jsonl(out / "rejects.jsonl") if r["file"] == "wb.xlsx"]
    assert any("unreadable XLSX sheet" in reason for reason in reasons)
    assert file_entry(out, "fw.log")["events"] == 1
    assert_accounted(out)
