"""Subresources that are not plain status writes: scale, binding, eviction, finalize, log.

Each is a small translation onto the object it belongs to, so they share the registry's
compare-and-swap writes rather than storing anything of their own.
"""

from __future__ import annotations

import copy

from pocketkube.api import errors, meta
from pocketkube.api.obj import Obj
from pocketkube.api.resources import ResourceInfo
from pocketkube.api.selectors import selector_to_string
from pocketkube.apiserver import codec
from pocketkube.apiserver.admission import WriteOptions
from pocketkube.apiserver.patching import apply_patch, patch_type
from pocketkube.apiserver.registry import Registry


def status_success(resource: ResourceInfo | None = None, name: str = "", uid: str = "",
                   code: int = 0) -> Obj:
    body: Obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if resource is not None:
        details: Obj = {"name": name, "kind": resource.plural}
        if resource.group:
            details["group"] = resource.group
        if uid:
            details["uid"] = uid
        body["details"] = details
    if code:
        body["code"] = code
    return body


# -- scale ------------------------------------------------------------------------------------------

def to_scale(obj: Obj) -> Obj:
    md = obj.get("metadata") or {}
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    selector = spec.get("selector")
    return {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {k: md[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in md},
        "spec": {"replicas": spec.get("replicas", 0)},
        "status": {"replicas": status.get("replicas", 0),
                   "selector": selector_to_string(selector) if selector else ""},
    }


def _replicas_from(scale: Obj) -> int:
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise errors.invalid("autoscaling", "Scale", meta.name_of(scale), [
            errors.invalid_value("spec.replicas", replicas, "must be greater than or equal to 0")])
    return replicas


async def get_scale(registry: Registry, resource: ResourceInfo, namespace: str | None, name: str) -> Obj:
    return to_scale(await registry.get(resource, namespace, name))


async def write_scale(registry: Registry, resource: ResourceInfo, namespace: str | None, name: str,
                      opts: WriteOptions, *, scale: Obj | None = None, content_type: str = "",
                      patch_body: bytes = b"") -> Obj:
    """PUT (scale given) or PATCH (patch given) of /scale: only spec.replicas moves."""
    kind = patch_type(content_type) if patch_body else ""
    patch = codec.decode_body(patch_body, content_type) if patch_body else None

    def mutation(live: Obj) -> Obj:
        current = to_scale(live)
        wanted = scale if scale is not None else apply_patch(resource, kind, current, patch)
        if scale is not None:
            rv = (scale.get("metadata") or {}).get("resourceVersion")
            if rv and rv != live["metadata"]["resourceVersion"]:
                raise errors.conflict(resource.group, resource.plural, name,
                                      "the object has been modified; please apply your changes to the "
                                      "latest version and try again")
        live.setdefault("spec", {})["replicas"] = _replicas_from(wanted)
        return live

    updated = await registry.mutate(resource, namespace, name, mutation, opts, subresource="scale")
    return to_scale(updated)


# -- pods/binding, pods/eviction ---------------------------------------------------------------------

async def bind(registry: Registry, resource: ResourceInfo, namespace: str | None, name: str,
               binding: Obj, opts: WriteOptions) -> Obj:
    target = binding.get("target") or {}
    node = target.get("name")
    if not node:
        raise errors.invalid("", "Binding", name, [errors.required("target.name")])

    def mutation(pod: Obj) -> Obj:
        spec = pod.setdefault("spec", {})
        if meta.is_being_deleted(pod):
            raise errors.conflict("", "pods/binding", name, f"pod {name} is being deleted, cannot be assigned "
                                  "to a host")
        if spec.get("nodeName"):  # kube names the subresource: 'on pods/binding "p"'
            raise errors.conflict("", "pods/binding", name, f"pod {name} is already assigned to node "
                                  f'"{spec["nodeName"]}"')
        spec["nodeName"] = node
        status = pod.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                           "lastTransitionTime": meta.rfc3339(meta.now())})
        status["conditions"] = conditions
        return pod

    await registry.mutate(resource, namespace, name, mutation, opts, subresource="binding")
    return status_success(code=201)


async def evict(registry: Registry, resource: ResourceInfo, namespace: str | None, name: str,
                eviction: Obj) -> Obj:
    options = eviction.get("deleteOptions") or {}
    await registry.delete(resource, namespace, name, grace_period=options.get("gracePeriodSeconds"),
                          preconditions=options.get("preconditions"),
                          dry_run=bool(options.get("dryRun")))
    return status_success(code=201)


# -- namespaces/finalize ----------------------------------------------------------------------------

async def finalize(registry: Registry, resource: ResourceInfo, name: str, obj: Obj, opts: WriteOptions) -> Obj:
    finalizers = copy.deepcopy((obj.get("spec") or {}).get("finalizers") or [])

    def mutation(ns: Obj) -> Obj:
        ns.setdefault("spec", {})["finalizers"] = finalizers
        if not finalizers:
            ns["spec"].pop("finalizers")
        return ns

    result = await registry.mutate(resource, None, name, mutation, opts, subresource="finalize")
    md = result["metadata"]
    if md.get("deletionTimestamp") and not finalizers and not md.get("finalizers"):
        try:
            await registry.delete(resource, None, name)
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
    return result
