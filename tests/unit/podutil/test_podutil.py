"""Pod readiness, availability and phase, as Kubernetes' pod util answers them; the controllers'
and the scheduler's copies differed where marked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pocketkube.api import podutil
from pocketkube.api.obj import Obj

NOW = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


def pod(phase: str = "Running", ready: str | None = "True", since: str | None = "2024-01-01T11:59:50Z",
        deleting: bool = False) -> Obj:
    status: Obj = {"phase": phase}
    if ready is not None:
        cond: Obj = {"type": "Ready", "status": ready}
        if since is not None:
            cond["lastTransitionTime"] = since
        status["conditions"] = [{"type": "PodScheduled", "status": "True"}, cond]
    md: Obj = {"name": "p"}
    if deleting:
        md["deletionTimestamp"] = "2024-01-01T11:00:00Z"
    return {"metadata": md, "status": status}


@pytest.mark.parametrize(("p", "ready"), [
    (pod(), True),
    (pod(ready="False"), False),
    (pod(ready="Unknown"), False),
    (pod(ready=None), False),
    (pod(phase="Pending"), True),  # readiness is the condition alone
    ({"metadata": {}}, False),
])
def test_is_pod_ready(p: Obj, ready: bool) -> None:
    assert podutil.is_pod_ready(p) is ready


@pytest.mark.parametrize(("p", "min_ready", "available", "wait"), [
    (pod(), 0, True, 0.0),
    (pod(), 5, True, 0.0),  # ready for 10 s
    (pod(), 10, False, 0.001),  # exactly 10 s: not yet (kube: lastTransitionTime + min < now, strictly)
    (pod(), 15, False, 5.0),
    (pod(ready="False"), 0, False, None),
    # A ready pod without lastTransitionTime is available only without minReadySeconds
    # (the ReplicaSet, DaemonSet and StatefulSet copies counted it available either way).
    (pod(since=None), 0, True, 0.0),
    (pod(since=None), 5, False, None),
])
def test_availability(p: Obj, min_ready: int, available: bool, wait: float | None) -> None:
    assert podutil.is_pod_available(p, min_ready, NOW) is available
    assert podutil.available_in(p, min_ready, NOW) == wait


@pytest.mark.parametrize(("p", "terminal", "active"), [
    (pod(), False, True),
    (pod(phase="Pending"), False, True),
    (pod(phase="Succeeded"), True, False),
    (pod(phase="Failed"), True, False),
    (pod(deleting=True), False, False),  # terminating pods are not active
    ({"metadata": {}}, False, True),
])
def test_terminal_and_active(p: Obj, terminal: bool, active: bool) -> None:
    assert podutil.is_pod_terminal(p) is terminal
    assert podutil.is_pod_active(p) is active
    assert podutil.is_phase_terminal(p.get("status", {}).get("phase")) is terminal


def test_ready_since() -> None:
    assert podutil.ready_since(pod()) == datetime(2024, 1, 1, 11, 59, 50, tzinfo=UTC)
    assert podutil.ready_since(pod(ready="False")) is None
    assert podutil.ready_since(pod(since=None)) is None
