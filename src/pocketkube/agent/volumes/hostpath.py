"""hostPath `type` checks, with the kubelet's messages.

"" checks nothing (the path is bind-mounted as it is); the *OrCreate types create what is missing
(a directory 0755 with its parents, a file 0644 whose parent must exist), then check like their
plain counterparts. Checks follow symlinks, as the kubelet's stat does.
"""

from __future__ import annotations

import os
import stat

_CHECKS = {
    "Directory": (stat.S_ISDIR, "a directory"),
    "File": (stat.S_ISREG, "a file"),
    "Socket": (stat.S_ISSOCK, "a socket file"),
    "CharDevice": (stat.S_ISCHR, "a character device"),
    "BlockDevice": (stat.S_ISBLK, "a block device"),
}


class HostPathError(Exception):
    pass


def check_host_path(path: str, path_type: str | None) -> None:
    """Create (for *OrCreate) and check `path`; raises HostPathError with the kubelet's text."""
    kind = path_type or ""
    if kind == "":
        return
    if kind == "DirectoryOrCreate":
        if not os.path.exists(path):
            try:
                os.makedirs(path, mode=0o755)
                os.chmod(path, 0o755)
            except OSError as err:
                raise HostPathError(f"mkdir {path}: {err.strerror}") from None
        kind = "Directory"
    elif kind == "FileOrCreate":
        if not os.path.exists(path):
            try:
                fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
                os.close(fd)
            except OSError as err:
                raise HostPathError(f"open {path}: {err.strerror}") from None
        kind = "File"
    if kind not in _CHECKS:
        raise HostPathError(f"{kind} is an invalid volume type")
    test, what = _CHECKS[kind]
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = 0
    if not mode or not test(mode):
        raise HostPathError(f"hostPath type check failed: {path} is not {what}")
