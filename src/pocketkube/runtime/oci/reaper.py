"""Child subreaper and reaping of the monitors we adopt.

conmon daemonizes: the process we start exits, and the monitor it forked is orphaned. Where PID 1
reaps late, orphans linger as zombies, so the agent makes itself a child subreaper
(prctl(PR_SET_CHILD_SUBREAPER)) and the orphaned monitors become its children. Reaping must not
steal exit statuses asyncio waits for (it waits per pid), so we reap only pids we know are
monitors — never waitpid(-1).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make this process a child subreaper; False where prctl is unavailable or refused."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def reap(pid: int) -> bool:
    """Reap `pid` if it is our exited child. True when reaped or not ours (nothing to wait for)."""
    if pid <= 0:
        return True
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid


def reap_zombie_monitors(names: tuple[str, ...] = ("conmon",)) -> list[int]:
    """Reap every zombie child of ours whose command is one of `names` (monitors re-parented to
    us whose pid we no longer track, e.g. after a failed start)."""
    me = os.getpid()
    reaped = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.find("(") + 1: stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and fields[0] == "Z" and int(fields[1]) == me and comm in names:
            if reap(int(entry)):
                reaped.append(int(entry))
    return reaped


def alive(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"
