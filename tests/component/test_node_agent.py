"""The agent registers its Node and keeps its Lease: what the scheduler and kubectl rely on."""

from __future__ import annotations

from pathlib import Path

from pocketkube.agent.node import NodeAgent, NodeConfig
from pocketkube.api import resources
from pocketkube.scheduler.fit import node_allocatable, node_ready
from tests.support.inprocess import inprocess_api

NODES = resources.require("", "v1", "nodes")
LEASES = resources.require("coordination.k8s.io", "v1", "leases")


async def test_register_report_and_renew(tmp_path: Path) -> None:
    async with inprocess_api() as api:
        agent = NodeAgent(api.client, NodeConfig("node-a", "192.0.2.10", "10.244.0.0/24", tmp_path))
        await agent.register()
        node = await api.client.get(NODES, "node-a")
        assert node["spec"]["podCIDR"] == "10.244.0.0/24"
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "node-a"
        assert node_ready(node) and node_allocatable(node).pods == 110
        assert {"type": "InternalIP", "address": "192.0.2.10"} in node["status"]["addresses"]
        assert node["status"]["nodeInfo"]["kubeletVersion"].startswith("v1.33")
        first = node["metadata"]["resourceVersion"]
        await agent.report_status()  # nothing changed but the heartbeat: no write
        assert (await api.client.get(NODES, "node-a"))["metadata"]["resourceVersion"] == first
        await agent.renew_lease()
        lease = await api.client.get(LEASES, "node-a", "kube-node-lease")
        assert lease["spec"]["holderIdentity"] == "node-a" and lease["spec"]["leaseDurationSeconds"] == 40
        renewed = lease["spec"]["renewTime"]
        await agent.renew_lease()
        again = await api.client.get(LEASES, "node-a", "kube-node-lease")
        assert again["spec"]["renewTime"] >= renewed
        # A restarted agent takes over its existing Node.
        await NodeAgent(api.client, NodeConfig("node-a", "192.0.2.10", "10.244.0.0/24", tmp_path)).register()
