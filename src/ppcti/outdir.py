"""The one place that puts a command's results into its ``--out`` folder: atomically and link-safe.

A command writes into a fresh *staging* folder beside ``--out`` (in its parent, on the same file system)
and :meth:`Staged.commit` moves the results in at the end. So:

- an interrupted or failed command leaves nothing that looks complete: the staging folder is removed on
  the way out (``with`` exits on exceptions and on :class:`ppcti.exits.Interrupted`), and a folder left by
  a killed process is swept by the next command (:func:`sweep`);
- a new ``--out`` appears in one ``rename``; an existing one gets its entries replaced one by one, the
  ``summary.json`` (if any) last, so a summary is only ever next to the outputs it describes;
- nothing already inside ``--out`` is followed: a symbolic link at ``OUT/cleaned`` or ``OUT/summary.json``
  is replaced by the result, never written through, because results are written in the staging folder
  (made by ``mkdtemp``, private to this process) and ``rename`` replaces a link instead of following it.

Temporary folders carry a lock (``flock``) held for the life of the process that made them, so a sweep
tells a live run's folder from a dead one's without trusting process ids, and without a time limit.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO

from ppcti.errors import ConfigError, PpctiError

STAGING_PREFIX = ".ppcti-staging-"
_OLD_PREFIX = ".ppcti-old-"
_LOCK = ".ppcti-lock"
#: A folder of ours without a lock file is swept only when older than this (it may be being created).
_UNLOCKED_GRACE = 60.0
#: Committed last, so that a summary next to outputs always describes them.
LAST = ("summary.json",)


def check_out(out: Path) -> Path:
    """``out`` as an absolute path, or a :class:`ConfigError` that says what is wrong with it.

    Catches what would otherwise fail half-way through a run: a file where the folder should be, a
    file among its parents, and a folder this process cannot write.
    """
    path = Path(os.path.abspath(out))
    if path.exists() and not path.is_dir():
        raise ConfigError("--out names a file, not a folder", file=str(out))
    existing = path
    while not existing.exists():
        if existing.is_symlink():  # a dangling link: creating the folder would follow it
            raise ConfigError("--out goes through a broken symbolic link", file=str(out))
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError("--out is under a file, not a folder", file=str(out))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError("--out is not writable", file=str(out))
    return path


def check_out_file(out: Path) -> Path:
    """``out`` (a file to write) as an absolute path, or a :class:`ConfigError`: not a folder, and in a
    folder that exists or can be made and that this process can write."""
    path = Path(os.path.abspath(out))
    if path.is_dir():
        raise ConfigError("--out names a folder, not a file", file=str(out))
    check_out(path.parent)
    return path


class _Locked:
    """A private temporary folder with a lock held open by this process (see :func:`sweep`)."""

    def __init__(self, parent: Path, prefix: str) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        self._fd = os.open(self.path / _LOCK, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def sweep(parent: Path, prefix: str) -> list[Path]:
    """Remove folders ``parent/prefix*`` left by processes that are gone; returns what was removed.

    A folder whose lock another process holds belongs to a live run and is left alone.
    """
    removed: list[Path] = []
    try:
        candidates = [p for p in parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return removed
    for path in candidates:
        try:
            info = path.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode):
            continue
        try:
            fd = os.open(path / _LOCK, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            if time.time() - info.st_mtime < _UNLOCKED_GRACE:
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
            continue
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # a live process holds it
        try:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        finally:
            os.close(fd)
    return removed


@contextmanager
def private_tempdir(parent: Path, prefix: str) -> Iterator[Path]:
    """A locked temporary folder under ``parent`` for this process, removed when the block ends.

    Stale folders of the same prefix whose process is gone are swept first.
    """
    sweep(parent, prefix)
    folder = _Locked(parent, prefix)
    try:
        yield folder.path
    finally:
        folder.remove()


class Staged:
    """Results being written for ``out``; :meth:`commit` moves them in, leaving the block discards them."""

    def __init__(self, out: Path) -> None:
        self.out = check_out(out)
        # beside the folder --out really is (a link to a folder on another file system is followed
        # here, on purpose: --out itself is the user's choice), so that renames stay on one file system
        parent = Path(os.path.realpath(self.out)).parent
        parent.mkdir(parents=True, exist_ok=True)
        if not os.access(parent, os.W_OK | os.X_OK):  # stage inside an existing, writable --out instead
            parent = self.out
        sweep(parent, STAGING_PREFIX)
        self._folder = _Locked(parent, STAGING_PREFIX)
        #: Where the command writes; beside the lock, so that no result name can clash with it.
        self.path = self._folder.path / "out"
        self.path.mkdir()
        self.committed = False

    def commit(self, *, remove: Iterable[str] = ()) -> Path:
        """Move every entry of the staging folder into ``out``, replacing what is there (links included,
        never followed); names in ``remove`` that this command did not produce are deleted from ``out``.
        """
        produced = sorted((p.name for p in self.path.iterdir()), key=lambda n: (n in LAST, n))
        beside = self._folder.path.parent == Path(os.path.realpath(self.out)).parent
        if beside and not os.path.lexists(self.out):
            os.rename(self.path, self.out)  # a new folder appears whole
            self.committed = True
            return self.out
        self.out.mkdir(exist_ok=True)
        if not self.out.is_dir():
            raise ConfigError("--out is not a folder", file=str(self.out))
        for name in [*[n for n in LAST if n not in produced], *remove]:
            if name not in produced:
                _remove(self.out / name)
        for name in produced:
            _replace(self.path / name, self.out / name)
        self.committed = True
        return self.out

    def discard(self) -> None:
        self._folder.remove()

    def __enter__(self) -> Staged:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.discard()
        staging = str(self.path)
        if isinstance(exc, PpctiError) and exc.file and exc.file.startswith(staging):
            exc.file = str(self.out) + exc.file[len(staging) :]  # name the place the user knows


def _remove(path: Path) -> None:
    """Delete ``path`` itself: a link is unlinked, never followed; a real folder is removed whole."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(path)
    else:
        path.unlink()


def _replace(source: Path, target: Path) -> None:
    """Put ``source`` at ``target``; whatever is at ``target`` (file, folder, link) is replaced."""
    try:
        info = target.lstat()
    except FileNotFoundError:
        os.rename(source, target)
        return
    if stat.S_ISDIR(info.st_mode):
        aside = Path(tempfile.mkdtemp(prefix=_OLD_PREFIX, dir=target.parent))
        os.rename(target, aside / "old")
        os.rename(source, target)
        shutil.rmtree(aside, ignore_errors=True)
    elif source.is_dir():
        target.unlink()
        os.rename(source, target)
    else:
        os.replace(source, target)  # rename(2) replaces a link itself, it never follows it


@contextmanager
def open_atomic(path: str | os.PathLike[str], *, private: bool = False) -> Iterator[IO[bytes]]:
    """A new file at ``path``, complete or not at all: written under a fresh name beside it (``mkstemp``:
    never an existing file or link) and renamed over ``path`` when the block ends without error, which
    replaces a link at ``path`` instead of writing through it. ``private`` files are 0600 throughout."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:40]}.", suffix=".part", dir=target.parent)
    try:
        if not private:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: str | os.PathLike[str], data: bytes, *, private: bool = False) -> None:
    """``data`` as the whole new content of ``path`` (see :func:`open_atomic`)."""
    with open_atomic(path, private=private) as handle:
        handle.write(data)


def staged_output(out: Path) -> Staged:
    """``with staged_output(out) as stage: write into stage.path; stage.commit()``."""
    return Staged(out)
