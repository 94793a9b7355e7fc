"""The build lock of a data directory: one build at a time writes there.

The lock is ``flock`` on ``.catalogue-build.lock`` in the data directory, which holds the
holder's pid while it runs. It is opened without following a symbolic link and must be a
regular file; a link, a FIFO, a directory or a device at its path is refused with one line,
never opened for writing, and a file that is not this user's or has another hard link (it could
be anyone's file) is locked but never truncated.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import BuildError
from ..store.paths import NO_WORKSPACE, is_inside_installed_package
from ..store.reading import special_kind

LOCK_FILE = ".catalogue-build.lock"


@contextmanager
def build_lock(data_dir: Path, wait: bool | None) -> Iterator[None]:
    """Hold the data directory's build lock; another holder makes this refuse (or wait, with ``wait``).

    ``wait`` is the command's ``--wait`` (False: refuse, saying ``--wait`` waits); None for a
    command without that option, whose refusal says to run it again once the other has finished.

    The lock file is opened without following a symbolic link and must be a regular file: a
    link, a FIFO, a directory or a device there is refused, never opened, written or truncated.
    A directory this build created is removed again if the build leaves nothing in it.
    """
    if is_inside_installed_package(data_dir):
        raise BuildError(f"{data_dir}: inside the installed package, which is never written: {NO_WORKSPACE}")
    created = _make_data_dir(data_dir)
    path = data_dir / LOCK_FILE
    descriptor = _open_lock_file(path)
    stamped = False
    try:
        _acquire(descriptor, data_dir, wait)
        stamped = _may_stamp(descriptor)
        if stamped:
            _stamp(descriptor, f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        yield
    finally:
        if stamped:
            _stamp(descriptor, "")
        os.close(descriptor)
        if created:
            _remove_if_unused(data_dir, path)


def _make_data_dir(data_dir: Path) -> bool:
    """Create ``data_dir`` (and its parents) if missing; True if this call created it."""
    if data_dir.is_dir():
        return False
    try:
        data_dir.mkdir(parents=True)
    except OSError as error:
        reason = "it exists and is not a directory" if isinstance(error, FileExistsError) else error.strerror
        raise BuildError(f"--data {data_dir}: cannot be the data directory ({reason})") from None
    return True


def _open_lock_file(path: Path) -> int:
    """A descriptor of the regular lock file at ``path`` (created if missing); ``BuildError`` for anything else there.

    What is at the path is looked at before it is opened (opening a device can have effects),
    and the open neither follows a link nor blocks, in case it was swapped in between.
    """
    _refuse_special(path)
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise BuildError(f"{path}: is a symbolic link; the build lock must be a plain file: remove the link") from None
        raise BuildError(f"{path}: cannot open the build lock: {error.strerror}") from None
    kind = special_kind(os.fstat(descriptor).st_mode)
    if kind is not None:
        os.close(descriptor)
        raise BuildError(f"{path}: is {kind}, not a build lock: remove it")
    return descriptor


def _refuse_special(path: Path) -> None:
    """``BuildError`` if ``path`` is a link or a special file (not following a link); nothing if regular or missing."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise BuildError(f"{path}: cannot look at the build lock: {error.strerror}") from None
    if stat.S_ISLNK(mode):
        raise BuildError(f"{path}: is a symbolic link; the build lock must be a plain file: remove the link")
    kind = special_kind(mode)
    if kind is not None:
        raise BuildError(f"{path}: is {kind}, not a build lock: remove it")


def _acquire(descriptor: int, data_dir: Path, wait: bool | None) -> None:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        holder = os.pread(descriptor, 200, 0).decode("utf-8", "replace").strip() or "another process"
        raise BuildError(f"{data_dir}: another catalogue build is writing here ({holder}); {refusal_advice(wait)}") from None


def refusal_advice(wait: bool | None) -> str:
    """What a command refused by the lock can do: pass ``--wait`` where it has that option, else run again later."""
    if wait is None:
        return "run the command again once it has finished (this command has no --wait)"
    return "wait for it to finish, or pass --wait to wait for it"


def _may_stamp(descriptor: int) -> bool:
    """Only a lock file this user owns with no other hard link is rewritten (a hard link could be anyone's file)."""
    info = os.fstat(descriptor)
    return info.st_uid == os.geteuid() and info.st_nlink == 1


def _stamp(descriptor: int, text: str) -> None:
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, text.encode("utf-8"), 0)


def _remove_if_unused(data_dir: Path, lock: Path) -> None:
    """Remove the lock file and ``data_dir`` when nothing else was written into it."""
    try:
        if [entry.name for entry in os.scandir(data_dir)] == [LOCK_FILE]:
            os.unlink(lock)
            os.rmdir(data_dir)
    except OSError:
        pass
