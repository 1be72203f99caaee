"""CNIPlugin: the NetworkPlugin that drives the real CNI plugins, the way libcni does.

setup = ADD of the loopback network on `lo`, then ADD of each plugin of the conflist on `eth0` in
order, each getting the previous plugin's result as `prevResult` and only the runtime arguments it
declared in `capabilities` (portmap: `portMappings`). The final result is cached on disk
(`cache.ResultCache`) before the links are awaited, so a crash after ADD still leaves DEL its
`prevResult` and a restarted agent its pod IP. A failed ADD is rolled back with DEL at once, as
kubelet does, so no IP or veth leaks.

teardown = DEL of the conflist in reverse order with the cached result as `prevResult` (and the
cached port mappings, which are the ones that were really set up). A netns that is already gone is
passed as an empty CNI_NETNS, which the plugins accept for DEL; loopback needs no DEL then. The
cache entry goes only when every DEL succeeded, so a retry still has what it needs.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from pocketkube.network.base import NetworkError, PodNetworkRef, PodNetworkStatus, PortMapping
from pocketkube.network.cache import CachedAttachment, ResultCache
from pocketkube.network.config import NetworkOptions, build_conflist, build_loopback, validate
from pocketkube.network.host import netns_addresses, wait_links_ready
from pocketkube.network.invoke import Invocation, find_plugin, invoke, supported_versions
from pocketkube.network.result import (
    cni_args,
    host_interfaces,
    port_mappings_config,
    runtime_config,
    status_from_result,
)

POD_IFNAME = "eth0"
LOOPBACK_IFNAME = "lo"


class CNIPlugin:
    def __init__(self, opts: NetworkOptions, *, link_timeout: float = 2.0) -> None:
        problems = validate(opts)
        if problems:
            raise NetworkError("invalid network options: " + "; ".join(problems))
        self.opts = opts
        self.conflist = build_conflist(opts)
        self.loopback = build_loopback(opts)
        self.cache = ResultCache(opts.cache_dir)
        self._link_timeout = link_timeout

    async def check_plugins(self) -> None:
        """Fail early, with a plain message, when a plugin is missing or does not speak our version."""
        for conf in (*self.conflist["plugins"], *self.loopback["plugins"]):
            binary = find_plugin(conf["type"], self.opts.bin_dirs)
            versions = await supported_versions(binary)
            if self.opts.cni_version not in versions:
                raise NetworkError(
                    f"CNI plugin {binary} supports {', '.join(versions)}, not {self.opts.cni_version}"
                )

    async def setup(
        self, pod: PodNetworkRef, netns_path: str, port_mappings: list[PortMapping]
    ) -> PodNetworkStatus:
        if not os.path.exists(netns_path):
            raise NetworkError(f"network namespace {netns_path} does not exist")
        cached = self.cache.load(self.conflist["name"], pod.container_id, POD_IFNAME)
        if cached is not None:
            status = status_from_result(cached.result, POD_IFNAME)
            if status is not None:
                return status
        available = {"portMappings": port_mappings_config(port_mappings)}
        try:
            await self._add(self.loopback, pod, netns_path, LOOPBACK_IFNAME, {})
            result = await self._add(self.conflist, pod, netns_path, POD_IFNAME, available)
        except BaseException:
            await self._rollback(pod, netns_path, available)
            raise
        self.cache.save(
            CachedAttachment(self.conflist["name"], pod.container_id, POD_IFNAME, result, available, cni_args(pod)),
            self.conflist,
        )
        status = status_from_result(result, POD_IFNAME)
        if status is None:
            await self.teardown(pod, netns_path, port_mappings)
            raise NetworkError(f"CNI network {self.conflist['name']} gave the pod no IP address: {result}")
        await wait_links_ready(host_interfaces(result, self.opts.bridge), self._link_timeout)
        return status

    async def teardown(self, pod: PodNetworkRef, netns_path: str, port_mappings: list[PortMapping]) -> None:
        name = self.conflist["name"]
        cached = self.cache.load(name, pod.container_id, POD_IFNAME)
        available = cached.runtime_config if cached else {"portMappings": port_mappings_config(port_mappings)}
        netns = netns_path if os.path.exists(netns_path) else ""
        await self._delete(self.conflist, pod, netns, POD_IFNAME, available, cached.result if cached else None)
        if netns:
            await self._delete(self.loopback, pod, netns, LOOPBACK_IFNAME, {}, None)
        self.cache.delete(name, pod.container_id, POD_IFNAME)

    async def status(self, pod: PodNetworkRef, netns_path: str) -> PodNetworkStatus | None:
        if not os.path.exists(netns_path):
            return None
        cached = self.cache.load(self.conflist["name"], pod.container_id, POD_IFNAME)
        if cached is not None:
            return status_from_result(cached.result, POD_IFNAME)
        # No cache (written by an older agent, or lost): the addresses are still in the netns.
        cidrs = await netns_addresses(netns_path, POD_IFNAME)
        if not cidrs:
            return None
        cidrs.sort(key=lambda c: ":" in c)
        return PodNetworkStatus(
            ips=tuple(c.split("/", 1)[0] for c in cidrs), interface=POD_IFNAME, cidrs=tuple(cidrs)
        )

    async def check(self, pod: PodNetworkRef, netns_path: str) -> None:
        """CNI CHECK of the pod's attachment against its cached ADD result; CNIError when it drifted."""
        cached = self.cache.load(self.conflist["name"], pod.container_id, POD_IFNAME)
        if cached is None:
            raise NetworkError(f"no cached CNI result for sandbox {pod.container_id}")
        inv = self._invocation(pod, netns_path, POD_IFNAME)
        for plugin in self.conflist["plugins"]:
            binary = find_plugin(plugin["type"], self.opts.bin_dirs)
            conf = self._plugin_config(self.conflist, plugin, cached.runtime_config, cached.result)
            await invoke(binary, "CHECK", conf, inv)

    def attachments(self) -> list[PodNetworkRef]:
        """The pods this node's network has cached ADD results for, rebuilt from their CNI_ARGS.

        A restarted agent compares them with the sandboxes it still has and tears down the rest.
        """
        pods: list[PodNetworkRef] = []
        for entry in self.cache.entries(self.conflist["name"], POD_IFNAME):
            args = dict(entry.cni_args)
            pods.append(PodNetworkRef(
                args.get("K8S_POD_NAMESPACE", ""), args.get("K8S_POD_NAME", ""), args.get("K8S_POD_UID", ""),
                entry.container_id,
            ))
        return pods

    async def close(self) -> None:
        """Nothing to release: every plugin call is its own process."""

    # --- conflist execution ------------------------------------------------------------------

    def _invocation(self, pod: PodNetworkRef, netns: str, ifname: str) -> Invocation:
        return Invocation(pod.container_id, netns, ifname, cni_args(pod), self.opts.bin_dirs)

    def _plugin_config(
        self, conflist: dict[str, Any], plugin: dict[str, Any], available: dict[str, Any],
        prev: dict[str, Any] | None,
    ) -> dict[str, Any]:
        conf = copy.deepcopy(plugin)
        conf["cniVersion"] = conflist["cniVersion"]
        conf["name"] = conflist["name"]
        rc = runtime_config(plugin.get("capabilities") or {}, available)
        if rc:
            conf["runtimeConfig"] = rc
        if prev is not None:
            conf["prevResult"] = prev
        return conf

    async def _add(
        self, conflist: dict[str, Any], pod: PodNetworkRef, netns: str, ifname: str, available: dict[str, Any]
    ) -> dict[str, Any]:
        inv = self._invocation(pod, netns, ifname)
        prev: dict[str, Any] | None = None
        for plugin in conflist["plugins"]:
            binary = find_plugin(plugin["type"], self.opts.bin_dirs)
            result = await invoke(binary, "ADD", self._plugin_config(conflist, plugin, available, prev), inv)
            if result is None:
                raise NetworkError(f"CNI plugin {plugin['type']} ADD printed no result")
            prev = result
        assert prev is not None
        return prev

    async def _delete(
        self, conflist: dict[str, Any], pod: PodNetworkRef, netns: str, ifname: str,
        available: dict[str, Any], prev: dict[str, Any] | None,
    ) -> None:
        inv = self._invocation(pod, netns, ifname)
        for plugin in reversed(conflist["plugins"]):
            binary = find_plugin(plugin["type"], self.opts.bin_dirs)
            await invoke(binary, "DEL", self._plugin_config(conflist, plugin, available, prev), inv)

    async def _rollback(self, pod: PodNetworkRef, netns_path: str, available: dict[str, Any]) -> None:
        """Undo a half-done ADD; its own failure must not hide the ADD error the caller sees."""
        try:
            await self._delete(self.conflist, pod, netns_path, POD_IFNAME, available, None)
            await self._delete(self.loopback, pod, netns_path, LOOPBACK_IFNAME, {}, None)
        except NetworkError:
            pass
        self.cache.delete(self.conflist["name"], pod.container_id, POD_IFNAME)
