"""HTTP handlers for resource requests, one function per verb, dispatched from RequestInfo."""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
from typing import Any

import orjson
from aiohttp import web

from pocketkube.api import errors, meta
from pocketkube.api.conversion import needs_conversion, stored_resource, to_external, to_internal
from pocketkube.api.obj import Obj
from pocketkube.api.resources import ResourceInfo
from pocketkube.apiserver import admission, codec, negotiation, subresources
from pocketkube.apiserver.admission import WriteOptions
from pocketkube.apiserver.listing import ListOptions, list_objects
from pocketkube.apiserver.nodeproxy import stream_pod_log
from pocketkube.apiserver.patching import patch
from pocketkube.apiserver.registry import Registry, check_type
from pocketkube.apiserver.requestinfo import RequestInfo
from pocketkube.apiserver.watching import ObjectWatch, WatchEvent, start_watch

JSON = "application/json"
BOOKMARK_INTERVAL = 10.0
# Kinds whose immediate delete answers with the object (kube's ReturnDeletedObject); others: Status.
RETURNS_DELETED_OBJECT = frozenset({"core/pods", "core/services", "core/serviceaccounts", "core/namespaces"})  # seconds between BOOKMARKs on an idle watch that asked for them


def json_response(body: Any, status: int = 200, warnings: list[str] | None = None) -> web.Response:
    headers = {"Content-Type": JSON}
    response = web.Response(body=orjson.dumps(body), status=status, headers=headers)
    for warning in warnings or ():
        # warn-text is an RFC 7230 quoted-string: client-go drops a warning whose quotes are not escaped
        quoted = warning.replace("\\", "\\\\").replace('"', '\\"')
        response.headers.add("Warning", f'299 - "{quoted}"')
    return response


def _bool(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true")


def write_options(request: web.Request, verb: str) -> WriteOptions:
    q = request.query
    dry_run = q.getall("dryRun", [])
    for value in dry_run:
        if value != "All":
            raise errors.bad_request(f'Invalid dry run value: "{value}": supported values: "All"')
    validation = q.get("fieldValidation") or "Strict"
    if validation not in ("Strict", "Warn", "Ignore"):
        raise errors.bad_request(f"fieldValidation must be one of Strict, Warn or Ignore, not {validation}")
    manager = q.get("fieldManager") or ""
    if not manager and not request.content_type.startswith("application/apply-patch"):
        agent = request.headers.get("User-Agent", "")
        manager = agent.split("/", 1)[0] if agent else "unknown"
    if len(manager) > 128:
        raise errors.bad_request("fieldManager must be at most 128 characters")
    return WriteOptions(dry_run=bool(dry_run), field_manager=manager, field_validation=validation,
                        force=_bool(q.get("force")))


class ResourceHandlers:
    def __init__(self, registry: Registry, kubelet_ssl: ssl.SSLContext | None = None):
        self.registry = registry
        self.kubelet_ssl = kubelet_ssl  # client credentials for node agents (pods/log)

    def _incoming(self, resource: ResourceInfo, obj: Obj, opts: WriteOptions) -> Obj:
        """A client's object in the stored form (checked for unknown fields in its own form)."""
        if not needs_conversion(resource):
            return obj
        admission.check_fields(resource, obj, opts)
        opts.field_validation = "Ignore"
        check_type(resource, obj)
        return to_internal(resource, obj)

    async def dispatch(self, request: web.Request, info: RequestInfo) -> web.StreamResponse:
        sub = info.subresource
        if sub and sub not in ("status", "ephemeralcontainers"):
            return await self._subresource(request, info)
        verb = info.verb
        if verb == "get":
            return await self.get(request, info)
        if verb == "list":
            return await self.list(request, info)
        if verb == "watch":
            return await self.watch(request, info)
        if verb == "create":
            return await self.create(request, info)
        if verb == "update":
            return await self.update(request, info)
        if verb == "patch":
            return await self.patch(request, info)
        if verb == "delete":
            return await self.delete(request, info)
        if verb == "deletecollection":
            return await self.delete_collection(request, info)
        raise errors.method_not_allowed(f"{verb} is not supported")

    def _render(self, request: web.Request, resource: ResourceInfo, obj: Obj, status: int = 200,
                warnings: list[str] | None = None) -> web.Response:
        obj = to_external(resource, obj)
        shape, version = negotiation.wanted_shape(request.headers.get("Accept", ""))
        if shape == "Table":
            body = negotiation.as_table(resource, [obj], meta.now(), request.query, version,
                                        {"resourceVersion": obj["metadata"].get("resourceVersion", "")})
            return json_response(body, status, warnings)
        if shape == "PartialObjectMetadata":
            return json_response(negotiation.partial_metadata(obj, version), status, warnings)
        return json_response(obj, status, warnings)

    # -- reads --------------------------------------------------------------------------------------

    async def get(self, request: web.Request, info: RequestInfo) -> web.Response:
        obj = await self.registry.get(stored_resource(info.resource), info.namespace, info.name)
        return self._render(request, info.resource, obj)

    async def list(self, request: web.Request, info: RequestInfo) -> web.Response:
        resource = info.resource
        opts = ListOptions.from_query(resource, request.query)
        page = await list_objects(self.registry.store, resource, info.namespace, opts)
        if needs_conversion(resource):
            page.items = [to_external(resource, item) for item in page.items]
        list_meta: Obj = {"resourceVersion": str(page.revision)}
        if page.continue_token:
            list_meta["continue"] = page.continue_token
            if page.remaining is not None:
                list_meta["remainingItemCount"] = page.remaining
        shape, version = negotiation.wanted_shape(request.headers.get("Accept", ""))
        if shape == "Table":
            return json_response(negotiation.as_table(resource, page.items, meta.now(), request.query, version,
                                                      list_meta))
        if shape == "PartialObjectMetadata":
            return json_response(negotiation.partial_metadata_list(page.items, version, list_meta))
        body = {"kind": resource.list_kind, "apiVersion": resource.api_version, "metadata": list_meta,
                "items": page.items}
        return json_response(body)

    async def watch(self, request: web.Request, info: RequestInfo) -> web.StreamResponse:
        resource, q = info.resource, request.query
        opts = ListOptions.from_query(resource, q)
        if info.name:  # GET .../pods/NAME?watch=1 watches one object
            from pocketkube.api.selectors import parse_field_selector

            opts.field_selector = parse_field_selector(f"metadata.name={info.name}", resource)
        bookmarks = _bool(q.get("allowWatchBookmarks"))
        initial = _bool(q.get("sendInitialEvents"))
        try:
            timeout = float(q.get("timeoutSeconds") or 0) or random.uniform(1800, 3600)
        except ValueError:
            raise errors.bad_request(f"invalid timeoutSeconds: {q.get('timeoutSeconds')}") from None
        shape, version = negotiation.wanted_shape(request.headers.get("Accept", ""))
        response = web.StreamResponse(status=200, headers={"Content-Type": JSON})
        response.enable_chunked_encoding()
        try:
            watch = await start_watch(self.registry.store, resource, info.namespace, opts, initial, bookmarks)
        except errors.StatusError as exc:
            if exc.code != 410:
                raise
            await response.prepare(request)
            await response.write(orjson.dumps({"type": "ERROR", "object": exc.status()}) + b"\n")
            return response
        await response.prepare(request)
        try:
            await self._stream(request, response, watch, timeout, bookmarks, shape, version)
        except ConnectionResetError:
            pass  # the client went away: nothing to tell anyone
        finally:
            await watch.close()
        return response

    async def _stream(self, request: web.Request, response: web.StreamResponse, watch: ObjectWatch,
                      seconds: float, bookmarks: bool, shape: str, version: str) -> None:
        queue: asyncio.Queue[list[WatchEvent] | None] = asyncio.Queue(maxsize=64)

        async def pump() -> None:
            try:
                async for batch in watch.events():
                    await queue.put(batch)
            finally:
                await queue.put(None)

        pumper = asyncio.create_task(pump())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        resource = watch.resource
        try:
            while True:
                left = deadline - loop.time()
                if left <= 0:
                    return
                try:
                    batch = await asyncio.wait_for(queue.get(), min(left, BOOKMARK_INTERVAL))
                except TimeoutError:
                    if bookmarks and queue.empty():
                        await response.write(self._encode_event(
                            resource, watch.bookmark(watch.progress_revision()), shape, version, request))
                    continue
                if batch is None:
                    return
                plain = not shape and not needs_conversion(resource)
                await response.write(b"".join(
                    watch.encoded(e) if plain and e.source is not None
                    else self._encode_event(resource, e, shape, version, request) for e in batch))
        finally:
            pumper.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pumper

    @staticmethod
    def _encode_event(resource: ResourceInfo, event: WatchEvent, shape: str, version: str,
                      request: web.Request) -> bytes:
        obj = event.object
        if event.type != "BOOKMARK":
            obj = to_external(resource, obj)
            if shape == "Table":
                obj = negotiation.as_table(resource, [obj], meta.now(), request.query, version,
                                           {"resourceVersion": obj["metadata"].get("resourceVersion", "")})
            elif shape == "PartialObjectMetadata":
                obj = negotiation.partial_metadata(obj, version)
        return orjson.dumps({"type": event.type, "object": obj}) + b"\n"

    # -- writes -------------------------------------------------------------------------------------

    async def _body(self, request: web.Request) -> Obj:
        if request.content_length and request.content_length > codec.MAX_REQUEST_BYTES:
            raise errors.too_large(codec.MAX_REQUEST_BYTES)
        return codec.decode_object(await request.read(), request.content_type)

    async def create(self, request: web.Request, info: RequestInfo) -> web.Response:
        opts = write_options(request, "create")
        obj = self._incoming(info.resource, await self._body(request), opts)
        created = await self.registry.create(stored_resource(info.resource), info.namespace, obj, opts)
        return self._render(request, info.resource, created, 201, opts.warnings)

    async def update(self, request: web.Request, info: RequestInfo) -> web.Response:
        opts = write_options(request, "update")
        obj = self._incoming(info.resource, await self._body(request), opts)
        updated, created = await self.registry.update(stored_resource(info.resource), info.namespace,
                                                      info.name, obj, opts, info.subresource)
        return self._render(request, info.resource, updated, 201 if created else 200, opts.warnings)

    async def patch(self, request: web.Request, info: RequestInfo) -> web.Response:
        opts = write_options(request, "patch")
        if request.content_length and request.content_length > codec.MAX_REQUEST_BYTES:
            raise errors.too_large(codec.MAX_REQUEST_BYTES)
        body = await request.read()
        patched, created = await patch(self.registry, info.resource, info.namespace, info.name,
                                       request.headers.get("Content-Type", ""), body, opts, info.subresource)
        return self._render(request, info.resource, patched, 201 if created else 200, opts.warnings)

    async def _delete_options(self, request: web.Request) -> Obj:
        options: Obj = {}
        body = await request.read()
        if body.strip():
            options = codec.decode_object(body, request.content_type or JSON, kind_hint=("v1", "DeleteOptions"))
        q = request.query
        if "gracePeriodSeconds" in q:
            try:
                options["gracePeriodSeconds"] = int(q["gracePeriodSeconds"])
            except ValueError:
                raise errors.bad_request("gracePeriodSeconds must be an integer") from None
        if "propagationPolicy" in q:
            options["propagationPolicy"] = q["propagationPolicy"]
        if q.getall("dryRun", []):
            options["dryRun"] = q.getall("dryRun")
        policy = options.get("propagationPolicy")
        if policy is not None and policy not in ("Orphan", "Background", "Foreground"):
            raise errors.invalid("meta.k8s.io", "DeleteOptions", "", [errors.not_supported(
                "propagationPolicy", policy, ["Foreground", "Background", "Orphan"])])
        return options

    async def delete(self, request: web.Request, info: RequestInfo) -> web.Response:
        options = await self._delete_options(request)
        obj, deleted = await self.registry.delete(
            stored_resource(info.resource), info.namespace, info.name, grace_period=options.get("gracePeriodSeconds"),
            preconditions=options.get("preconditions"), dry_run=bool(options.get("dryRun")),
            propagation=str(options.get("propagationPolicy") or ""),
            orphan_dependents=options.get("orphanDependents"))
        if deleted and stored_resource(info.resource).storage_name not in RETURNS_DELETED_OBJECT:
            return json_response(subresources.status_success(info.resource, info.name,
                                                              obj["metadata"].get("uid", "")))
        # kube answers 200 even when deletion is pending (grace period, finalizers); only the
        # deprecated orphanDependents=false asks for 202 (handlers/delete.go)
        pending_cascade = not deleted and options.get("orphanDependents") is False
        return self._render(request, info.resource, obj, 202 if pending_cascade else 200)

    async def delete_collection(self, request: web.Request, info: RequestInfo) -> web.Response:
        options = await self._delete_options(request)
        opts = ListOptions.from_query(info.resource, request.query)
        page = await list_objects(self.registry.store, info.resource, info.namespace, opts)
        deleted = []
        for obj in page.items:
            md = obj["metadata"]
            try:
                gone, _ = await self.registry.delete(
                    stored_resource(info.resource), md.get("namespace"), md["name"],
                    grace_period=options.get("gracePeriodSeconds"), dry_run=bool(options.get("dryRun")),
                    propagation=str(options.get("propagationPolicy") or ""),
                    orphan_dependents=options.get("orphanDependents"))
            except errors.StatusError as exc:
                if exc.code == 404:
                    continue
                raise
            deleted.append(to_external(info.resource, gone))
        body = {"kind": info.resource.list_kind, "apiVersion": info.resource.api_version,
                "metadata": {"resourceVersion": str(page.revision)}, "items": deleted}
        return json_response(body)

    # -- subresources -------------------------------------------------------------------------------

    async def _subresource(self, request: web.Request, info: RequestInfo) -> web.StreamResponse:
        sub, res, ns, name = info.subresource, info.resource, info.namespace, info.name
        verb = info.verb
        if sub == "scale":
            if verb == "get":
                return json_response(await subresources.get_scale(self.registry, res, ns, name))
            opts = write_options(request, verb)
            if verb == "update":
                scale = await self._body(request)
                return json_response(await subresources.write_scale(self.registry, res, ns, name, opts,
                                                                    scale=scale))
            if verb == "patch":
                return json_response(await subresources.write_scale(
                    self.registry, res, ns, name, opts, content_type=request.headers.get("Content-Type", ""),
                    patch_body=await request.read()))
        elif sub == "binding" and verb == "create":
            body = await self._body(request)
            return json_response(await subresources.bind(self.registry, res, ns, name, body,
                                                         write_options(request, verb)), 201)
        elif sub == "eviction" and verb == "create":
            body = await self._body(request)
            return json_response(await subresources.evict(self.registry, res, ns, name, body), 201)
        elif sub == "finalize" and verb == "update":
            body = await self._body(request)
            return json_response(await subresources.finalize(self.registry, res, name, body,
                                                             write_options(request, verb)))
        elif sub == "log" and verb == "get":
            return await stream_pod_log(request, self.registry, ns or "", name, self.kubelet_ssl)
        raise errors.method_not_allowed(f"{verb} is not supported on {res.plural}/{sub}")
