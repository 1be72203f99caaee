"""Composing a node agent: runtime, network, images, volumes, the kubelet, and its HTTPS endpoint.

Used by `pocketkube server` (the agent runs in-process, as an API client over HTTPS) and by
`pocketkube agent` (its own process, e.g. a second node on the same machine). Every path and
name derives from the agent's data dir and node name, so several agents never collide.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from pocketkube import process
from pocketkube.agent import server as agent_server
from pocketkube.agent.kubelet import Kubelet
from pocketkube.agent.node import NodeConfig
from pocketkube.client.rest import ApiClient
from pocketkube.images import LocalImageService, OverlaySnapshotter, default_root
from pocketkube.network.cni import CNIPlugin
from pocketkube.network.config import NetworkOptions
from pocketkube.runtime.oci.service import OCIRuntime
from pocketkube.tasks import cancel_and_wait

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentConfig:
    node_name: str
    data_dir: Path
    node_ip: str = "127.0.0.1"
    kubelet_port: int = 10250
    pod_cidr: str = "10.244.0.0/24"
    cluster_cidr: str = "10.244.0.0/16"
    bridge: str = "pk0"

    @property
    def instance(self) -> str:
        """A short stable name for this agent's runtime state (run dir, cgroups)."""
        digest = hashlib.sha256(f"{self.data_dir.resolve()}:{self.node_name}".encode()).hexdigest()[:10]
        return f"{self.node_name[:20]}-{digest}"


def missing_prerequisites() -> list[str]:
    """What the host lacks to run pods (the agent does not start without it)."""
    import os

    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    for binary in ("runc", "conmon"):  # found as the runtime finds them
        if process.which(binary) is None:
            missing.append(binary)
    return missing


async def run_agent(client: ApiClient, config: AgentConfig, client_ca_pem: bytes,
                    ready: asyncio.Event | None = None) -> None:
    runtime = OCIRuntime(instance=config.instance)
    network = CNIPlugin(NetworkOptions(bridge=config.bridge, pod_cidr=config.pod_cidr,
                                       cluster_cidr=config.cluster_cidr, state_dir=config.data_dir / "network"))
    await network.check_plugins()
    images = LocalImageService(default_root(config.data_dir))
    snapshots = OverlaySnapshotter(default_root(config.data_dir))
    await snapshots.cleanup()
    runc_version = "runc://unknown"
    with contextlib.suppress(Exception):
        out = (await process.run([runtime.runc.binary, "--version"])).stdout
        runc_version = "runc://" + out.decode().splitlines()[0].split()[-1]
    node = NodeConfig(config.node_name, config.node_ip, config.pod_cidr, config.data_dir,
                      kubelet_port=config.kubelet_port, runtime_version=runc_version)
    kubelet = Kubelet(client, node, runtime, network, images, snapshots, config.data_dir)
    cert, key = agent_server.ensure_serving_cert(config.data_dir / "pki", [config.node_ip, config.node_name])
    runner = web.AppRunner(agent_server.make_app(kubelet), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, config.node_ip, config.kubelet_port,
                       ssl_context=agent_server.server_ssl_context(cert, key, client_ca_pem), reuse_address=True)
    await site.start()
    task = asyncio.create_task(kubelet.run())
    try:
        await kubelet.node_agent.registered.wait()
        if ready is not None:
            ready.set()
        await task
    finally:
        await cancel_and_wait([task])
        await runner.cleanup()
        await network.close()
        # Containers outlive the agent by design; with none left, neither does its runtime state.
        with contextlib.suppress(OSError):
            await runtime.release_if_idle()


def run_standalone(kubeconfig: Path, config: AgentConfig) -> None:
    """`pocketkube agent`: one node agent in the foreground until SIGINT/SIGTERM."""
    import uvloop

    from pocketkube.client.rest import ClientConfig
    from pocketkube.client.runner import until_signalled

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    missing = missing_prerequisites()
    if missing:
        raise SystemExit(f"pocketkube agent: missing {', '.join(missing)}")

    async def main() -> None:
        client_config = ClientConfig.from_kubeconfig(kubeconfig, user_agent="kubelet")
        client = ApiClient(client_config)
        try:
            await until_signalled(run_agent(client, config, client_config.ca_pem))
        finally:
            await client.close()

    uvloop.run(main())
