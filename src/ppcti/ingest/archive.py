"""The hostile-ZIP checks: member names, member types, declared sizes, and bounded streaming extraction.

Nothing from an archive is trusted: names are checked before anything touches the disk, extracted bytes
go to generated file names inside a private directory (so no member name ever becomes a filesystem
path), and every extraction is streamed while counting bytes, so a limit stops a bomb as soon as it is
crossed rather than after it filled the disk. Declared sizes are checked up front too, because Python's
:mod:`zipfile` never inflates past a member's declared size: a member that declares sane sizes cannot
produce more than that.
"""

from __future__ import annotations

import lzma
import os
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ppcti.ingest.limits import Limits, human_bytes

#: Bytes read from a member per step of the streaming copy.
COPY_CHUNK = 1024**2

#: A central directory larger than this is refused before :mod:`zipfile` reads it into memory.
MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024**2

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_EOCD_MAX_COMMENT = 65535
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_MAX_NAME = 4096

#: Errors :mod:`zipfile` and its decompressors raise on damaged or unsupported member data.
_DATA_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,  # bz2 reports a corrupt stream as OSError
    NotImplementedError,  # unsupported compression method (deflate64, ...)
    RuntimeError,
    ValueError,
)


class MemberRefusedError(Exception):
    """Internal signal: this member breaks a rule (the reason becomes a :class:`Refusal`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CentralDirectory:
    """What the end-of-central-directory record declares."""

    entries: int
    size: int


def read_central_directory(path: Path) -> CentralDirectory | None:
    """Declared member count and central-directory size (``None`` when no EOCD record is found).

    Read before :class:`zipfile.ZipFile` is created, because that loads the whole central directory
    into memory: an archive declaring millions of members is refused without being parsed.
    """
    size = path.stat().st_size
    with path.open("rb") as fh:
        start = max(0, size - (22 + _EOCD_MAX_COMMENT))
        fh.seek(start)
        tail = fh.read()
        at = tail.rfind(_EOCD)
        if at < 0 or len(tail) - at < 22:
            return None
        entries, cd_size = struct.unpack("<HI", tail[at + 10 : at + 16])
        if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and at >= 20:
            locator = tail[at - 20 : at]
            if locator[:4] == _EOCD64_LOCATOR:
                (offset,) = struct.unpack("<Q", locator[8:16])
                if offset < size:
                    fh.seek(offset)
                    record = fh.read(56)
                    if record[:4] == _EOCD64 and len(record) == 56:
                        entries, cd_size = struct.unpack("<QQ", record[32:48])
    return CentralDirectory(entries, cd_size)


def safe_member_name(info: zipfile.ZipInfo) -> str:
    """The member's normalised relative path, or :class:`MemberRefusedError` when the name or type is unsafe.

    Any ``..`` part is refused, even one that would stay inside the archive (``a/../b``): no legitimate
    export needs it and resolving it is where extractors go wrong. Backslashes are refused rather than
    guessed at: ``a\\..\\..\\x`` means traversal on Windows.
    """
    name = info.filename
    if _CONTROL.search(name):
        raise MemberRefusedError("control characters in name")
    if len(name) > _MAX_NAME:
        raise MemberRefusedError("name too long")
    if "\\" in name:
        raise MemberRefusedError("backslash in path (Windows separator)")
    if name.startswith("/"):
        raise MemberRefusedError("absolute path")
    if _DRIVE.match(name):
        raise MemberRefusedError("absolute path (drive letter)")
    parts = name.split("/")
    if ".." in parts:
        raise MemberRefusedError("path traversal")
    parts = [part for part in parts if part not in ("", ".")]
    if not parts:
        raise MemberRefusedError("empty name")
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        raise MemberRefusedError("symbolic link")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise MemberRefusedError("special file (device, FIFO or socket)")
    if info.flag_bits & 0x1:
        raise MemberRefusedError("encrypted member")
    return "/".join(parts)


def check_declared_sizes(info: zipfile.ZipInfo, limits: Limits, total_so_far: int) -> None:
    """Refuse from the central-directory sizes alone, before inflating anything."""
    if info.file_size > limits.max_member_bytes:
        raise MemberRefusedError(f"member size over {human_bytes(limits.max_member_bytes)} limit")
    if info.file_size > limits.ratio_min_bytes:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_ratio:
            raise MemberRefusedError(f"compression ratio {ratio:.0f} > {limits.max_ratio:g}")
    if total_so_far + info.file_size > limits.max_total_bytes:
        raise MemberRefusedError(f"total size over {human_bytes(limits.max_total_bytes)} limit")


def extract_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, limits: Limits, total_so_far: int
) -> int:
    """Stream one member to ``dest`` (created new, mode 0600) and return its size in bytes.

    Every limit is re-checked on the bytes actually produced; on any refusal or damaged data the
    partial file is deleted and :class:`MemberRefusedError` raised.
    """
    written = 0
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                src = zf.open(info)
            except _DATA_ERRORS as exc:
                raise MemberRefusedError("corrupt or unsupported member data") from exc
            with src:
                while True:
                    try:
                        chunk = src.read(COPY_CHUNK)
                    except _DATA_ERRORS as exc:
                        raise MemberRefusedError("corrupt or unsupported member data") from exc
                    if not chunk:
                        break
                    written += len(chunk)
                    _check_progress(written, info.compress_size, limits, total_so_far)
                    out.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return written


def _check_progress(written: int, compress_size: int, limits: Limits, total_so_far: int) -> None:
    if written > limits.max_member_bytes:
        raise MemberRefusedError(f"member size over {human_bytes(limits.max_member_bytes)} limit")
    if written > limits.ratio_min_bytes:
        ratio = written / max(compress_size, 1)
        if ratio > limits.max_ratio:
            raise MemberRefusedError(f"compression ratio {ratio:.0f} > {limits.max_ratio:g}")
    if total_so_far + written > limits.max_total_bytes:
        raise MemberRefusedError(f"total size over {human_bytes(limits.max_total_bytes)} limit")
