"""Async REST client for the Kubernetes API: one method per verb, Status errors as StatusError."""

from __future__ import annotations

import base64
import ssl
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
import yaml

from pocketkube.api import errors
from pocketkube.api.obj import Obj
from pocketkube.api.resources import ResourceInfo


@dataclass(frozen=True)
class ClientConfig:
    server: str
    ssl_context: ssl.SSLContext | None = None
    token: str = ""
    user_agent: str = "pocketkube"
    ca_pem: bytes = b""  # the cluster CA (agents check their callers' certificates against it)

    @classmethod
    def from_kubeconfig(cls, path: Path, user_agent: str = "pocketkube") -> ClientConfig:
        """Read the current context of a kubeconfig with inline (or file) certificate data."""
        config = yaml.safe_load(path.read_text())
        context_name = config.get("current-context")
        context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
        user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
        ca_pem = _pem(cluster, "certificate-authority", path)
        ctx = ssl.create_default_context(cadata=ca_pem.decode())
        if user.get("client-certificate-data") or user.get("client-certificate"):
            cert, key = _pem(user, "client-certificate", path), _pem(user, "client-key", path)
            # ssl wants files for the client pair; they live only as long as this call
            with tempfile.TemporaryDirectory() as tmp:
                cert_file, key_file = Path(tmp) / "c.crt", Path(tmp) / "c.key"
                cert_file.write_bytes(cert)
                key_file.write_bytes(key)
                ctx.load_cert_chain(str(cert_file), str(key_file))
        return cls(cluster["server"], ctx, user.get("token", ""), user_agent, ca_pem)


def _pem(section: Obj, name: str, base: Path) -> bytes:
    if section.get(f"{name}-data"):
        return base64.b64decode(section[f"{name}-data"])
    return (base.parent / section[name]).read_bytes()


def resource_path(resource: ResourceInfo, namespace: str | None = None, name: str = "",
                  subresource: str = "") -> str:
    base = f"/apis/{resource.group}/{resource.version}" if resource.group else f"/api/{resource.version}"
    if resource.namespaced and namespace:
        base += f"/namespaces/{namespace}"
    base += f"/{resource.plural}"
    if name:
        base += f"/{name}"
    if subresource:
        base += f"/{subresource}"
    return base


class ApiClient:
    def __init__(self, config: ClientConfig):
        self.config = config
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {"User-Agent": self.config.user_agent, "Accept": "application/json"}
            if self.config.token:
                headers["Authorization"] = f"Bearer {self.config.token}"
            connector = aiohttp.TCPConnector(ssl=self.config.ssl_context or False, limit=64)
            self._session = aiohttp.ClientSession(self.config.server, headers=headers, connector=connector,
                                                  json_serialize=lambda o: orjson.dumps(o).decode())
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(self, method: str, path: str, *, query: dict[str, Any] | None = None,
                      body: Any = None, content_type: str = "application/json") -> Obj:
        url = path + ("?" + urlencode({k: v for k, v in query.items() if v not in (None, "")}) if query else "")
        data = None if body is None else (body if isinstance(body, bytes) else orjson.dumps(body))
        headers = {"Content-Type": content_type} if data is not None else {}
        async with self._http().request(method, url, data=data, headers=headers) as resp:
            raw = await resp.read()
            if resp.status >= 400:
                raise _status_error(resp.status, raw)
            result: Obj = orjson.loads(raw) if raw else {}
            return result

    # -- verbs --------------------------------------------------------------------------------------

    async def get(self, resource: ResourceInfo, name: str, namespace: str | None = None,
                  subresource: str = "") -> Obj:
        return await self.request("GET", resource_path(resource, namespace, name, subresource))

    async def list(self, resource: ResourceInfo, namespace: str | None = None, *, label_selector: str = "",
                   field_selector: str = "", limit: int = 0, continue_token: str = "",
                   resource_version: str = "") -> Obj:
        query = {"labelSelector": label_selector, "fieldSelector": field_selector,
                 "limit": limit or None, "continue": continue_token, "resourceVersion": resource_version}
        return await self.request("GET", resource_path(resource, namespace), query=query)

    async def create(self, resource: ResourceInfo, obj: Obj, namespace: str | None = None,
                     field_manager: str = "") -> Obj:
        ns = namespace or (obj.get("metadata") or {}).get("namespace")
        return await self.request("POST", resource_path(resource, ns), body=obj,
                                  query={"fieldManager": field_manager or self.config.user_agent})

    async def update(self, resource: ResourceInfo, obj: Obj, subresource: str = "",
                     field_manager: str = "") -> Obj:
        md = obj["metadata"]
        return await self.request("PUT", resource_path(resource, md.get("namespace"), md["name"], subresource),
                                  body=obj, query={"fieldManager": field_manager or self.config.user_agent})

    async def patch(self, resource: ResourceInfo, name: str, patch: Any, namespace: str | None = None, *,
                    subresource: str = "", patch_type: str = "application/merge-patch+json",
                    field_manager: str = "", force: bool = False) -> Obj:
        query: dict[str, Any] = {"fieldManager": field_manager or self.config.user_agent}
        if force:
            query["force"] = "true"
        return await self.request("PATCH", resource_path(resource, namespace, name, subresource), body=patch,
                                  content_type=patch_type, query=query)

    async def delete(self, resource: ResourceInfo, name: str, namespace: str | None = None, *,
                     grace_period: int | None = None, propagation: str = "",
                     preconditions: Obj | None = None) -> Obj:
        body: Obj = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period is not None:
            body["gracePeriodSeconds"] = grace_period
        if propagation:
            body["propagationPolicy"] = propagation
        if preconditions:
            body["preconditions"] = preconditions
        return await self.request("DELETE", resource_path(resource, namespace, name), body=body)

    async def watch(self, resource: ResourceInfo, namespace: str | None = None, *, resource_version: str = "",
                    label_selector: str = "", field_selector: str = "", timeout_seconds: int = 0,
                    bookmarks: bool = True) -> AsyncIterator[Obj]:
        """Yield watch events ({"type", "object"}) until the server ends the stream."""
        query = {"watch": "1", "resourceVersion": resource_version, "labelSelector": label_selector,
                 "fieldSelector": field_selector, "timeoutSeconds": timeout_seconds or None,
                 "allowWatchBookmarks": "true" if bookmarks else None}
        url = resource_path(resource, namespace) + "?" + urlencode({k: v for k, v in query.items() if v})
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with self._http().get(url, timeout=timeout) as resp:
            if resp.status >= 400:
                raise _status_error(resp.status, await resp.read())
            # Split by hand: one event may be larger than aiohttp's line buffer.
            pending = b""
            async for chunk in resp.content.iter_any():
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield orjson.loads(line)


def _status_error(code: int, raw: bytes) -> errors.StatusError:
    try:
        status = orjson.loads(raw)
        return errors.StatusError(int(status.get("code") or code), str(status.get("reason") or ""),
                                  str(status.get("message") or ""), status.get("details"))
    except (orjson.JSONDecodeError, AttributeError):
        return errors.StatusError(code, "Unknown", raw.decode(errors="replace")[:500])
