"""Byte-reproducible ZIP files: the upload archive and the XLSX container.

``zipfile`` stamps members with the current time and openpyxl writes "now" into the workbook's
``docProps/core.xml``; both would make two runs with the same seed differ. Members are written here in
a fixed order with a fixed date, fixed permissions and a fixed compression level.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path

#: Date stamped on every member (the ZIP format cannot store dates before 1980).
FIXED_DATE = (2023, 3, 1, 0, 0, 0)
_FIXED_W3C = b"2023-03-01T00:00:00Z"
_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.create_system = 3
    return info


def deterministic_zip_rewrite(data: bytes, dest: Path) -> None:
    """Copy the ZIP in ``data`` to ``dest`` with fixed member dates and fixed document dates."""
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(dest, "w") as out:
        for name in sorted(src.namelist(), key=lambda n: (n != "[Content_Types].xml", n)):
            body = src.read(name)
            if name == "docProps/core.xml":
                body = _CORE_DATES.sub(lambda m: m.group(1) + _FIXED_W3C + m.group(3), body)
            out.writestr(_info(name), body, compresslevel=6)


def pack(dest: Path, members: Iterable[tuple[str, Path]]) -> None:
    """Write ``dest`` holding each ``(member name, file)``, streamed, in the order given."""
    with zipfile.ZipFile(dest, "w", compresslevel=6) as out:
        for name, path in members:
            big = path.stat().st_size > 1 << 31
            with path.open("rb") as src, out.open(_info(name), "w", force_zip64=big) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
