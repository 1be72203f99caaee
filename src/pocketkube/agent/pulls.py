"""Image pull backoff: ErrImagePull, then ImagePullBackOff while the next try waits."""

from __future__ import annotations


class PullBackoff:
    """Image pull failures per (pod uid, container, image): ErrImagePull, then ImagePullBackOff while
    waiting 10 s doubling to 5 min before the next try (the kubelet's image backoff)."""

    def __init__(self, initial: float = 10.0, maximum: float = 300.0):
        self.initial, self.maximum = initial, maximum
        self._entries: dict[tuple[str, str, str], tuple[float, float]] = {}  # key → (until, last delay)

    def failed(self, key: tuple[str, str, str], now: float) -> None:
        _, last = self._entries.get(key, (0.0, 0.0))
        delay = min(self.maximum, last * 2) if last else self.initial
        self._entries[key] = (now + delay, delay)

    def waiting(self, key: tuple[str, str, str], now: float) -> bool:
        entry = self._entries.get(key)
        return entry is not None and now < entry[0]

    def forget_pod(self, uid: str) -> None:
        for key in [k for k in self._entries if k[0] == uid]:
            del self._entries[key]
