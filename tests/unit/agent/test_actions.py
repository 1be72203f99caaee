"""compute_pod_actions: the plan for one sync, table by table, without a runtime."""

from __future__ import annotations

from typing import Any

import pytest

from pocketkube.agent.actions import compute_pod_actions, termination_grace_period
from pocketkube.agent.backoff import Backoff
from pocketkube.runtime.base import ContainerState, SandboxState

from .fixtures import T0, container, make_pod, make_sandbox, runtime_container

EXITED = ContainerState.EXITED
RUNNING = ContainerState.RUNNING


def plan(pod: dict[str, Any], sandbox: Any = "sb", containers: list[Any] | None = None,
         backoff: Backoff | None = None, now: float = T0 + 100) -> Any:
    sb = make_sandbox("sb") if sandbox == "sb" else sandbox
    return compute_pod_actions(pod, sb, containers or [], backoff or Backoff(), now)


def test_new_pod_creates_the_sandbox_and_starts_every_container() -> None:
    a = plan(make_pod([container("web"), container("log")]), sandbox=None)
    assert (a.kill_pod, a.create_sandbox, a.sandbox_attempt) == (False, True, 0)
    assert a.containers_to_start == ["web", "log"] and a.attempts == {"web": 0, "log": 0}
    assert a.waiting == {"web": ("ContainerCreating", ""), "log": ("ContainerCreating", "")}


def test_new_pod_with_init_containers_starts_only_the_first() -> None:
    pod = make_pod([container("web")], init=[container("i1"), container("i2")])
    a = plan(pod, sandbox=None)
    assert a.create_sandbox and a.init_to_start == ["i1"] and a.containers_to_start == []
    assert a.waiting["web"] == ("PodInitializing", "")


def test_dead_sandbox_kills_everything_and_recreates_with_next_attempt() -> None:
    pod = make_pod([container("web")], init=[container("i1")])
    dead = make_sandbox("sb", attempt=2, state=SandboxState.NOTREADY)
    cs = [runtime_container(pod, "i1", "c1", "sb", state=EXITED, exit_code=0, finished=T0 + 1),
          runtime_container(pod, "web", "c2", "sb", created=T0 + 2)]
    a = plan(pod, dead, cs)
    assert a.kill_pod and a.create_sandbox and a.sandbox_attempt == 3 and a.sandbox_id == "sb"
    assert a.kill_stages == [["c2"]] and set(a.containers_to_kill) == {"c2"}
    assert a.init_to_purge == ["c1"] and a.init_to_start == ["i1"] and a.attempts == {"i1": 1}


def test_dead_sandbox_of_a_finished_never_pod_is_not_recreated() -> None:
    pod = make_pod([container("web")], restart_policy="Never")
    dead = make_sandbox("sb", attempt=0, state=SandboxState.NOTREADY)
    cs = [runtime_container(pod, "web", "c1", "sb", state=EXITED, exit_code=1, finished=T0 + 1)]
    a = plan(pod, dead, cs)
    assert a.kill_pod and not a.create_sandbox and a.containers_to_start == []
    # the same pod whose sandbox never came up (no containers yet) gets another sandbox
    retry = plan(pod, dead, [])
    assert retry.create_sandbox and retry.sandbox_attempt == 1 and retry.containers_to_start == ["web"]


@pytest.mark.parametrize("policy,code,restart", [
    ("Always", 0, True), ("Always", 1, True),
    ("OnFailure", 0, False), ("OnFailure", 2, True),
    ("Never", 0, False), ("Never", 1, False),
])
def test_restart_policy(policy: str, code: int, restart: bool) -> None:
    pod = make_pod([container("web")], restart_policy=policy)
    cs = [runtime_container(pod, "web", "c1", "sb", state=EXITED, exit_code=code, finished=T0 + 1)]
    a = plan(pod, containers=cs)
    assert a.containers_to_start == (["web"] if restart else [])
    assert a.kill_pod is (not restart)  # nothing left to run: the pod is terminal
    if restart:
        assert a.attempts == {"web": 1} and a.restarts == {"web": ("uid-1", "web", a.restarts["web"][2])}


def test_on_failure_restarts_only_the_failed_container() -> None:
    pod = make_pod([container("a"), container("b")], restart_policy="OnFailure")
    cs = [runtime_container(pod, "a", "c1", "sb", state=EXITED, exit_code=0, finished=T0 + 1),
          runtime_container(pod, "b", "c2", "sb", state=EXITED, exit_code=3, finished=T0 + 1)]
    a = plan(pod, containers=cs)
    assert a.containers_to_start == ["b"] and not a.kill_pod


def test_crashloop_backoff_waits_and_wakes_up() -> None:
    pod = make_pod([container("web")])
    cs = [runtime_container(pod, "web", "c1", "sb", attempt=1, state=EXITED, exit_code=1, finished=T0 + 100)]
    b = Backoff()
    first = plan(pod, containers=cs, backoff=b)
    key = first.restarts["web"]
    b.next(key, T0 + 50)  # the restart that made attempt 1
    a = plan(pod, containers=cs, backoff=b, now=T0 + 104)
    assert a.containers_to_start == [] and not a.kill_pod
    assert a.waiting["web"] == ("CrashLoopBackOff",
                                "back-off 10s restarting failed container=web pod=p_ns(uid-1)")
    assert a.next_wakeup == T0 + 110
    assert plan(pod, containers=cs, backoff=b, now=T0 + 110).containers_to_start == ["web"]


def test_changed_spec_restarts_a_running_container() -> None:
    pod = make_pod([container("web", image="nginx:2")], restart_policy="Never")
    old_spec = container("web", image="nginx:1")
    cs = [runtime_container(pod, "web", "c1", "sb", attempt=0, spec=old_spec)]
    a = plan(pod, containers=cs)
    assert a.containers_to_kill == {"c1": "Container web definition changed, will be restarted"}
    assert a.containers_to_start == ["web"] and a.attempts == {"web": 1} and not a.kill_pod
    same = plan(pod, containers=[runtime_container(pod, "web", "c1", "sb")])
    assert same.containers_to_kill == {} and same.containers_to_start == []


def test_containers_not_in_the_spec_are_killed() -> None:
    pod = make_pod([container("web")])
    stray = runtime_container(make_pod([container("old")]), "old", "c9", "sb")
    a = plan(pod, containers=[runtime_container(pod, "web", "c1", "sb"), stray])
    assert a.containers_to_kill == {"c9": "Container old is not in the pod spec"}


@pytest.mark.parametrize("states,expect_init,expect_apps,kill", [
    # (i1, i2) latest states: None = never ran, ("run",) running, ("exit", code)
    ((None, None), ["i1"], [], False),
    ((("run",), None), [], [], False),
    ((("exit", 0), None), ["i2"], [], False),
    ((("exit", 0), ("run",)), [], [], False),
    ((("exit", 0), ("exit", 0)), [], ["web"], False),
    ((("exit", 1), None), ["i1"], [], False),
])
def test_init_containers_run_one_by_one(states: tuple[Any, ...], expect_init: list[str],
                                        expect_apps: list[str], kill: bool) -> None:
    pod = make_pod([container("web")], init=[container("i1"), container("i2")])
    cs = []
    for n, (name, st) in enumerate(zip(("i1", "i2"), states, strict=True)):
        if st is None:
            continue
        if st[0] == "run":
            cs.append(runtime_container(pod, name, f"c{n}", "sb", created=T0 + n))
        else:
            cs.append(runtime_container(pod, name, f"c{n}", "sb", state=EXITED, exit_code=st[1],
                                        created=T0 + n, finished=T0 + n + 1))
    a = plan(pod, containers=cs)
    assert (a.init_to_start, a.containers_to_start, a.kill_pod) == (expect_init, expect_apps, kill)


def test_failed_init_container_with_never_fails_the_pod() -> None:
    pod = make_pod([container("web")], init=[container("i1")], restart_policy="Never")
    cs = [runtime_container(pod, "i1", "c1", "sb", state=EXITED, exit_code=1, finished=T0 + 1)]
    a = plan(pod, containers=cs)
    assert a.kill_pod and a.init_to_start == [] and a.containers_to_start == []


def test_init_container_backoff_blocks_what_follows() -> None:
    pod = make_pod([container("web")], init=[container("i1")])
    cs = [runtime_container(pod, "i1", "c1", "sb", attempt=1, state=EXITED, exit_code=1, finished=T0 + 99)]
    b = Backoff()
    b.next(plan(pod, containers=cs).restarts["i1"], T0 + 90)
    a = plan(pod, containers=cs, backoff=b)
    assert a.init_to_start == [] and a.waiting["i1"][0] == "CrashLoopBackOff"


def _sidecar_pod(policy: str = "Never") -> dict[str, Any]:
    return make_pod([container("web")], init=[container("proxy", restartPolicy="Always"), container("i2")],
                    restart_policy=policy)


def test_sidecar_does_not_block_on_completion() -> None:
    pod = _sidecar_pod()
    assert plan(pod, containers=[]).init_to_start == ["proxy"]
    running = [runtime_container(pod, "proxy", "c1", "sb")]
    assert plan(pod, containers=running).init_to_start == ["i2"]
    done = running + [runtime_container(pod, "i2", "c2", "sb", state=EXITED, exit_code=0, finished=T0 + 1)]
    a = plan(pod, containers=done)
    assert a.init_to_start == [] and a.containers_to_start == ["web"]


def test_sidecar_restarts_always_even_under_never() -> None:
    pod = _sidecar_pod("Never")
    cs = [runtime_container(pod, "proxy", "c1", "sb", state=EXITED, exit_code=1, finished=T0 + 5),
          runtime_container(pod, "i2", "c2", "sb", state=EXITED, exit_code=0, finished=T0 + 1),
          runtime_container(pod, "web", "c3", "sb", created=T0 + 2)]
    a = plan(pod, containers=cs)
    assert a.init_to_start == ["proxy"] and a.attempts == {"proxy": 1} and not a.kill_pod


def test_app_containers_done_stops_the_sidecars_last() -> None:
    pod = make_pod([container("web")], restart_policy="Never",
                   init=[container("s1", restartPolicy="Always"), container("s2", restartPolicy="Always")])
    cs = [runtime_container(pod, "s1", "c1", "sb"), runtime_container(pod, "s2", "c2", "sb"),
          runtime_container(pod, "web", "c3", "sb", state=EXITED, exit_code=0, finished=T0 + 9)]
    a = plan(pod, containers=cs)
    assert a.kill_pod and not a.create_sandbox and a.init_to_start == []
    assert a.kill_stages == [["c2"], ["c1"]]


def test_deletion_kills_apps_first_then_sidecars_in_reverse_order() -> None:
    pod = make_pod([container("web"), container("log")],
                   init=[container("s1", restartPolicy="Always"), container("s2", restartPolicy="Always")])
    pod["metadata"].update(deletionTimestamp="2023-11-14T22:15:12Z", deletionGracePeriodSeconds=12)
    cs = [runtime_container(pod, n, f"c-{n}", "sb") for n in ("s1", "s2", "web", "log")]
    a = plan(pod, containers=cs)
    assert a.kill_pod and not a.create_sandbox and a.containers_to_start == [] and a.init_to_start == []
    assert [sorted(s) for s in a.kill_stages] == [["c-log", "c-web"], ["c-s2"], ["c-s1"]]
    assert a.grace_period == 12 and set(a.containers_to_kill) == {"c-s1", "c-s2", "c-web", "c-log"}


@pytest.mark.parametrize("stamp,now,grace", [
    ("2023-11-14T22:15:12Z", T0 + 100, 12),   # killed at once: the whole period
    ("2023-11-14T22:15:12Z", T0 + 100.4, 12),  # the stamp's whole seconds round up
    ("2023-11-14T22:15:12Z", T0 + 107, 5),    # re-adopted 7 s late: what is left
    ("2023-11-14T22:15:12Z", T0 + 200, 1),    # past the deadline: at once (never below 1 s)
])
def test_a_late_kill_gets_the_grace_period_that_is_left(stamp: str, now: float, grace: int) -> None:
    pod = make_pod([container("web")])
    pod["metadata"].update(deletionTimestamp=stamp, deletionGracePeriodSeconds=12)
    assert plan(pod, containers=[runtime_container(pod, "web", "c1", "sb")], now=now).grace_period == grace


@pytest.mark.parametrize("meta,spec,grace", [
    ({}, {"terminationGracePeriodSeconds": 45}, 45),
    ({"deletionGracePeriodSeconds": 5}, {"terminationGracePeriodSeconds": 45}, 5),
    ({"deletionGracePeriodSeconds": 0}, {"terminationGracePeriodSeconds": 45}, 45),
    ({}, {}, 30),
    ({}, {"terminationGracePeriodSeconds": 0}, 1),
])
def test_grace_period(meta: dict[str, Any], spec: dict[str, Any], grace: int) -> None:
    assert termination_grace_period({"metadata": meta, "spec": spec}) == grace


def test_terminal_pod_is_only_cleaned_up() -> None:
    pod = make_pod([container("web")])
    pod["status"]["phase"] = "Failed"
    a = plan(pod, containers=[runtime_container(pod, "web", "c1", "sb")])
    assert a.kill_pod and a.containers_to_start == [] and a.kill_stages == [["c1"]]


def test_ephemeral_containers_start_once() -> None:
    pod = make_pod([container("web")], ephemeralContainers=[container("debug")])
    cs = [runtime_container(pod, "web", "c1", "sb")]
    assert plan(pod, containers=cs).ephemeral_to_start == ["debug"]
    cs.append(runtime_container(pod, "debug", "c2", "sb", state=EXITED, exit_code=0, finished=T0 + 1))
    a = plan(pod, containers=cs)
    assert a.ephemeral_to_start == [] and a.containers_to_kill == {}


def test_compute_does_not_touch_the_backoff() -> None:
    pod = make_pod([container("web")])
    cs = [runtime_container(pod, "web", "c1", "sb", state=EXITED, exit_code=1, finished=T0 + 1)]
    b = Backoff()
    plan(pod, containers=cs, backoff=b)
    assert b.to_dict() == {}
