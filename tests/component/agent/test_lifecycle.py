"""Pod lifecycles through the real node agent (informer → PLEG → pod workers → sync → executor →
status manager) over the fakes, as users see them: API status and kubectl's STATUS column."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pocketkube.api import resources
from pocketkube.api.obj import Obj
from pocketkube.api.tables import row_cells
from tests.support.agent import PODS, AgentUnderTest, container, pod, running_agent

CONFIGMAPS = resources.require("", "v1", "configmaps")
EVENTS = resources.require("", "v1", "events")


def status_text(agent: AgentUnderTest, obj: Obj) -> str:
    """kubectl's STATUS column for the pod."""
    return str(row_cells(PODS, obj, datetime.fromtimestamp(agent.clock.now(), UTC))[2])


def cstatus(status: Obj, name: str) -> Obj:
    for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        if cs["name"] == name:
            return dict(cs)
    raise KeyError(name)


def condition(status: Obj, ctype: str) -> Obj:
    return next(c for c in status["conditions"] if c["type"] == ctype)


def phase(expected: str) -> Callable[[Obj], bool]:
    return lambda st: st.get("phase") == expected


async def test_exit_zero_with_never_ends_succeeded_and_releases_the_ip(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        created = await agent.create(pod("done", [container("web")], restart_policy="Never"))
        st = await agent.until_status("done", lambda s: condition(s, "Ready")["status"] == "True"
                                      if s.get("conditions") and s.get("phase") == "Running" else False)
        assert st["podIP"] == "10.244.0.2" and st["hostIP"] == "192.0.2.10"
        agent.runtime.exit_container(agent.running(created["metadata"]["uid"], "web").id, 0)
        await agent.tick()
        st = await agent.until_status("done", phase("Succeeded"))
        term = cstatus(st, "web")["state"]["terminated"]
        assert term["exitCode"] == 0 and term["reason"] == "Completed"
        assert condition(st, "Ready")["reason"] == "PodCompleted"
        assert status_text(agent, await agent.get("done") or {}) == "Completed"
        await agent.until_status("done", lambda s: condition(s, "PodReadyToStartContainers")["status"] == "False")
        assert agent.network_state.allocated == {}  # the IP went back with the sandbox


async def test_exit_one_with_never_is_failed_error(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        await agent.create(pod("bad", [container("web", "fake-exit", "1")], restart_policy="Never"))
        st = await agent.until_status("bad", phase("Failed"))
        assert status_text(agent, await agent.get("bad") or {}) == "Error"
        assert condition(st, "Ready")["reason"] == "PodFailed"


async def test_crashloop_backoff_grows_on_the_clock(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        created = await agent.create(pod("crash", [container("web")]))
        uid = created["metadata"]["uid"]
        await agent.until_status("crash", phase("Running"))
        delays = []
        for restart in range(1, 7):
            agent.runtime.exit_container(agent.running(uid, "web").id, 1)
            await agent.tick()
            if restart > 1:
                st = await agent.until_status("crash", lambda s: "waiting" in cstatus(s, "web")["state"])
                waiting = cstatus(st, "web")["state"]["waiting"]
                assert waiting["reason"] == "CrashLoopBackOff"
                assert waiting["message"].endswith(f"restarting failed container=web pod=crash_default({uid})")
                delay = waiting["message"].split()[1]
                delays.append(delay)
                assert status_text(agent, await agent.get("crash") or {}) == "CrashLoopBackOff"
                seconds = {"10s": 10, "20s": 20, "40s": 40, "1m20s": 80, "2m40s": 160, "5m0s": 300}[delay]
                await agent.clock.advance(seconds - 2)  # not yet
                await agent.settle()
                assert "waiting" in cstatus(await agent.status("crash"), "web")["state"]
                await agent.clock.advance(2)
            st = await agent.until_status("crash", lambda s, r=restart: cstatus(s, "web")["restartCount"] == r
                                          and "running" in cstatus(s, "web")["state"])
            assert cstatus(st, "web")["lastState"]["terminated"]["exitCode"] == 1
        assert delays == ["10s", "20s", "40s", "1m20s", "2m40s"]


async def test_on_failure_restarts_only_non_zero_exits(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        created = await agent.create(pod("of", [container("ok"), container("bad")], restart_policy="OnFailure"))
        uid = created["metadata"]["uid"]
        await agent.until_status("of", phase("Running"))
        agent.runtime.exit_container(agent.running(uid, "ok").id, 0)
        agent.runtime.exit_container(agent.running(uid, "bad").id, 2)
        await agent.tick()
        st = await agent.until_status("of", lambda s: cstatus(s, "bad")["restartCount"] == 1)
        assert cstatus(st, "ok")["state"]["terminated"]["reason"] == "Completed" and st["phase"] == "Running"
        await agent.until_status("of", lambda s: "running" in cstatus(s, "bad")["state"])
        agent.runtime.exit_container(agent.running(uid, "bad").id, 0)
        await agent.tick()
        await agent.until_status("of", phase("Succeeded"))


async def test_init_containers_run_in_order_before_the_app(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        created = await agent.create(pod("init", [container("web")], init=[container("i1"), container("i2")]))
        uid = created["metadata"]["uid"]
        st = await agent.until_status("init", lambda s: "running" in cstatus(s, "i1")["state"]
                                      if s.get("initContainerStatuses") else False)
        assert status_text(agent, await agent.get("init") or {}) == "Init:0/2" and st["phase"] == "Pending"
        assert cstatus(st, "web")["state"] == {"waiting": {"reason": "PodInitializing"}}
        agent.runtime.exit_container(agent.running(uid, "i1").id, 0)
        await agent.tick()
        await agent.until_status("init", lambda s: "running" in cstatus(s, "i2")["state"])
        assert status_text(agent, await agent.get("init") or {}) == "Init:1/2"
        agent.runtime.exit_container(agent.running(uid, "i2").id, 0)
        await agent.tick()
        st = await agent.until_status("init", lambda s: s.get("phase") == "Running"
                                      and condition(s, "Ready")["status"] == "True")
        assert condition(st, "Initialized")["status"] == "True"
        assert status_text(agent, await agent.get("init") or {}) == "Running"


async def test_failing_init_container_with_never_is_init_error(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        await agent.create(pod("ie", [container("web")], init=[container("i1", "fake-exit", "1")],
                               restart_policy="Never"))
        await agent.until_status("ie", phase("Failed"))
        assert status_text(agent, await agent.get("ie") or {}) == "Init:Error"


async def test_failing_init_container_with_always_is_init_crashloopbackoff(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        await agent.create(pod("icl", [container("web")], init=[container("i1", "fake-exit", "1")]))
        st = await agent.until_status("icl", lambda s: (cstatus(s, "i1")["state"].get("waiting") or {}).get("reason")
                                      == "CrashLoopBackOff" if s.get("initContainerStatuses") else False)
        assert cstatus(st, "i1")["restartCount"] == 1 and st["phase"] == "Pending"
        assert status_text(agent, await agent.get("icl") or {}) == "Init:CrashLoopBackOff"
        assert cstatus(st, "web")["state"]["waiting"]["reason"] == "PodInitializing"
        await agent.clock.advance(10)
        await agent.until_status("icl", lambda s: cstatus(s, "i1")["restartCount"] == 2)


async def test_sidecar_runs_beside_the_app_and_stops_after_it(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        created = await agent.create(pod("side", [container("web")],
                                         init=[container("proxy", restartPolicy="Always")], restart_policy="Never"))
        uid = created["metadata"]["uid"]
        await agent.until_status("side", lambda s: s.get("phase") == "Running"
                                 and "running" in cstatus(s, "web")["state"])
        agent.runtime.exit_container(agent.running(uid, "proxy").id, 1)
        await agent.tick()
        await agent.until_status("side", lambda s: cstatus(s, "proxy")["restartCount"] == 1)  # even under Never
        agent.runtime.exit_container(agent.running(uid, "web").id, 0)
        await agent.tick()
        st = await agent.until_status("side", phase("Succeeded"))
        assert status_text(agent, await agent.get("side") or {}) == "Completed"
        await agent.until_status("side", lambda s: "terminated" in cstatus(s, "proxy")["state"])
        assert not [c for c in agent.host.containers.values() if c.state == "running"]
        assert st["phase"] == "Succeeded"


async def test_oom_killed_and_start_error(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        await agent.create(pod("hog", [container("hog", "fake-oom")], restart_policy="Never"))
        await agent.create(pod("nope", [container("web", "fake-missing")], restart_policy="Never"))
        st = await agent.until_status("hog", phase("Failed"))
        term = cstatus(st, "hog")["state"]["terminated"]
        assert term["reason"] == "OOMKilled" and term["exitCode"] == 137
        assert status_text(agent, await agent.get("hog") or {}) == "OOMKilled"
        st = await agent.until_status("nope", phase("Failed"))
        term = cstatus(st, "web")["state"]["terminated"]
        assert term["reason"] == "StartError" and term["exitCode"] == 128
        assert term["message"] == 'exec: "fake-missing": executable file not found in $PATH'
        assert status_text(agent, await agent.get("nope") or {}) == "StartError"


async def test_graceful_deletion_waits_out_the_grace_period(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        created = await agent.create(pod("slow", [container("web", "fake-ignore-term")],
                                         terminationGracePeriodSeconds=20))
        await agent.until_status("slow", phase("Running"))
        await agent.api.client.delete(PODS, "slow", "default")
        obj = await agent.get("slow")
        assert obj is not None and status_text(agent, obj) == "Terminating"
        await agent.settle()
        await agent.clock.advance(19)
        await agent.settle()
        assert agent.running(created["metadata"]["uid"], "web")  # SIGTERM ignored, grace not over
        await agent.clock.advance(1)
        await agent.until_gone("slow")
        assert agent.host.containers == {} and agent.host.sandboxes == {}
        assert agent.network_state.allocated == {}


async def test_image_update_restarts_the_container(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        agent.images.add("busybox:1.36", files={"etc/passwd": b"root:x:0:0::/:/bin/sh\n"})
        created = await agent.create(pod("upd", [container("web")]))
        st = await agent.until_status("upd", phase("Running"))
        old_id = cstatus(st, "web")["containerID"]
        await agent.api.client.patch(PODS, "upd", {"spec": {"containers": [{"name": "web", "image": "busybox:1.36"}]}},
                                     "default", patch_type="application/strategic-merge-patch+json")
        st = await agent.until_status("upd", lambda s: cstatus(s, "web")["containerID"] != old_id
                                      and "running" in cstatus(s, "web")["state"])
        cs = cstatus(st, "web")
        assert cs["image"] == "busybox:1.36" and cs["restartCount"] == 1
        assert cs["lastState"]["terminated"]["exitCode"] == 143
        assert created["metadata"]["uid"] == (await agent.get("upd") or {})["metadata"]["uid"]


async def test_dead_sandbox_is_recreated_and_counts_go_on(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        await agent.create(pod("sb", [container("web")]))
        await agent.until_status("sb", phase("Running"))
        (sandbox_id,) = agent.host.sandboxes
        await agent.runtime.stop_pod_sandbox(sandbox_id)
        await agent.tick()
        st = await agent.until_status("sb", lambda s: cstatus(s, "web")["restartCount"] == 1
                                      and "running" in cstatus(s, "web")["state"])
        assert sandbox_id not in agent.host.sandboxes and len(agent.host.sandboxes) == 1
        assert condition(st, "PodReadyToStartContainers")["status"] == "True"


async def test_missing_image_is_err_image_pull_then_backoff(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        await agent.create(pod("pull", [{"name": "web", "image": "example.test/none:1", "command": ["sleep"]}]))
        st = await agent.until_status("pull", lambda s: bool(s.get("containerStatuses")) and
                                      (cstatus(s, "web")["state"].get("waiting") or {}).get("reason")
                                      == "ImagePullBackOff")
        assert st["phase"] == "Pending"
        events = await agent.api.client.list(EVENTS, "default")
        assert "Error: ErrImagePull" in [e.get("message") for e in events["items"]]
        agent.images.add("example.test/none:1", files={"etc/passwd": b"root:x:0:0::/:/bin/sh\n"})
        await agent.clock.advance(2)  # the worker retries after 2 s, but the pull waits 10 s
        await agent.settle()
        assert (await agent.status("pull"))["phase"] == "Pending"
        await agent.clock.advance(8)
        await agent.until_status("pull", phase("Running"))


async def test_missing_configmap_is_create_container_config_error(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        env = [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "a"}}}]
        await agent.create(pod("cfg", [container("web", env=env)]))
        st = await agent.until_status("cfg", lambda s: bool(s.get("containerStatuses")) and
                                      (cstatus(s, "web")["state"].get("waiting") or {}).get("reason")
                                      == "CreateContainerConfigError")
        assert cstatus(st, "web")["state"]["waiting"]["message"] == 'configmap "cfg" not found'
        await agent.api.client.create(
            CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}}, "default")
        await agent.clock.advance(2)
        await agent.until_status("cfg", phase("Running"))
        config = next(iter(agent.host.configs.values()))
        assert "A=1" in config.env
