"""The kubelet's atomic writer: a whole set of files replaced at once, as readers see it.

Layout of a target directory (configMap, secret, downwardAPI, projected volumes)::

    ..2024_05_01_10_00_00.1234567/     the payload, written in full before anyone can see it
    ..data -> ..2024_05_01_10_00_00.1234567
    key    -> ..data/key               one link per top-level payload name
    dir    -> ..data/dir               (nested paths live under their top-level directory)

An update writes a new timestamped directory, swaps `..data` with one rename(2) of a fresh
symlink, adds links for new names, removes links for names that went away, then deletes the old
directory. A payload equal to what is there (bytes and modes) writes nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Mapping

DATA_DIR = "..data"
DATA_TMP = "..data_tmp"

# path → (content, mode)
Payload = Mapping[str, tuple[bytes, int]]


class PayloadError(ValueError):
    pass


def validate_path(path: str) -> None:
    """The paths a payload may hold (kubelet's validatePath)."""
    if not path:
        raise PayloadError("invalid path: must not be empty")
    if path.startswith("/"):
        raise PayloadError(f"invalid path: must be relative path: {path}")
    if len(path) > 4096:
        raise PayloadError(f"invalid path: must be less than or equal to 4096 characters: {path}")
    parts = path.split("/")
    if ".." in parts:
        raise PayloadError(f"invalid path: must not contain '..': {path}")
    if path.startswith(".."):
        raise PayloadError(f"invalid path: must not start with '..': {path}")


def _current(target: str) -> str | None:
    try:
        return os.readlink(os.path.join(target, DATA_DIR))
    except OSError:
        return None


def _read_tree(directory: str) -> dict[str, tuple[bytes, int]]:
    found: dict[str, tuple[bytes, int]] = {}
    for base, _, files in os.walk(directory):
        for name in files:
            path = os.path.join(base, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, directory)] = (handle.read(), os.stat(path).st_mode & 0o7777)
    return found


def _top_level(payload: Payload) -> set[str]:
    return {path.split("/", 1)[0] for path in payload}


def write(target: str, payload: Payload) -> bool:
    """Make `target` show exactly `payload`; True when something changed."""
    for path in payload:
        validate_path(path)
    os.makedirs(target, exist_ok=True)
    old = _current(target)
    if old is not None and _read_tree(os.path.join(target, old)) == dict(payload):
        return False

    stamp = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime())
    ts_dir = tempfile.mkdtemp(prefix=stamp, dir=target)
    os.chmod(ts_dir, 0o755)
    for path, (content, mode) in payload.items():
        full = os.path.join(ts_dir, path)
        os.makedirs(os.path.dirname(full), mode=0o755, exist_ok=True)
        with open(full, "wb") as handle:
            handle.write(content)
        os.chmod(full, mode)

    tmp_link = os.path.join(target, DATA_TMP)
    if os.path.lexists(tmp_link):
        os.unlink(tmp_link)
    os.symlink(os.path.basename(ts_dir), tmp_link)
    os.rename(tmp_link, os.path.join(target, DATA_DIR))

    wanted = _top_level(payload)
    for name in sorted(wanted):
        link = os.path.join(target, name)
        if not os.path.islink(link):
            os.symlink(os.path.join(DATA_DIR, name), link)
    if old is not None:
        for name in os.listdir(target):
            link = os.path.join(target, name)
            if not name.startswith("..") and name not in wanted and os.path.islink(link):
                os.unlink(link)
        shutil.rmtree(os.path.join(target, old), ignore_errors=True)
    return True
