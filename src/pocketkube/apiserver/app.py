"""The aiohttp application: authentication, error rendering, and the one route that dispatches.

kube-apiserver paths are parsed by `requestinfo` rather than aiohttp's router: the same shape
(`/api/v1/namespaces/x/pods/y/status`) means different things depending on what is served.
"""

from __future__ import annotations

import hmac
import logging
import ssl
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from pocketkube.api import errors
from pocketkube.apiserver import discovery, openapi, requestinfo
from pocketkube.apiserver.handlers import ResourceHandlers, json_response
from pocketkube.apiserver.registry import Registry
from pocketkube.storage import Store

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/version"})
REGISTRY_KEY = web.AppKey("registry", Registry)


def _authenticated(request: web.Request, token: str) -> bool:
    transport = request.transport
    if transport is not None and transport.get_extra_info("peercert"):
        return True  # verified against our CA by the TLS layer
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header[7:].strip().encode(), token.encode())
    return False


def make_app(store: Store, *, token: str = "", require_auth: bool = True,
             service_cidr: str = "10.96.0.0/12", kubelet_ssl: ssl.SSLContext | None = None) -> web.Application:
    registry = Registry(store, service_cidr)
    handlers = ResourceHandlers(registry, kubelet_ssl)

    @web.middleware
    async def errors_and_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if require_auth and request.path not in PUBLIC_PATHS and not _authenticated(request, token):
                raise errors.unauthorized()
            return await handler(request)
        except errors.StatusError as exc:
            return json_response(exc.status(), exc.code)
        except web.HTTPException:
            raise
        except Exception as exc:
            log.exception("%s %s failed", request.method, request.path_qs)
            failure = errors.internal(str(exc) or type(exc).__name__)
            return json_response(failure.status(), failure.code)

    async def route(request: web.Request) -> web.StreamResponse:
        path = request.path
        watch_param = request.query.get("watch", "").lower() in ("1", "true")
        info = requestinfo.parse(request.method, path, watch_param)
        if info is not None:
            return await handlers.dispatch(request, info)
        if request.method not in ("GET", "HEAD"):
            raise errors.method_not_allowed(f"{request.method} is not allowed on {path}")
        return await non_resource(request)

    app = web.Application(middlewares=[errors_and_auth], client_max_size=4 * 1024 * 1024)
    app[REGISTRY_KEY] = registry
    app.router.add_route("*", "/{tail:.*}", route)
    return app


async def non_resource(request: web.Request) -> web.StreamResponse:
    path = request.path.rstrip("/") or "/"
    accept = request.headers.get("Accept", "")
    if path in ("/healthz", "/livez", "/readyz"):
        return web.Response(text="ok", content_type="text/plain")
    if path == "/version":
        return json_response(discovery.version_info())
    found = discovery.negotiate_discovery(path, accept)
    if found is not None:
        body, content_type = found
        return _cacheable(request, body, content_type, discovery.etag(body))
    if path == "/openapi/v2":
        body, content_type = openapi.openapi_v2(accept)
        return web.Response(body=body, headers={"Content-Type": content_type, "Vary": "Accept"})
    if path == "/openapi/v3":
        return web.Response(body=openapi.openapi_v3_index(), content_type="application/json")
    if path.startswith("/openapi/v3/"):
        return _openapi_v3(request, path.removeprefix("/openapi/v3/"), accept)
    raise errors.StatusError(404, "NotFound", "the server could not find the requested resource")


def _cacheable(request: web.Request, body: bytes, content_type: str, etag: str) -> web.Response:
    """Discovery answers carry an ETag; client-go revalidates its cache with If-None-Match."""
    headers = {"Content-Type": content_type, "Vary": "Accept", "ETag": etag}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, headers=headers)


def _openapi_v3(request: web.Request, doc_path: str, accept: str) -> web.Response:
    doc = openapi.openapi_v3_doc(doc_path)
    current = openapi.openapi_v3_hash(doc_path)
    if doc is None or current is None:
        raise errors.StatusError(404, "NotFound", "the server could not find the requested resource")
    if not openapi.json_acceptable(accept):
        raise errors.not_acceptable("only application/json is served for OpenAPI v3")
    headers = {"Content-Type": "application/json", "ETag": f'"{current}"'}
    asked = request.query.get("hash")
    if asked is not None and asked != current:
        raise web.HTTPMovedPermanently(location=openapi.openapi_v3_url(doc_path) or request.path)
    if asked is not None:
        headers["Cache-Control"] = "public, immutable"
        headers["Expires"] = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 365 * 86400))
    return web.Response(body=doc, headers=headers)
