"""Replacing a file's content whole, so that a reader (or a crash) never sees half of it.

:func:`replace_text` writes the new content beside the file and renames it over the old one,
keeping the old file's permissions (a new file gets the usual ``0o666`` less the umask).

Where the system allows it (Linux ``O_TMPFILE``), the content is written into a file with
**no name** and only given one just before the rename, so a process killed while it writes
(``SIGKILL``, the OOM killer) leaves nothing behind: the kernel frees the nameless file. The
name exists for two system calls (``linkat`` then ``renameat``, made one after the other with
the GIL held, so no other thread runs between them): microseconds. Elsewhere the file has a
name (``.NAME.XXXXXXXX.postmock-tmp``) while it is written; :func:`remove_leftovers` deletes
such names a killed process left (the recorder does, when it opens the file again).
"""

from __future__ import annotations

import errno
import functools
import glob
import os
import secrets
import stat
from pathlib import Path
from typing import Any

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


AT_FDCWD = -100
AT_SYMLINK_FOLLOW = 0x400
"""Linux's values for ``linkat``: the current directory, and follow the ``/proc/self/fd`` link to the file."""


@functools.cache
def _libc() -> Any:
    """The C library's ``linkat`` and ``renameat``, called **without releasing the GIL** (``ctypes.PyDLL``);
    None where there is none. Holding the GIL keeps the named moment at two system calls: no other
    thread of the process runs between them."""
    try:
        import ctypes  # deferred: only where a file is written, and a Python without ctypes falls back (ImportError)

        libc = ctypes.PyDLL(None, use_errno=True)
        at = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
        for name, arguments in (("linkat", [*at, ctypes.c_int]), ("renameat", at)):
            function = getattr(libc, name)
            function.argtypes, function.restype = arguments, ctypes.c_int
    except (ImportError, OSError, AttributeError):
        return None
    return libc


def _publish(fd: int, directory: int, temporary: str, target: str) -> bool:
    """Give the nameless file ``fd`` the name ``temporary`` and rename it over ``target`` (both in
    ``directory``), one call right after the other; False when the link is refused (nothing changed)."""
    source = f"/proc/self/fd/{fd}".encode()
    name, final = os.fsencode(temporary), os.fsencode(target)
    libc = _libc()
    if libc is None:
        try:  # a dir_fd makes os.link call linkat(…, AT_SYMLINK_FOLLOW): the /proc link is followed to the file
            os.link(source, name, dst_dir_fd=directory)
        except OSError:
            return False
        os.replace(name, final, src_dir_fd=directory, dst_dir_fd=directory)
        return True
    if libc.linkat(AT_FDCWD, source, directory, name, AT_SYMLINK_FOLLOW) != 0:
        return False
    if libc.renameat(directory, name, directory, final) != 0:
        import ctypes  # deferred: as in _libc (loaded there already, since libc is not None)

        error = ctypes.get_errno()
        os.unlink(name, dir_fd=directory)
        raise OSError(error, os.strerror(error), target)
    return True


def replace_text(path: str | Path, text: str) -> Path:
    """Make ``path`` hold ``text`` (UTF-8) in one rename: readers see the old file or the new, whole. A symbolic
    link is written through (its target replaced, the link kept); what is neither a regular file nor missing (a
    device such as ``/dev/stdout``, a pipe, a directory) is refused with an :class:`OSError`, never replaced."""
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    try:
        status = os.stat(target)
    except FileNotFoundError:
        mode: int | None = None
    else:
        if not stat.S_ISREG(status.st_mode):
            kind = "a directory" if stat.S_ISDIR(status.st_mode) else "not a regular file"
            raise OSError(errno.EISDIR if stat.S_ISDIR(status.st_mode) else errno.EINVAL,
                          f"{kind}: only a file is written, whole", str(path))
        mode = stat.S_IMODE(status.st_mode)
    temporary = _temporary_name(target)
    fd = _nameless(target.parent)
    if fd is not None:
        try:
            _write_all(fd, data)
            if mode is not None:
                os.fchmod(fd, mode)
            directory = os.open(target.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                if _publish(fd, directory, temporary.name, target.name):
                    return target
            finally:
                os.close(directory)
        finally:
            os.close(fd)
    # no nameless file here: a named temporary one, removed on failure (and by remove_leftovers after a kill)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        try:
            _write_all(fd, data)
            if mode is not None:
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(temporary, target)
    except BaseException:
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
