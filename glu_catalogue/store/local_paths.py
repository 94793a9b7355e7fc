"""Whether text a person typed names a local path, and what is there, without a traceback for any text.

``Path.exists()`` raises for a name too long for the file system and answers False for a link
loop, so a loop or a typo would be taken for a hub id. ``path_kind`` stats once and says what is
there, raising ``SourceError`` (one line) for what can never be read: a loop, a dangling link, a
name too long, a directory that may not be entered. ``looks_like_path`` tells text meant as a
path (``./``, ``/``, ``~``, a file name ending in ``.json``) from a hub id. Standard library only.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Literal

from ..errors import SourceError

#: Endings of a file name (a config or a model description) rather than a hub repository.
PATH_SUFFIXES = (".json",)

_UNREADABLE = {
    errno.ELOOP: "a symbolic link loop (too many levels of links)",
    errno.ENAMETOOLONG: "file name too long for the file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a component of the path is not a directory",
}


def path_kind(text: str) -> Literal["file", "directory", "other"] | None:
    """What the local path ``text`` names: ``file``, ``directory``, ``other`` (a FIFO, a device), None when absent.

    Raises ``SourceError`` naming the path when something is there that can never be read.
    """
    if not text or "\0" in text:
        return None
    path = Path(text).expanduser()
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        if error.errno == errno.ENOENT and _is_link(path):
            raise SourceError(f"{_shown(text)}: a symbolic link to a file that does not exist") from None
        if error.errno == errno.ENOENT:
            return None
        reason = _UNREADABLE.get(error.errno, error.strerror or str(error))
        raise SourceError(f"{_shown(text)}: {reason}") from None
    except ValueError:  # an embedded NUL or similar: no file can have this name
        return None
    if stat.S_ISDIR(mode):
        return "directory"
    return "file" if stat.S_ISREG(mode) else "other"


def looks_like_path(text: str) -> bool:
    """True for text written as a local path: starting ``./``, ``../``, ``/`` or ``~``, or a file name ending ``.json``."""
    return text.startswith(("./", "../", "/", "~", ".\\")) or text in (".", "..") or text.lower().endswith(PATH_SUFFIXES)


def names_local_path(text: str) -> bool:
    """True when ``text`` names something on disk (or something there that cannot be read), or is written as a path:
    what it means is then about that path, never a hub id."""
    try:
        return path_kind(text) is not None or looks_like_path(text)
    except SourceError:
        return True


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def _shown(text: str) -> str:
    """A path as an error shows it: at most 120 characters."""
    return text if len(text) <= 120 else f"{text[:100]}... ({len(text)} characters)"
