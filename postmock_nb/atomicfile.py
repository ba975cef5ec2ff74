"""Replacing a file's content whole, so that a reader (or a crash) never sees half of it.

:func:`replace_text` writes the new content beside the file and renames it over the old one,
keeping the old file's permissions (a new file gets the usual ``0o666`` less the umask).

Where the system allows it (Linux ``O_TMPFILE``), the content is written into a file with
**no name** and only given one just before the rename, so a process killed while it writes
(``SIGKILL``, the OOM killer) leaves nothing behind: the kernel frees the nameless file. The
name exists for two system calls. Elsewhere the file has a name (``.NAME.XXXXXXXX.postmock-tmp``)
while it is written; :func:`remove_leftovers` deletes such names a killed process left.
"""

from __future__ import annotations

import glob
import os
import secrets
import stat
from pathlib import Path

TEMP_SUFFIX = ".postmock-tmp"


def _temporary_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _nameless(directory: Path) -> int | None:
    """A file with no name in ``directory`` (Linux ``O_TMPFILE``), or None where there is none."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not Path("/proc/self/fd").is_dir():
        return None
    try:
        return os.open(directory, flag | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError:  # a file system without O_TMPFILE support
        return None


def _name_nameless(fd: int, temporary: Path) -> bool:
    """Give the nameless file ``fd`` the name ``temporary`` (linkat with AT_SYMLINK_FOLLOW); False when refused."""
    directory = os.open(temporary.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:  # a dir_fd makes os.link call linkat(…, AT_SYMLINK_FOLLOW): the /proc link is followed to the file
        os.link(f"/proc/self/fd/{fd}", temporary.name, dst_dir_fd=directory)
    except OSError:
        return False
    finally:
        os.close(directory)
    return True


def replace_text(path: str | Path, text: str) -> Path:
    """Make ``path`` hold ``text`` (UTF-8) in one rename: readers see the old file or the new, whole."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    temporary = _temporary_name(target)
    fd = _nameless(target.parent)
    named = False
    try:
        if fd is not None:
            _write_all(fd, data)
            if mode is not None:
                os.fchmod(fd, mode)
            named = _name_nameless(fd, temporary)
            os.close(fd)
            fd = None
        if not named:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
            _write_all(fd, data)
            if mode is not None:
                os.fchmod(fd, mode)
            os.close(fd)
            fd = None
        os.replace(temporary, target)
    except BaseException:
        if fd is not None:
            os.close(fd)
        temporary.unlink(missing_ok=True)
        raise
    return target


def remove_leftovers(path: str | Path) -> list[Path]:
    """Delete the temporary files a killed writer of ``path`` left beside it; returns them."""
    target = Path(path)
    if not target.parent.is_dir():
        return []
    found = sorted(target.parent.glob(f".{glob.escape(target.name)}.*{TEMP_SUFFIX}"))
    for leftover in found:
        leftover.unlink(missing_ok=True)
    return found
