"""mount(2) and umount2(2) through libc, and reading /proc/self/mountinfo (parsing is pure).

Calling the syscalls directly costs microseconds instead of a `mount` process per container, and
gives the errno to decide on (EBUSY → retry, EINVAL → not mounted).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import re

MNT_DETACH = 2
_OCTAL = re.compile(r"\\([0-7]{3})")
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def _check(result: int, what: str, path: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what} {path}: {os.strerror(code)}", path)


def mount(source: str, target: str, fstype: str, flags: int = 0, data: str = "") -> None:
    result = _libc.mount(source.encode(), target.encode(), fstype.encode(), ctypes.c_ulong(flags),
                         data.encode() if data else None)
    _check(result, f"mount -t {fstype}", target)


def umount(target: str, flags: int = 0) -> None:
    _check(_libc.umount2(target.encode(), ctypes.c_int(flags)), "umount", target)


def parse_mountinfo(text: str) -> list[str]:
    """The mount points listed in mountinfo text, in order, with the kernel's octal escapes undone."""
    points = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) > 4:
            points.append(_OCTAL.sub(lambda m: chr(int(m.group(1), 8)), fields[4]))
    return points


def mount_count(path: str) -> int:
    """How many mounts are stacked on `path` in this mount namespace."""
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as handle:
        return parse_mountinfo(handle.read()).count(os.path.realpath(path))


def is_not_mounted(err: OSError) -> bool:
    return err.errno in (errno.EINVAL, errno.ENOENT)
