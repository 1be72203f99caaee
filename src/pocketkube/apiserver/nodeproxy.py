"""pods/log: find the node a pod runs on and stream the container's log from its agent.

As kube-apiserver does: the pod's status decides whether there is a log to read yet (a container
still waiting has none), then the request goes to the node's kubelet endpoint
(`status.daemonEndpoints.kubeletEndpoint.Port` at its InternalIP) and the answer is streamed back.
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web

from pocketkube.api import errors, resources
from pocketkube.api.obj import Obj
from pocketkube.apiserver.registry import Registry

NODES = resources.require("", "v1", "nodes")
PODS = resources.require("", "v1", "pods")
_PASSED = ("follow", "previous", "tailLines", "sinceSeconds", "sinceTime", "timestamps", "limitBytes")


def _container_status(pod: Obj, name: str) -> Obj | None:
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for cs in status.get(key) or []:
            if cs.get("name") == name:
                return dict(cs)
    return None


def pick_container(pod: Obj, asked: str) -> str:
    spec = pod.get("spec") or {}
    name = (pod.get("metadata") or {}).get("name", "")
    names = [c["name"] for key in ("containers", "initContainers", "ephemeralContainers")
             for c in spec.get(key) or []]
    if not asked:
        if len(spec.get("containers") or []) == 1:
            return str(spec["containers"][0]["name"])
        raise errors.bad_request(f"a container name must be specified for pod {name}, choose one of: "
                                 f"[{' '.join(c['name'] for c in spec.get('containers') or [])}]")
    if asked not in names:
        raise errors.bad_request(f"container {asked} is not valid for pod {name}")
    return asked


def check_log_exists(pod: Obj, container: str, previous: bool) -> None:
    name = pod["metadata"]["name"]
    if not (pod.get("spec") or {}).get("nodeName"):
        raise errors.bad_request(f"pod {name} does not have a host assigned")
    status = _container_status(pod, container)
    if previous:
        if not status or not (status.get("lastState") or {}).get("terminated"):
            raise errors.bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
        return
    waiting = ((status or {}).get("state") or {}).get("waiting")
    if status is None or (waiting and not (status.get("lastState") or {}).get("terminated")):
        reason = (waiting or {}).get("reason") or "ContainerCreating"
        raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')


async def _kubelet_url(registry: Registry, pod: Obj, container: str, query: Any) -> str:
    node = await registry.get(NODES, None, pod["spec"]["nodeName"])
    status = node.get("status") or {}
    port = (((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port"))
    address = next((a["address"] for a in status.get("addresses") or [] if a.get("type") == "InternalIP"), "")
    if not port or not address:
        raise errors.service_unavailable(f"node {node['metadata']['name']} has no kubelet endpoint")
    host = f"[{address}]" if ":" in address else address
    md = pod["metadata"]
    params = {k: query[k] for k in _PASSED if k in query}
    path = "/".join(quote(p, safe="") for p in (md["namespace"], md["name"], container))
    return f"https://{host}:{port}/containerLogs/{path}" + (f"?{urlencode(params)}" if params else "")


async def stream_pod_log(request: web.Request, registry: Registry, namespace: str, name: str,
                         client_ssl: ssl.SSLContext | None) -> web.StreamResponse:
    pod = await registry.get(PODS, namespace, name)
    container = pick_container(pod, request.query.get("container", ""))
    previous = request.query.get("previous", "") in ("true", "1")
    check_log_exists(pod, container, previous)
    if client_ssl is None:
        raise errors.service_unavailable("this API server has no credentials for node agents")
    url = await _kubelet_url(registry, pod, container, request.query)
    timeout = aiohttp.ClientTimeout(total=None, connect=5, sock_read=None)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url, ssl=client_ssl) as upstream:
            if upstream.status != 200:
                text = (await upstream.text()).strip()
                raise errors.StatusError(upstream.status if upstream.status < 500 else 500,
                                         "NotFound" if upstream.status == 404 else "InternalError", text)
            response = web.StreamResponse(headers={"Content-Type": "text/plain"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            return response
    except aiohttp.ClientError as exc:
        raise errors.StatusError(500, "InternalError", f"Get \"{url}\": {exc}") from None
