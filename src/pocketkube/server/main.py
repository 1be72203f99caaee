"""`pocketkube server`: the control plane in one process.

Start order follows readiness, not sleeps: certificates → store → bootstrap objects → HTTPS
listener → scheduler, controllers and the node agent (each an API client over HTTPS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import ssl
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from pocketkube.agent.main import AgentConfig, missing_prerequisites, run_agent
from pocketkube.api import meta
from pocketkube.apiserver import codec
from pocketkube.apiserver.app import make_app
from pocketkube.client import ApiClient, ClientConfig
from pocketkube.client.informer import shared_informers
from pocketkube.client.runner import until_signalled
from pocketkube.controllers.manager import run_controllers
from pocketkube.scheduler.scheduler import Scheduler
from pocketkube.server.kubeconfig import admin_kubeconfig
from pocketkube.server.pki import Pki, ensure_pki
from pocketkube.storage import KeyExistsError, Store, open_store
from pocketkube.tasks import cancel_and_wait

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass
class ServerConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 6443
    store_url: str = ""
    compact_interval: float = 300.0  # Kubernetes compacts what is older than five minutes
    service_cidr: str = "10.96.0.0/12"
    agent: AgentConfig | None = None  # the in-process node agent (None: control plane only)

    @property
    def kubeconfig_path(self) -> Path:
        return self.data_dir / "admin.kubeconfig"

    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite://{self.data_dir / 'state.db'}"


async def bootstrap(store: Store) -> None:
    """Create the namespaces every cluster has (kept if they exist)."""
    for name in SYSTEM_NAMESPACES:
        ns = {"apiVersion": "v1", "kind": "Namespace",
              "metadata": {"name": name, "uid": meta.new_uid(), "creationTimestamp": meta.rfc3339(meta.now()),
                           "labels": {"kubernetes.io/metadata.name": name}},
              "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        with contextlib.suppress(KeyExistsError):
            await store.create(f"/registry/core/namespaces/{name}", codec.to_store(ns))


async def supervised(name: str, coro: Coroutine[Any, Any, None]) -> None:
    """Run a component; a component that fails is logged loudly instead of vanishing."""
    try:
        await coro
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("%s stopped with an error", name)


async def compactor(store: Store, interval: float) -> None:
    """Each interval, forget history older than the previous interval."""
    previous = await store.current_revision()
    while True:
        await asyncio.sleep(interval)
        current = await store.current_revision()
        if previous > await store.compacted_revision():
            await store.compact(previous)
        previous = current


def kubelet_client_context(pki: Pki) -> ssl.SSLContext:
    """How the API server calls node agents: the admin client certificate; agents' serving
    certificates are their own and not verified (kube-apiserver's default)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(str(pki.admin_cert), str(pki.admin_key))
    return ctx


def ssl_context(pki: Pki) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca_cert))
    ctx.load_cert_chain(str(pki.serving_cert), str(pki.serving_key))
    ctx.verify_mode = ssl.CERT_OPTIONAL  # a client certificate, or a bearer token
    return ctx


async def serve(config: ServerConfig, stop: asyncio.Event) -> None:
    started = time.monotonic()
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    pki = ensure_pki(config.data_dir / "pki", [config.host] if config.host not in ("", "0.0.0.0", "::") else [])
    kubeconfig = admin_kubeconfig(pki, config.host, config.port)
    config.kubeconfig_path.write_text(kubeconfig)
    os.chmod(config.kubeconfig_path, 0o600)
    store = await open_store(config.resolved_store_url())
    tasks: list[asyncio.Task[None]] = []
    clients: list[ApiClient] = []
    runner: web.AppRunner | None = None
    try:
        await bootstrap(store)
        app = make_app(store, token=pki.token(), service_cidr=config.service_cidr,
                       kubelet_ssl=kubelet_client_context(pki))
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, config.host or None, config.port, ssl_context=ssl_context(pki),
                           reuse_address=True, backlog=1024)
        await site.start()
        tasks.append(asyncio.create_task(compactor(store, config.compact_interval)))
        # Components are API clients over HTTPS, as they would be in their own processes.
        client = ApiClient(ClientConfig.from_kubeconfig(config.kubeconfig_path, user_agent="pocketkube-server"))
        clients.append(client)
        tasks.append(asyncio.create_task(supervised("scheduler", Scheduler(client).run())))
        tasks.append(asyncio.create_task(supervised("controllers", run_controllers(client, config.data_dir / "volumes"))))
        if config.agent is not None:
            missing = missing_prerequisites()
            if missing:
                log.warning("not running the node agent: missing %s", ", ".join(missing))
            else:
                agent_client = ApiClient(ClientConfig.from_kubeconfig(config.kubeconfig_path, user_agent="kubelet"))
                clients.append(agent_client)
                tasks.append(asyncio.create_task(supervised("node agent", run_agent(
                    agent_client, config.agent, pki.ca_cert.read_bytes()))))
        print(f"pocketkube: API server ready on https://{config.host}:{config.port} "
              f"in {time.monotonic() - started:.2f}s", flush=True)
        print(f"pocketkube: kubeconfig at {config.kubeconfig_path}", flush=True)
        print(f"pocketkube: try  kubectl --kubeconfig {config.kubeconfig_path} get namespaces", flush=True)
        await stop.wait()
    finally:
        await cancel_and_wait(tasks)
        for client in clients:
            shared_informers(client).stop()
            await client.close()
        if runner is not None:
            await runner.cleanup()
        await store.close()


def run(config: ServerConfig) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import uvloop

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(config, stop)

    uvloop.run(main())


def run_components(kubeconfig: Path, volumes_root: Path, scheduler: bool) -> None:
    """`pocketkube controllers`: the controllers (and scheduler) as their own process."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import uvloop

    async def main() -> None:
        client = ApiClient(ClientConfig.from_kubeconfig(kubeconfig, user_agent="pocketkube-controllers"))
        parts = [supervised("controllers", run_controllers(client, volumes_root))]
        if scheduler:
            parts.append(supervised("scheduler", Scheduler(client).run()))
        try:
            await until_signalled(asyncio.gather(*parts))
        finally:
            shared_informers(client).stop()
            await client.close()

    uvloop.run(main())
