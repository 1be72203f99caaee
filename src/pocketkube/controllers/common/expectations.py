"""Expectations: what a controller has asked for and not yet seen in its informer (kube's
ControllerExpectations, with deletions tracked by key as UIDTrackingControllerExpectations does).

After creating N pods, the informer lags; a reconcile in between would see too few pods and create
them again. So before acting a controller records how many creations and which deletions (pod
keys) it expects per owner key, its pod handlers tick them off as events arrive
(`creation_observed`, `deletion_observed`: a pod seen being deleted counts), a create or delete
that fails ticks its own off at once, and the next reconcile acts only when they are `satisfied`
— or when they are older than `timeout` (five minutes, kube's ExpectationsTimeout), in case a
watch event was lost. The timeout is measured on the injected clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pocketkube.api.obj import Obj
from pocketkube.client.informer import Handlers, object_key
from pocketkube.clock import REAL_CLOCK, Clock

EXPECTATIONS_TIMEOUT = 300.0


@dataclass
class _Expected:
    adds: int
    deletes: set[str] = field(default_factory=set)
    stamp: float = 0.0  # when the record was opened, on the clock


class Expectations:
    def __init__(self, timeout: float = EXPECTATIONS_TIMEOUT, clock: Clock = REAL_CLOCK):
        self.timeout = timeout
        self.clock = clock
        self._by_key: dict[str, _Expected] = {}

    def _done(self, exp: _Expected) -> bool:
        return (exp.adds <= 0 and not exp.deletes) or self.clock.now() - exp.stamp > self.timeout

    def _current(self, key: str) -> _Expected:
        """The record to add to: a new one once the last is met or expired (kube's SetExpectations),
        else the open one, so one reconcile may expect deletions and creations both."""
        exp = self._by_key.get(key)
        if exp is None or self._done(exp):
            exp = self._by_key[key] = _Expected(0, set(), self.clock.now())
        return exp

    def expect_creations(self, key: str, count: int) -> None:
        """Before creating `count` objects for `key`."""
        self._current(key).adds += count

    def expect_deletions(self, key: str, pod_keys: Iterable[str]) -> None:
        """Before deleting these objects (by key) for `key`."""
        self._current(key).deletes.update(pod_keys)

    def creation_observed(self, key: str) -> None:
        exp = self._by_key.get(key)
        if exp is not None and exp.adds > 0:
            exp.adds -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        exp = self._by_key.get(key)
        if exp is not None:
            exp.deletes.discard(pod_key)

    def lower(self, key: str, adds: int = 0, deletes: Iterable[str] = ()) -> None:
        """Creations and deletions that will never be observed: they failed, or were never tried
        after one did (kube's LowerExpectations)."""
        for _ in range(adds):
            self.creation_observed(key)
        for pod_key in deletes:
            self.deletion_observed(key, pod_key)

    def satisfied(self, key: str) -> bool:
        """Whether `key` may act on its cache: nothing pending, or what is pending has expired."""
        exp = self._by_key.get(key)
        return exp is None or self._done(exp)

    def forget(self, key: str) -> None:
        """The owner is gone (kube's DeleteExpectations)."""
        self._by_key.pop(key, None)

    def observer(self, owner_key: Callable[[Obj], str | None]) -> Handlers:
        """Pod handlers that tick expectations off: an added pod is a creation, a pod seen being
        deleted or gone a deletion, for the owner key `owner_key` gives (None: not ours)."""
        def added(pod: Obj) -> None:
            key = owner_key(pod)
            if key is None:
                return
            if (pod.get("metadata") or {}).get("deletionTimestamp"):
                # A pod that arrives already being deleted counts as a deletion, as in kube's addPod.
                self.deletion_observed(key, object_key(pod))
            else:
                self.creation_observed(key)

        def updated(old: Obj, new: Obj) -> None:
            key = owner_key(new)
            if key is not None and (new.get("metadata") or {}).get("deletionTimestamp"):
                self.deletion_observed(key, object_key(new))

        def deleted(pod: Obj) -> None:
            key = owner_key(pod)
            if key is not None:
                self.deletion_observed(key, object_key(pod))

        return Handlers(on_add=added, on_update=updated, on_delete=deleted)
