"""The host's device nodes as OCI `linux.devices` entries, for privileged containers."""

from __future__ import annotations

import os
import stat
from typing import Any

# Mounted per container or meaningless inside one.
_SKIP = ("/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/console", "/dev/fd", "/dev/stdin", "/dev/stdout",
         "/dev/stderr", "/dev/ptmx")


def host_devices(root: str = "/dev") -> list[dict[str, Any]]:
    devices = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in _SKIP]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if path in _SKIP:
                continue
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISCHR(st.st_mode):
                kind = "c"
            elif stat.S_ISBLK(st.st_mode):
                kind = "b"
            else:
                continue
            devices.append({"path": path, "type": kind, "major": os.major(st.st_rdev),
                            "minor": os.minor(st.st_rdev), "fileMode": stat.S_IMODE(st.st_mode),
                            "uid": st.st_uid, "gid": st.st_gid})
    return devices
