"""Builders for crafted archives used by the ingestion tests (imported by the test modules)."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterable

Entry = tuple[str | zipfile.ZipInfo, bytes]

SYMLINK_MODE = stat.S_IFLNK | 0o777
FIFO_MODE = stat.S_IFIFO | 0o644
CHAR_DEVICE_MODE = stat.S_IFCHR | 0o644

FIREWALL_LINE = (
    "Mar/07/2023 10:38:03 firewall, prerouting: out connection-state:new src-mac 1:1:1:1:, "
    "proto ICMP (type 8, code 0), 1.2.3.4->5.6.7.8, len 3"
)


def zip_bytes(entries: Iterable[Entry], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP holding ``entries`` exactly as given (zipfile does not sanitise names on POSIX)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries:
            zf.writestr(name, data, compress_type=compression)
    return buf.getvalue()


def info(name: str, *, mode: int | None = None) -> zipfile.ZipInfo:
    """A ZipInfo with a Unix mode (file type bits), as hostile archives set them."""
    zi = zipfile.ZipInfo(name)
    zi.compress_type = zipfile.ZIP_DEFLATED
    if mode is not None:
        zi.create_system = 3
        zi.external_attr = mode << 16
    return zi


def nested_zip(depth: int, leaf: bytes = b"a,b\n1,2\n") -> bytes:
    """``level1.zip`` holding ``level2.zip`` ... down to ``depth`` archives, the innermost with data.csv."""
    data = zip_bytes([("data.csv", leaf)])
    for level in range(depth - 1, 0, -1):
        data = zip_bytes([(f"level{level + 1}.zip", data)])
    return data


def mark_encrypted(data: bytes, name: str) -> bytes:
    """Set the "encrypted" flag bit of member ``name`` in its local and central headers.

    zipfile clears ``flag_bits`` when writing, so the bit has to be patched into the bytes.
    """
    out = bytearray(data)
    raw = name.encode()
    for signature, flags_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        pos = out.find(signature)
        while pos >= 0:
            if out[pos + name_at : pos + name_at + len(raw)] == raw:
                out[pos + flags_at] |= 0x1
            pos = out.find(signature, pos + 4)
    return bytes(out)
