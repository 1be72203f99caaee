"""Which runtime container `kubectl logs` reads: the kubelet's rules over the pod's API status."""

from __future__ import annotations

from typing import Any

import pytest

from pocketkube.agent.logsource import log_container_id

RUNNING = {"running": {"startedAt": "t"}}


def term(cid: str) -> dict[str, Any]:
    return {"terminated": {"exitCode": 1, "containerID": f"pocketkube://{cid}"}}


def status(state: dict[str, Any], last: dict[str, Any], cid: str = "", key: str = "containerStatuses") -> dict:
    entry = {"name": "c", "state": state, "lastState": last}
    if cid:
        entry["containerID"] = f"pocketkube://{cid}"
    return {"status": {key: [entry]}}


@pytest.mark.parametrize("pod,previous,want", [
    (status(RUNNING, {}, "new"), False, "new"),
    (status(RUNNING, {}, "new"), True, ""),  # no previous container yet
    (status(RUNNING, term("old"), "new"), True, "old"),  # restarted: --previous is the last one that ended
    (status({"waiting": {"reason": "CrashLoopBackOff"}}, term("old"), "old"), False, "old"),
    (status({"waiting": {"reason": "CrashLoopBackOff"}}, term("old"), "old"), True, "old"),
    (status(term("done"), term("before"), "done"), False, "done"),
    (status(term("done"), term("before"), "done"), True, "before"),
    (status({"waiting": {"reason": "ContainerCreating"}}, {}), False, ""),
    (status(RUNNING, {}, "init", key="initContainerStatuses"), False, "init"),
    ({"status": {}}, False, ""),
])
def test_log_container_id(pod: dict[str, Any], previous: bool, want: str) -> None:
    assert log_container_id(pod, "c", previous) == want
