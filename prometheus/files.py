"""Files: cache files written so that a reader sees the old file or the new one, never half of one;
input files opened only when they are regular files."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, BinaryIO


def atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write through ``write`` to a temporary file beside ``path``, flush it to disk, rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class NotARegularFile(Exception):
    """A path that cannot be read as a regular file; ``reason`` completes a sentence about it."""

    def __init__(self, reason: str, *, missing: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing = missing


def open_regular_file(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for reading; refuse anything else (folders, FIFOs, sockets, devices).

    Opened without blocking, then checked on the open descriptor: opening a FIFO for reading
    waits for a writer, which may never come (an input path given as a named pipe hung the CLI).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise NotARegularFile("no such file", missing=True) from None
    except PermissionError:
        raise NotARegularFile("cannot be read (permission denied); check the file's permissions") from None
    except OSError as exc:
        raise NotARegularFile(f"cannot be opened ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a pipe, socket or device)"
        raise NotARegularFile(f"is {what}; give the path of a file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")
