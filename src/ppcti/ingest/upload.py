"""Opening an upload: ZIPs, directories and single files become a list of typed, checked source files.

One :class:`_Session` walks every input, keeps the upload-wide budgets (member count, total bytes) and
sorts each file into *accepted* (a :class:`SourceFile`) or *refused* (a :class:`Refusal` with the
reason). Refusing one member never stops the others; only an input that cannot be read at all (a
corrupt outer ZIP, a missing path) raises :class:`~ppcti.errors.InputRefused`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from types import TracebackType

from ppcti.errors import FormatError, InputRefused
from ppcti.ingest import archive as _archive
from ppcti.ingest import detect as _detect
from ppcti.ingest import xlsx as _xlsx
from ppcti.ingest.limits import Limits, Refusal, human_bytes, printable_name
from ppcti.ingest.source import SourceFile

_UNSAFE_DISK_CHARS = re.compile(r"[^A-Za-z0-9._-]")


@dataclass
class Upload:
    """What one data holder handed over: accepted files, refused members, and their private workdir.

    Use as a context manager (or call :meth:`close`) so extracted members are deleted.
    """

    holder: str
    root: str
    files: list[SourceFile]
    refused: list[Refusal]
    workdir: Path

    def close(self) -> None:
        """Delete the working directory and everything extracted into it (never the inputs)."""
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Upload:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _Session:
    def __init__(self, limits: Limits, workdir: Path) -> None:
        self.limits = limits
        self.members_dir = workdir / "members"
        self.members_dir.mkdir(mode=0o700)
        self.files: list[SourceFile] = []
        self.refused: list[Refusal] = []
        self.members = 0
        self.total = 0
        self._seq = 0

    # -- bookkeeping ---------------------------------------------------------------------------------
    def refuse(self, member: str, reason: str) -> None:
        self.refused.append(Refusal(printable_name(member), reason))

    def _count_member(self, member: str) -> bool:
        """Take one slot of the member budget; refuse (and return False) when it is used up."""
        if self.members >= self.limits.max_members:
            self.refuse(member, f"member count over {self.limits.max_members} limit")
            return False
        self.members += 1
        return True

    def _new_local(self, logical: str) -> Path:
        self._seq += 1
        base = _UNSAFE_DISK_CHARS.sub("_", PurePosixPath(logical).name)[-64:]
        return self.members_dir / f"{self._seq:06d}-{base}"

    # -- inputs --------------------------------------------------------------------------------------
    def add_input(self, path: Path, name: str, prefix: str) -> None:
        if not os.path.lexists(path):
            raise InputRefused("input not found", file=name)
        if path.is_dir():
            self._walk_directory(path, prefix)
            return
        if not path.is_file():
            raise InputRefused("not a regular file or directory", file=name)
        head = _detect.read_head(path)
        if _xlsx.is_zip(head):
            if not self._classify_zip(path, prefix.rstrip("/") or name, depth=0, outer=True):
                self._extract_zip(path, prefix, depth=1, outer_name=name)
            return
        if PurePosixPath(name).suffix.lower() == ".zip":
            raise InputRefused("not a ZIP archive (content does not start with a ZIP header)", file=name)
        self._add_plain_file(path, prefix.rstrip("/") or name, head=head)

    def _walk_directory(self, root: Path, prefix: str) -> None:
        real_root = root.resolve()

        def unreadable(exc: OSError) -> None:
            where = Path(exc.filename).relative_to(root).as_posix() if exc.filename else "."
            self.refuse(prefix + where, "unreadable directory (permission denied or I/O error)")

        for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=False):
            dirnames.sort()
            here = Path(dirpath)
            rel_dir = here.relative_to(root).as_posix()
            rel_dir = "" if rel_dir == "." else rel_dir + "/"
            for dirname in list(dirnames):
                if (here / dirname).is_symlink():
                    self.refuse(prefix + rel_dir + dirname, "symbolic link to a directory (not followed)")
                    dirnames.remove(dirname)
            for filename in sorted(filenames):
                logical = prefix + rel_dir + filename
                try:
                    self._add_directory_file(here / filename, logical, real_root)
                except OSError:
                    self.refuse(logical, "unreadable file (permission denied or I/O error)")

    def _add_directory_file(self, local: Path, logical: str, real_root: Path) -> None:
        if local.is_symlink():
            target = local.resolve()
            if not target.is_relative_to(real_root):
                self.refuse(logical, "symbolic link leaves the input directory")
                return
            if not target.exists():
                self.refuse(logical, "broken symbolic link")
                return
            local = target
        if not stat.S_ISREG(local.stat().st_mode):
            self.refuse(logical, "special file (device, FIFO or socket)")
            return
        head = _detect.read_head(local)
        if _xlsx.is_zip(head):
            if not self._classify_zip(local, logical, depth=0, outer=False):
                self._nested_zip(local, logical, depth=1, delete_after=False)
        else:
            self._add_plain_file(local, logical, head=head)

    def _add_plain_file(self, local: Path, logical: str, *, head: bytes) -> None:
        if not self._count_member(logical):
            return
        size = local.stat().st_size
        if size > self.limits.max_member_bytes:
            self.refuse(logical, f"file size over {human_bytes(self.limits.max_member_bytes)} limit")
            return
        if self.total + size > self.limits.max_total_bytes:
            self.refuse(logical, f"total size over {human_bytes(self.limits.max_total_bytes)} limit")
            return
        self.total += size
        self._classify_text(local, logical, head=head, size=size)

    # -- archives ------------------------------------------------------------------------------------
    def _classify_zip(self, local: Path, logical: str, *, depth: int, outer: bool) -> bool:
        """Accept ``local`` as an XLSX workbook and return True, or return False if it is a plain ZIP."""
        try:
            with zipfile.ZipFile(local) as zf:
                if not _xlsx.is_xlsx(zf):
                    return False
                reason = _xlsx.xlsx_over_limits(zf, self.limits)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            if outer:
                raise InputRefused("corrupt ZIP archive", file=logical) from None
            self.refuse(logical, "corrupt ZIP archive")
            return True
        if reason is None:
            reason = _xlsx.unreadable_reason(local)
        if reason is not None:
            self.refuse(logical, reason)
            return True
        if self._count_member(logical):
            size = local.stat().st_size
            if self.total + size > self.limits.max_total_bytes:
                self.refuse(logical, f"total size over {human_bytes(self.limits.max_total_bytes)} limit")
            else:
                self.total += size
                self.files.append(SourceFile(logical, "xlsx", None, size, (), local))
        return True

    def _nested_zip(self, local: Path, logical: str, *, depth: int, delete_after: bool) -> None:
        if depth > self.limits.max_depth:
            self.refuse(logical, f"nesting depth {depth} > {self.limits.max_depth}")
        else:
            try:
                self._extract_zip(local, logical + "/", depth=depth, outer_name=None)
            except InputRefused as exc:
                self.refuse(logical, exc.message)
        if delete_after:
            local.unlink(missing_ok=True)

    def _extract_zip(self, path: Path, prefix: str, *, depth: int, outer_name: str | None) -> None:
        """Extract every acceptable member of the ZIP at ``path``; ``outer_name`` set for an input ZIP."""
        label = prefix.rstrip("/") or (outer_name or "")
        try:
            directory = _archive.read_central_directory(path)
        except OSError as exc:
            raise InputRefused("archive cannot be read", file=label) from exc
        if directory is None:
            raise InputRefused("corrupt ZIP archive (no end-of-central-directory record)", file=label)
        remaining = self.limits.max_members - self.members
        if directory.entries > max(remaining, 0) * 2 + 1000:
            raise InputRefused(
                f"archive declares {directory.entries} members, over the {self.limits.max_members} limit",
                file=label,
            )
        if directory.size > _archive.MAX_CENTRAL_DIRECTORY_BYTES:
            raise InputRefused("archive central directory too large", file=label)
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            raise InputRefused("corrupt ZIP archive", file=label) from exc
        with zf:
            seen: set[str] = set()
            folders: set[str] = set()
            for info in zf.infolist():
                self._extract_one(zf, info, prefix, depth, seen, folders)

    def _extract_one(
        self,
        zf: zipfile.ZipFile,
        info: zipfile.ZipInfo,
        prefix: str,
        depth: int,
        seen: set[str],
        folders: set[str],
    ) -> None:
        shown = prefix + info.filename
        try:
            name = _archive.safe_member_name(info)
        except _archive.MemberRefusedError as exc:
            self.refuse(shown, exc.reason)
            return
        if info.is_dir() or stat.S_ISDIR(info.external_attr >> 16):
            return
        logical = prefix + name
        if not self._count_member(logical):
            return
        if name in seen:
            self.refuse(shown, "duplicate name (would overwrite an earlier member)")
            return
        parents = {"/".join(name.split("/")[:i]) for i in range(1, name.count("/") + 1)}
        if name in folders or parents & seen:
            # "a" and "a/b" cannot both be written out (e.g. to cleaned/<path>)
            self.refuse(shown, "name clashes with a folder of the same name")
            return
        seen.add(name)
        folders.update(parents)
        local = self._new_local(logical)
        try:
            _archive.check_declared_sizes(info, self.limits, self.total)
            size = _archive.extract_member(zf, info, local, self.limits, self.total)
        except _archive.MemberRefusedError as exc:
            self.refuse(shown, exc.reason)
            return
        self.total += size
        head = _detect.read_head(local)
        if _xlsx.is_zip(head):
            self.total -= size  # counted again by the workbook or by the members it holds
            self.members -= 1  # a workbook is counted by _classify_zip, an archive by its members
            if not self._classify_zip(local, logical, depth=depth, outer=False):
                self.total += size
                self._nested_zip(local, logical, depth=depth + 1, delete_after=True)
        else:
            self._classify_text(local, logical, head=head, size=size)
        if not (self.files and self.files[-1].local_path == local):
            local.unlink(missing_ok=True)  # refused after extraction: keep no unused bytes on disk
        else:
            self.files[-1] = dataclasses.replace(self.files[-1], modified=_member_time(info))

    # -- text files ----------------------------------------------------------------------------------
    def _classify_text(self, local: Path, logical: str, *, head: bytes, size: int) -> None:
        try:
            encoding = _detect.detect_encoding(local, head, size)
            text = _detect.decode_head(head, encoding)
            kind, dialect = _detect.detect_kind(text, truncated=size > len(head), name=logical)
        except FormatError as exc:
            self.refuse(logical, exc.message)
            return
        warnings = (encoding.warning,) if encoding.warning else ()
        if "\n" not in text and text.count("\r") > 1:
            warnings += ("line breaks are lone CR (classic Mac OS): lines are split on LF only",)
        self.files.append(SourceFile(logical, kind, encoding.encoding, size, warnings, local, dialect))


def _member_time(info: zipfile.ZipInfo) -> datetime | None:
    try:
        return datetime(*info.date_time)
    except (TypeError, ValueError):  # a damaged header can hold any numbers
        return None


def _input_names(paths: list[Path]) -> list[str]:
    names: list[str] = []
    for path in paths:
        base = path.name or path.resolve().name or "input"
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}~{n}"
        names.append(name)
    return names


def open_upload(
    inputs: Path | Sequence[Path],
    *,
    holder: str,
    limits: Limits = Limits(),
    workdir: Path | None = None,
) -> Upload:
    """Open what a data holder handed over: ZIPs, directories or single files, one or several.

    Paths in the result are relative to the input when there is one input, and start with the input's
    name when there are several. Members that break a rule are listed in ``Upload.refused`` and never
    extracted. Raises :class:`~ppcti.errors.InputRefused` when an input is missing or an input ZIP
    cannot be read at all; an upload with nothing usable is still returned (the caller decides).
    """
    if not holder or not holder.strip():
        raise InputRefused("a data holder name is required (--holder)")
    paths = [Path(inputs)] if isinstance(inputs, str | os.PathLike) else [Path(p) for p in inputs]
    if not paths:
        raise InputRefused("no input given")
    names = _input_names(paths)
    tmp = Path(tempfile.mkdtemp(prefix="ppcti-upload-", dir=workdir))
    try:
        session = _Session(limits, tmp)
        for path, name in zip(paths, names, strict=True):
            session.add_input(path, name, "" if len(paths) == 1 else name + "/")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Upload(holder, ", ".join(names), session.files, session.refused, tmp)
