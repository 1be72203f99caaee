"""What one sync costs and what starts one: the runtime is listed once per sync that changed
something (never for a sync with nothing to do), and the echo of the agent's own status write
starts no sync; an agent restart re-adopts what runs and cleans up what was deleted meanwhile."""

from __future__ import annotations

from pathlib import Path

from pocketkube.agent.kubelet import needs_sync
from tests.support.agent import PODS, container, pod, running_agent
from tests.support.wait import until


async def test_a_pod_start_lists_the_runtime_once(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        await agent.settle()
        listings, syncs = agent.runtime.listings, agent.kubelet.syncs
        await agent.create(pod("one", [container("a"), container("b")], init=[container("i", "fake-exit", "0")]))
        await agent.until_status("one", lambda s: s.get("phase") == "Running"
                                 and all("running" in c["state"] for c in s["containerStatuses"]))
        await agent.settle()
        syncs = agent.kubelet.syncs - syncs
        # Two syncs change the runtime (sandbox + init container; then the app containers), each
        # followed by one relist; the syncs the PLEG's events start find nothing to do and list nothing.
        assert agent.runtime.listings - listings == 2, (agent.runtime.listings - listings, syncs)
        assert syncs >= 2
        before = agent.runtime.listings
        agent.kubelet.workers.poke((await agent.get("one") or {})["metadata"]["uid"])
        await agent.settle()
        assert agent.runtime.listings == before  # a sync with nothing to do reads the cache only


async def test_own_status_writes_start_no_sync(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        created = await agent.create(pod("echo", [container("web")]))
        await agent.until_status("echo", lambda s: s.get("phase") == "Running")
        # Wait until the informer has the echo of the last status write, then count.
        await agent.settle()
        written = await agent.get("echo") or {}
        await until(lambda: (agent.kubelet.pods.get("default/echo") or {}).get("metadata", {})
                    .get("resourceVersion") == written["metadata"]["resourceVersion"])
        await agent.settle()
        syncs = agent.kubelet.syncs
        # Status written by someone else (a readiness gate's condition): no sync either.
        conditions = [*written["status"]["conditions"], {"type": "example.com/gate", "status": "True"}]
        await agent.api.client.patch(PODS, "echo", {"status": {"conditions": conditions}}, "default",
                                     subresource="status", patch_type="application/merge-patch+json")
        await until(lambda: any(c["type"] == "example.com/gate" for c in
                                (agent.kubelet.pods.get("default/echo") or {})["status"]["conditions"]))
        await agent.settle()
        assert agent.kubelet.syncs == syncs
        # A label is part of what the agent acts on: one sync.
        await agent.api.client.patch(PODS, "echo", {"metadata": {"labels": {"tier": "web"}}}, "default",
                                     patch_type="application/merge-patch+json")
        await until(lambda: agent.kubelet.syncs > syncs)
        await agent.settle()
        assert agent.kubelet.syncs == syncs + 1
        assert created["metadata"]["uid"] in agent.kubelet.workers


def test_needs_sync_ignores_status_and_resource_version() -> None:
    old = {"metadata": {"uid": "u", "resourceVersion": "1", "labels": {"a": "1"}}, "spec": {"x": 1},
           "status": {"phase": "Pending"}}
    assert not needs_sync(old, {**old, "metadata": {**old["metadata"], "resourceVersion": "2"},
                                "status": {"phase": "Running"}})
    assert needs_sync(old, {**old, "spec": {"x": 2}})
    assert needs_sync(old, {**old, "metadata": {**old["metadata"], "labels": {"a": "2"}}})
    assert needs_sync(old, {**old, "metadata": {**old["metadata"], "deletionTimestamp": "2026-01-01T00:00:00Z"}})


async def test_restart_readopts_running_containers_and_cleans_up_deleted_pods(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as agent:
        kept = await agent.create(pod("kept", [container("web")]))
        gone = await agent.create(pod("gone", [container("web")]))
        crash = await agent.create(pod("crash", [container("web")]))
        for name in ("kept", "gone", "crash"):
            await agent.until_status(name, lambda s: s.get("phase") == "Running")
        # Crash twice so that the restart backoff stands at 10 s.
        for restart in (1, 2):
            agent.runtime.exit_container(agent.running(crash["metadata"]["uid"], "web").id, 1)
            await agent.tick()
            if restart == 2:
                await agent.clock.advance(10)
            await agent.until_status("crash", lambda s, r=restart: s["containerStatuses"][0]["restartCount"] == r
                                     and "running" in s["containerStatuses"][0]["state"])
        web = agent.running(kept["metadata"]["uid"], "web").id
        await agent.settle()
        await agent.stop()
        # While the agent is away: a pod is force-deleted, a container crashes.
        await agent.api.client.delete(PODS, "gone", "default", grace_period=0)
        agent.runtime.exit_container(agent.running(crash["metadata"]["uid"], "web").id, 1)
        await agent.start()
        await until(lambda: not [c for c in agent.host.containers.values()
                                 if c.labels.get("io.kubernetes.pod.uid") == gone["metadata"]["uid"]])
        assert agent.running(kept["metadata"]["uid"], "web").id == web  # the same container, re-adopted
        assert len([s for s in agent.host.sandboxes.values() if s.config.uid == kept["metadata"]["uid"]]) == 1
        # The backoff came back from the runtime's history: attempt 3 waits 20 s.
        st = await agent.until_status("crash", lambda s: "waiting" in s["containerStatuses"][0]["state"])
        assert st["containerStatuses"][0]["state"]["waiting"]["message"].startswith("back-off 20s ")
