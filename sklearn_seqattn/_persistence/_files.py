"""Reading the files of a saved model safely, and replacing a saved model atomically.

Reads refuse anything but a regular file, and never read more than a limit.
Writes go into a new folder beside the target, renamed into place at the end:
a failure at any point leaves the previous model (or empty folder) as it was.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import tempfile
from pathlib import Path

from ._constants import OWN_FILES
from ._encoding import show


# ----------------------------------------------------------------- reading
def open_regular(path: Path, where: str) -> io.BufferedReader:
    """``path`` opened for reading in binary, refused unless it is a regular file.

    Non-blocking, so a FIFO planted in the folder cannot hang the open; the
    type is checked on the descriptor, before a file object is made of it
    (a folder opens too, and would fail later with a bare errno).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is not a regular file (nor a link to one).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError(f"{path.name} in {where} is not a regular file.")
    return os.fdopen(fd, "rb")


def read_file(path: Path, limit: int, where: str) -> bytes:
    """The bytes of the regular file ``path``; more than ``limit`` is refused unread."""
    with open_regular(path, where) as f:
        size = os.fstat(f.fileno()).st_size
        data = f.read(limit + 1) if size <= limit else b""
    size = max(size, len(data))
    if size > limit:
        raise ValueError(
            f"{path.name} in {where} is {size:,} bytes; a saved model's {path.name} is at most "
            f"{limit:,} bytes."
        )
    return data


# ----------------------------------------------------------------- writing
def check_target(folder: Path) -> bool:
    """Whether ``folder`` exists; refuse what save() must not replace.

    Raises
    ------
    ValueError
        If ``folder`` is a symbolic link, a file, or a folder holding files
        that save() did not write.
    """
    if os.path.islink(folder):
        raise ValueError(
            f"path {str(folder)!r} is a symbolic link; save() replaces a real folder only "
            "(pass the folder it points to)."
        )
    if not os.path.lexists(folder):
        return False
    if not folder.is_dir():
        raise ValueError(f"path must be a folder, got the existing file {str(folder)!r}.")
    with os.scandir(folder) as entries:
        others = sorted(
            e.name for e in entries if e.name not in OWN_FILES or e.is_dir(follow_symlinks=False)
        )
    if others:
        raise ValueError(
            f"{str(folder)!r} holds files that save() did not write: {show(others)}. save() "
            "replaces a folder only when it is empty or holds a saved model alone; choose "
            "another path or move those files."
        )
    return True


def _write_new_file(path: Path, data: bytes) -> None:
    # O_EXCL and O_NOFOLLOW: never write through a link, even in a folder of our own.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(path, flags | getattr(os, "O_BINARY", 0), 0o666), "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    # Makes a rename durable; Windows cannot open a folder for this.
    if os.name == "posix":
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def publish(folder: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` into a new folder beside ``folder``, then rename it into place.

    Until the last rename, the previous folder is untouched; a failure before it
    removes everything written. The temporary names are unpredictable (mkdtemp).

    Parameters
    ----------
    folder : pathlib.Path
        The target: absent, or a folder that :func:`check_target` accepts.
    files : dict of str to bytes
        File names and contents, written in this order.
    """
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".saving", dir=parent))
    new, old = staging / "new", staging / "old"
    keep_staging = False
    try:
        # mkdir, unlike mkdtemp (0o700), gives the folder the mode the user's umask asks for.
        os.mkdir(new)
        for name, data in files.items():
            _write_new_file(new / name, data)
        _fsync_dir(new)
        if check_target(folder):  # again: the folder may have changed since save() began
            os.rename(folder, old)
            try:
                os.rename(new, folder)
            except BaseException:
                try:
                    os.rename(old, folder)
                except OSError as exc:
                    keep_staging = True
                    raise OSError(
                        f"save() could not put the previous model back in {str(folder)!r}; "
                        f"it is in {str(old)!r}."
                    ) from exc
                raise
        else:
            os.rename(new, folder)
        # The new model is in place: a folder that cannot be synced is no failure to report.
        with contextlib.suppress(OSError):
            _fsync_dir(parent)
    finally:
        if not keep_staging:
            shutil.rmtree(staging, ignore_errors=True)
