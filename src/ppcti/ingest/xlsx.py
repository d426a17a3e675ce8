"""XLSX workbooks: recognised by content, checked against the archive limits, streamed read-only.

An XLSX file is itself a ZIP of XML parts, so it gets the same suspicion as an uploaded archive before
openpyxl touches it: part count, declared sizes and compression ratios are checked. Python's
:mod:`zipfile` never inflates a part past its declared size, so checking the declared sizes bounds what
openpyxl can be made to decompress. XML entity expansion is bounded by the expat version bundled with
Python 3.11 (>= 2.4.1 refuses "billion laughs" amplification); installing ``defusedxml`` makes openpyxl
use it as well.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from ppcti.errors import FormatError
from ppcti.ingest.limits import Limits, human_bytes

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


def is_zip(head: bytes) -> bool:
    return head[:4] in ZIP_MAGICS


def is_xlsx(zf: zipfile.ZipFile) -> bool:
    """An Office Open XML spreadsheet: a content-types part plus the ``xl/`` tree."""
    names = zf.namelist()
    return "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names)


def xlsx_over_limits(zf: zipfile.ZipFile, limits: Limits) -> str | None:
    """Why this workbook's parts are too big to open (``None`` when they are fine)."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        return f"workbook has {len(infos)} parts, over the {limits.max_members} limit"
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            return "encrypted workbook part"
        total += info.file_size
        if info.file_size > limits.ratio_min_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                return f"workbook part compression ratio {ratio:.0f} > {limits.max_ratio:g}"
    if total > limits.max_member_bytes:
        return f"workbook uncompressed size over {human_bytes(limits.max_member_bytes)} limit"
    return None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def iter_rows(path: Path) -> Iterator[tuple[str, int, list[object]]]:
    """``(sheet name, 1-based row number, cell values)`` for every row of every worksheet, streamed.

    Empty rows inside a sheet are yielded as empty lists so row numbers stay those a user sees in a
    spreadsheet program; trailing empty cells are dropped. A workbook openpyxl cannot read raises
    :class:`~ppcti.errors.FormatError` (naming the error type only: its text may quote content).
    """
    import openpyxl

    # A file object, not a path: openpyxl refuses paths whose extension is not .xlsx, and ours come
    # from content detection (an export named .dat is fine).
    with path.open("rb") as fh:
        try:
            with warnings.catch_warnings():
                # openpyxl warns about unsupported extensions and styles: irrelevant to cell values.
                warnings.simplefilter("ignore")
                workbook = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        except Exception as exc:  # third-party parser on untrusted bytes: any failure means unreadable
            raise FormatError(f"unreadable XLSX workbook ({type(exc).__name__})", file=path.name) from exc
        try:
            for name in workbook.sheetnames:
                sheet = workbook[name]
                if not hasattr(sheet, "iter_rows"):
                    continue  # a chart sheet
                sheet.reset_dimensions()  # read-only mode trusts the file's <dimension>, which may lie
                rows = enumerate(sheet.iter_rows(values_only=True), 1)
                while True:
                    try:
                        number, row = next(rows)
                    except StopIteration:
                        break
                    except Exception as exc:
                        raise FormatError(
                            f"unreadable XLSX sheet ({type(exc).__name__})", file=path.name
                        ) from exc
                    values = list(row)
                    while values and values[-1] is None:
                        values.pop()
                    yield name, number, values
        finally:
            workbook.close()


def sample_text(path: Path, max_bytes: int) -> str:
    """The first rows as CSV text (sheets in order), for format scoring."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    with closing(iter_rows(path)) as rows:
        for _sheet, _number, values in rows:
            writer.writerow([_cell_text(v) for v in values])
            if out.tell() >= max_bytes:
                break
    return out.getvalue()[:max_bytes]


#: Bytes of rows read from a workbook when it is accepted, to refuse one openpyxl cannot read.
PROBE_BYTES = 4096


def unreadable_reason(path: Path) -> str | None:
    """Why openpyxl cannot read the start of this workbook (``None`` when it can).

    A broken part or an entity bomb in the first sheet is found when the upload is opened, so the
    workbook is refused as a member with its reason instead of failing later stages.
    """
    try:
        sample_text(path, PROBE_BYTES)
    except FormatError as exc:
        return exc.message
    return None
