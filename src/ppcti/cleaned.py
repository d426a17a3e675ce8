"""The cleaned copy of each input file: where it goes under ``cleaned/``, and CSV cells made safe.

Names come from archive members, which may be as long as a ZIP allows (65,535 bytes) while a file system
takes 255 bytes per name, and two inputs may clean to the same name (``mail.xlsx`` and ``mail.csv`` both
become ``mail.csv``): :class:`CleanedFiles` gives every input its own path, each part shortened with a
digest of the whole name when too long.

A cleaned CSV is opened by analysts in spreadsheets, which run a cell that starts with ``=``, ``+``,
``-`` or ``@`` (and, in some, tab or carriage return before them) as a formula: ``=HYPERLINK(...)`` or
``=cmd|' /C calc'!A0`` in an attacker's e-mail subject would run on the analyst's machine. As OWASP's
"CSV Injection" advice says, such cells get a leading ``'`` and every row is written with proper CSV
quoting (a value with a line break is quoted, so it cannot start a row of its own). The original value
of each changed cell is kept in ``<name>.originals.jsonl`` beside it (``line``, ``column``, ``value``)
for analysts who need it; ``events.jsonl`` always holds values unchanged.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path, PurePosixPath
from typing import IO, Any

import orjson
import polars as pl

from ppcti.native import native_module
from ppcti.outputs import write_lines

#: Bytes a file system takes for one name (ext4, XFS, btrfs, APFS, NTFS in UTF-16 units).
NAME_MAX = 255
#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV Injection).
FORMULA_START = frozenset("=+-@\t\r\n")
ORIGINALS_SUFFIX = ".originals.jsonl"


def _short(part: str, limit: int) -> str:
    """``part`` in at most ``limit`` UTF-8 bytes: cut, then a digest of the whole, the suffix kept."""
    if len(part.encode("utf-8")) <= limit:
        return part
    digest = hashlib.sha256(part.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    suffix = PurePosixPath(part).suffix
    if len(suffix.encode("utf-8")) > 16:
        suffix = ""
    room = limit - len(digest) - 1 - len(suffix.encode("utf-8"))
    head = part.encode("utf-8")[:room].decode("utf-8", "ignore")
    return f"{head}~{digest}{suffix}"


class CleanedFiles:
    """Paths under ``root`` for the cleaned copies of one run: contained, short enough, one per input."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._used: set[str] = set()

    def place(self, name: str) -> Path:
        """A fresh path for the cleaned copy named ``name`` (a relative POSIX path from a format)."""
        room = NAME_MAX - len(ORIGINALS_SUFFIX) - 4  # the sidecar and a "~NN" must still fit
        parts = [_short(p, room) for p in PurePosixPath(name).parts if p not in ("", ".", "..", "/")]
        parts = parts or ["file"]
        stem, n = parts[-1], 1
        while "/".join(parts).casefold() in self._used:
            n += 1
            path = PurePosixPath(stem)
            parts[-1] = f"{path.stem}~{n}{path.suffix}"
        self._used.add("/".join(parts).casefold())
        path = self.root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


def neutralise(cell: str) -> str:
    """``cell`` as a spreadsheet shows it as text: a leading ``'`` when it would start a formula."""
    return "'" + cell if cell and cell[0] in FORMULA_START else cell


#: Characters that stand for line breaks while a line is parsed (two of them are absent from any line).
_STAND_INS = ("\ue000", "\ue001", "\ue002", "\ue003", "\U000f0000", "\U000f0001")


def _cells(line: str, delimiter: str) -> list[str]:
    """The cells of one CSV entry, also when a line break inside a cell was left unquoted (a CSV writer
    with an empty line terminator does not quote ``\n``): line breaks are read as plain characters."""
    if "\n" not in line and "\r" not in line:
        return next(csv.reader([line], delimiter=delimiter), [])
    cr, lf = [c for c in _STAND_INS if c not in line][:2]
    flat = line.replace("\r", cr).replace("\n", lf)
    cells = next(csv.reader([flat], delimiter=delimiter), [])
    return [c.replace(cr, "\r").replace(lf, "\n") for c in cells]


class CleanedWriter:
    """Writes one cleaned copy; CSV entries (a format that gave a header) cell by cell, made safe."""

    def __init__(self, path: Path, *, delimiter: str = ",") -> None:
        self.path = path
        self.delimiter = delimiter
        self.header: list[str] | None = None
        self.changed = 0
        self._handle: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed by close()
        escaped = "\\" + delimiter if delimiter in "]\\^-[" else delimiter
        d = "\\t" if delimiter == "\t" else f"[{escaped}]"
        #: An entry that may hold a cell starting a formula, or a line break anywhere.
        self._risky = f'(?:^|{d})"?[=+\\-@\\t]|[\\r\\n]'
        self._originals: IO[bytes] | None = None

    def write_header(self, header: str) -> None:
        self.header = _cells(header, self.delimiter)
        self._handle.write(self._row([neutralise(c) for c in self.header]))

    def write(self, lines: pl.DataFrame, numbers: pl.Series | None = None) -> None:
        """One-column frame of entries; ``numbers`` are their line numbers (for the originals file).

        Only entries that may hold a formula cell or a line break (:meth:`_risky_rows`) are
        parsed and rewritten cell by cell; the others are already proper CSV and are written as they
        are, so safety costs little where there is nothing to neutralise (``bench/outputs.py``).
        """
        if self.header is None:
            write_lines(lines, self._handle)  # not CSV: the lines exactly as they are
            return
        column = lines.to_series().fill_null("")
        where = self._risky_rows(column)
        if where.len():
            texts = column.gather(where).to_list()
            numbered = numbers.gather(where).to_list() if numbers is not None else [None] * len(texts)
            safe = [self._safe(text, number) for text, number in zip(texts, numbered, strict=True)]
            column = column.scatter(where, pl.Series(safe, dtype=pl.String))
        write_lines(column.to_frame(), self._handle)

    def _risky_rows(self, column: pl.Series) -> pl.Series:
        """The indexes of the entries that may hold a formula cell or a line break: one compiled byte
        scan per entry when ``ppcti-native`` is built, the pattern ``_risky`` otherwise."""
        module = native_module()
        plain = len(self.delimiter) == 1 and self.delimiter.isascii() and column.dtype == pl.String
        if module is not None and hasattr(module, "risky_rows") and plain:
            return pl.Series(module.risky_rows(column.to_frame(), self.delimiter), dtype=pl.UInt32)
        return column.str.contains(self._risky).arg_true()

    def _safe(self, text: str, number: Any) -> str:
        cells = _cells(text, self.delimiter)
        safe = [neutralise(c) for c in cells]
        for index, (cell, new) in enumerate(zip(cells, safe, strict=True)):
            if cell is not new:
                self._original(number, index, cell)
        return self._text(safe)

    def _text(self, cells: list[str]) -> str:
        """One CSV record without its end; a cell holding ``\r`` or ``\n`` is quoted (the csv module
        quotes only the characters of its line terminator, hence ``\r\n`` here, then cut)."""
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=self.delimiter, lineterminator="\r\n").writerow(cells)
        return buffer.getvalue()[:-2]

    def _row(self, cells: list[str]) -> bytes:
        return self._text(cells).encode("utf-8", "surrogateescape") + b"\n"

    def _original(self, line: Any, index: int, value: str) -> None:
        if self._originals is None:
            self._originals = open(self.path.with_name(self.path.name + ORIGINALS_SUFFIX), "wb")  # noqa: SIM115
        column: Any = self.header[index] if self.header and index < len(self.header) else index
        self._originals.write(orjson.dumps({"line": line, "column": column, "value": value}) + b"\n")
        self.changed += 1

    def close(self) -> None:
        self._handle.close()
        if self._originals is not None:
            self._originals.close()

    def __enter__(self) -> CleanedWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
