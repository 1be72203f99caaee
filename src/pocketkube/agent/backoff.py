"""CrashLoopBackOff: the kubelet's per-container restart backoff, with an injected clock.

The rules are those of client-go's `flowcontrol.Backoff` as the kubelet uses it (10 s initial,
5 min cap, no jitter), keyed per (pod uid, container name, spec hash) — the hash is in the key as
in the kubelet, so fixing a crashing container's image restarts it without waiting:

- `in_backoff(key, finished_at, now)`: the container that exited at `finished_at` must wait while
  `now - finished_at < backoff`; an entry whose last restart lies more than 2 × cap (10 min)
  before `finished_at` has expired — the container ran ≥ 10 min, so it restarts at once.
- `next(key, now)`: called when a restart is started. A new or expired entry starts at 10 s,
  otherwise the delay doubles up to 5 min.

So the first restart is immediate and the waits that follow are 10 s, 20 s, 40 s … 5 min.

State is two numbers per key, so `to_dict`/`from_dict` serialize it, and `restore` rebuilds an
entry from container history after an agent restart: starting attempt N (N ≥ 1) left the delay at
min(10 s · 2^(N-1), 5 min), recorded about when that attempt was created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

INITIAL_SECONDS = 10.0
MAX_SECONDS = 300.0

BackoffKey = tuple[str, str, str]  # (pod uid, container name, spec hash)


@dataclass
class _Entry:
    backoff: float
    last_update: float


class Backoff:
    def __init__(self, initial: float = INITIAL_SECONDS, maximum: float = MAX_SECONDS) -> None:
        self.initial = initial
        self.maximum = maximum
        self._entries: dict[BackoffKey, _Entry] = {}

    def _expired(self, entry: _Entry, event_time: float) -> bool:
        return event_time - entry.last_update > 2 * self.maximum

    def get(self, key: BackoffKey) -> float:
        """The current delay for `key` (0 when there is no entry)."""
        entry = self._entries.get(key)
        return entry.backoff if entry else 0.0

    def in_backoff(self, key: BackoffKey, finished_at: float, now: float) -> bool:
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, finished_at):
            return False
        return now - finished_at < entry.backoff

    def backoff_end(self, key: BackoffKey, finished_at: float) -> float:
        """When the wait after an exit at `finished_at` ends."""
        return finished_at + self.get(key)

    def next(self, key: BackoffKey, now: float) -> None:
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, now):
            self._entries[key] = _Entry(self.initial, now)
            return
        entry.backoff = min(entry.backoff * 2, self.maximum)
        entry.last_update = now

    def restore(self, key: BackoffKey, attempt: int, created_at: float) -> None:
        """Rebuild an entry from the latest container of `key`: its attempt and creation time."""
        if attempt < 1 or key in self._entries:
            return
        delay = min(self.initial * 2 ** min(attempt - 1, 32), self.maximum)
        self._entries[key] = _Entry(delay, created_at)

    def forget_pod(self, pod_uid: str) -> None:
        for key in [k for k in self._entries if k[0] == pod_uid]:
            del self._entries[key]

    def gc(self, now: float) -> None:
        """Drop entries that have expired anyway (the kubelet's periodic Backoff.GC)."""
        for key in [k for k, e in self._entries.items() if self._expired(e, now)]:
            del self._entries[key]

    def to_dict(self) -> dict[str, Any]:
        return {"\x00".join(k): [e.backoff, e.last_update] for k, e in self._entries.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any], initial: float = INITIAL_SECONDS,
                  maximum: float = MAX_SECONDS) -> Backoff:
        b = cls(initial, maximum)
        for k, (delay, last) in data.items():
            uid, name, h = k.split("\x00")
            b._entries[(uid, name, h)] = _Entry(float(delay), float(last))
        return b


def go_duration(seconds: float) -> str:
    """A whole-second duration as Go's time.Duration.String() prints it: 10s, 1m20s, 5m0s, 1h0m0s."""
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m}m{s}s"
    if m:
        return f"{m}m{s}s"
    return f"{s}s"
