"""Two nodes on one machine: the server's own agent and a second `pocketkube agent` process.

Each agent has its own data dir, node name, bridge, pod /24 inside one cluster CIDR and kubelet
port. The story: a Deployment of 6 spreads 3/3 (the scheduler's topology spread over hostnames);
a DaemonSet runs exactly one pod per node; a NoSchedule taint on the second node keeps new pods
off it and a matching toleration lets them on. The teardown deletes every workload and pod, waits
for both agents to finish them, stops both processes, removes both bridges and then proves
nothing is left on the host: no runc container, conmon process, mount or veth of either agent.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from pocketkube.agent.main import AgentConfig
from tests.e2e.pods import (
    AgentProcess,
    agent_process,
    apply,
    busybox,
    host_leftovers,
    node_server,
)
from tests.support.server import ServerProcess
from tests.support.wait import until_sync

pytestmark = pytest.mark.e2e

SECOND = "pk-second-node"


@dataclass
class Cluster:
    server: ServerProcess
    first: str
    second: str
    agent: AgentProcess

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.server.kubectl(*args, check=check)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("two-nodes")
    harness = node_server(tmp)
    srv = next(harness)
    assert srv.agent is not None
    first = srv.kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").stdout.strip()
    first_instance = AgentConfig(node_name=first, data_dir=srv.data_dir.absolute()).instance
    bridges = [srv.agent.bridge]
    agent: AgentProcess | None = None
    try:
        second_harness = agent_process(srv, tmp / "agent", SECOND)
        agent = next(second_harness)
        bridges.append(agent.bridge)
        try:
            yield Cluster(srv, first, SECOND, agent)
            # Workloads first (their controllers would replace deleted pods), then whatever is left.
            srv.kubectl("delete", "deployments,daemonsets", "--all", "--wait=false")
            srv.kubectl("delete", "pods", "--all", "--grace-period=0", "--wait=false")
            until_sync(lambda: not srv.kubectl("get", "pods", "-A", "-o", "name").stdout.strip(), 60)
            # A pod deleted with no grace period leaves the API at once; its agent tears it down after.
            left = [(srv.data_dir, first_instance, srv.agent.bridge), (agent.data_dir, agent.instance, agent.bridge)]
            with contextlib.suppress(AssertionError):  # judged on the next line
                until_sync(lambda: not any(host_leftovers(*where) for where in left), 30)
            assert [host_leftovers(*where) for where in left] == [[], []]
        finally:
            next(second_harness, None)  # stops the second agent, removes its bridge
    finally:
        next(harness, None)  # stops the server, removes its bridge
    assert host_leftovers(srv.data_dir, first_instance) == []
    if agent is not None:
        assert host_leftovers(agent.data_dir, agent.instance) == []
    for bridge in bridges:
        assert subprocess.run(["ip", "link", "show", bridge], capture_output=True).returncode != 0, bridge


# -- helpers --------------------------------------------------------------------------------------------


def template(app: str, **spec: Any) -> dict[str, Any]:
    main = busybox("c", "sh", "-c", "hostname; exec sleep 3600")
    return {"metadata": {"labels": {"app": app}},
            "spec": {"terminationGracePeriodSeconds": 0, "containers": [main], **spec}}


def deployment(name: str, replicas: int, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": template(name, **spec)}}


def pods(cluster: Cluster, app: str) -> list[dict[str, Any]]:
    out = cluster.kubectl("get", "pods", "-l", f"app={app}", "-o", "json")
    return [p for p in json.loads(out.stdout)["items"] if not p["metadata"].get("deletionTimestamp")]


def running(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def wait_running(cluster: Cluster, app: str, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    until_sync(lambda: sum(map(running, pods(cluster, app))) == count == len(pods(cluster, app)), timeout)
    return pods(cluster, app)


def per_node(found: list[dict[str, Any]]) -> Counter[str]:
    return Counter(p["spec"].get("nodeName", "") for p in found)


def delete_and_wait(cluster: Cluster, kind: str, name: str) -> None:
    cluster.kubectl("delete", kind, name, "--wait=false")
    until_sync(lambda: not pods(cluster, name), 60)


# -- the story ------------------------------------------------------------------------------------------


def test_both_nodes_are_ready(cluster: Cluster) -> None:
    out = cluster.kubectl("get", "nodes", "-o", "json")
    nodes = {n["metadata"]["name"]: n for n in json.loads(out.stdout)["items"]}
    assert set(nodes) == {cluster.first, cluster.second}
    cidrs = {name: n["spec"]["podCIDR"] for name, n in nodes.items()}
    assert cidrs[cluster.second] == cluster.agent.pod_cidr and cidrs[cluster.first] != cidrs[cluster.second]
    ports = {n["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"] for n in nodes.values()}
    assert len(ports) == 2


def test_deployment_of_six_spreads_three_and_three(cluster: Cluster) -> None:
    apply(cluster.server, deployment("spread", 6))
    found = wait_running(cluster, "spread", 6)
    assert per_node(found) == {cluster.first: 3, cluster.second: 3}
    # Each pod got its address from its own node's range.
    second_net = cluster.agent.pod_cidr.rsplit(".", 1)[0] + "."
    for p in found:
        assert p["status"]["podIP"].startswith(second_net) == (p["spec"]["nodeName"] == cluster.second)
    # Logs come from the right node's kubelet endpoint.
    on_second = next(p["metadata"]["name"] for p in found if p["spec"]["nodeName"] == cluster.second)
    until_sync(lambda: cluster.kubectl("logs", on_second, check=False).stdout.strip() == on_second, 10)
    delete_and_wait(cluster, "deployment", "spread")


def test_daemonset_runs_one_pod_per_node(cluster: Cluster) -> None:
    apply(cluster.server, {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "everywhere"},
                           "spec": {"selector": {"matchLabels": {"app": "everywhere"}},
                                    "template": template("everywhere")}})
    found = wait_running(cluster, "everywhere", 2)
    assert per_node(found) == {cluster.first: 1, cluster.second: 1}
    until_sync(lambda: json.loads(cluster.kubectl("get", "ds", "everywhere", "-o", "json").stdout)
               .get("status", {}).get("numberReady") == 2, 30)
    # Settled: still exactly one each, not one more.
    assert per_node(pods(cluster, "everywhere")) == {cluster.first: 1, cluster.second: 1}
    delete_and_wait(cluster, "daemonset", "everywhere")


def test_noschedule_taint_keeps_pods_off_and_toleration_lets_them_on(cluster: Cluster) -> None:
    cluster.kubectl("taint", "node", cluster.second, "dedicated=x:NoSchedule")
    try:
        apply(cluster.server, deployment("untolerating", 4))
        found = wait_running(cluster, "untolerating", 4)
        assert per_node(found) == {cluster.first: 4}

        toleration = {"key": "dedicated", "operator": "Equal", "value": "x", "effect": "NoSchedule"}
        apply(cluster.server, deployment("tolerating", 4, tolerations=[toleration]))
        found = wait_running(cluster, "tolerating", 4)
        # Spreading puts them on both nodes now that the tainted one is allowed.
        assert per_node(found)[cluster.second] >= 1
        assert set(per_node(found)) == {cluster.first, cluster.second}
        # The taint is NoSchedule, not NoExecute: what runs keeps running.
        assert per_node(pods(cluster, "untolerating")) == {cluster.first: 4}
    finally:
        cluster.kubectl("taint", "node", cluster.second, "dedicated=x:NoSchedule-", check=False)
    delete_and_wait(cluster, "deployment", "untolerating")
    delete_and_wait(cluster, "deployment", "tolerating")

