"""Expectations: what a controller has asked for and not yet seen in its informer (kube's ControllerExpectations).

After creating N pods, the informer lags; a reconcile in between would see too few pods and create
them again. So a controller records how many creations (and which deletions) it expects per key,
the pod handlers tick them off, and `manage replicas` waits until they are met — or until they are
five minutes old, in case a watch event was lost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

EXPECTATIONS_TIMEOUT = 300.0


@dataclass
class _Expected:
    adds: int = 0
    deletes: set[str] = field(default_factory=set)
    stamp: float = field(default_factory=time.monotonic)


class Expectations:
    def __init__(self, timeout: float = EXPECTATIONS_TIMEOUT):
        self.timeout = timeout
        self._by_key: dict[str, _Expected] = {}

    def expect_creations(self, key: str, count: int) -> None:
        self._by_key[key] = _Expected(adds=count)

    def expect_deletions(self, key: str, pod_keys: list[str]) -> None:
        self._by_key[key] = _Expected(deletes=set(pod_keys))

    def creation_observed(self, key: str) -> None:
        exp = self._by_key.get(key)
        if exp is not None and exp.adds > 0:
            exp.adds -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        exp = self._by_key.get(key)
        if exp is not None:
            exp.deletes.discard(pod_key)

    def satisfied(self, key: str) -> bool:
        exp = self._by_key.get(key)
        if exp is None:
            return True
        if exp.adds <= 0 and not exp.deletes:
            return True
        return time.monotonic() - exp.stamp > self.timeout

    def forget(self, key: str) -> None:
        self._by_key.pop(key, None)
