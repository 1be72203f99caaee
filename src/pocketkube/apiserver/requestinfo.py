"""Turn a request path and method into what it asks for, as kube-apiserver's RequestInfoFactory does.

`/api/v1/namespaces/default/pods/web/status` → resource pods, namespace default, name web,
subresource status; `/apis/apps/v1/deployments?watch=1` → watch deployments in every namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

from pocketkube.api import errors, resources
from pocketkube.api.resources import ResourceInfo

_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_METHOD_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True)
class RequestInfo:
    verb: str  # get list watch create update patch delete deletecollection
    resource: ResourceInfo
    namespace: str | None
    name: str
    subresource: str


def parse(method: str, path: str, watch_param: bool) -> RequestInfo | None:
    """The resource request a path names, or None when it is not a resource path (discovery etc.).

    Raises StatusError 404 for a well-formed path to a resource that is not served.
    """
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return None
    legacy_watch = rest[0] == "watch"
    if legacy_watch:
        rest = rest[1:]
    namespace: str | None = None
    if rest and rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in _NAMESPACE_SUBRESOURCES:
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        raise errors.StatusError(404, "NotFound", "the server could not find the requested resource")
    plural, name, sub = rest[0], (rest[1] if len(rest) > 1 else ""), (rest[2] if len(rest) > 2 else "")
    info = resources.lookup(group, version, plural)
    if info is None:
        raise errors.StatusError(404, "NotFound", "the server could not find the requested resource")
    if sub and info.subresource(sub) is None:
        raise errors.StatusError(404, "NotFound", "the server could not find the requested resource")
    if namespace is not None and not info.namespaced:
        raise errors.StatusError(404, "NotFound", "the server could not find the requested resource")
    if method in ("GET", "HEAD"):
        verb = "watch" if (legacy_watch or watch_param) and not sub else ("get" if name else "list")
        if name and verb == "watch":
            verb = "watch"  # a watch of one object: list+watch filtered by name
    elif method in _METHOD_VERBS:
        verb = _METHOD_VERBS[method]
        if verb == "delete" and not name:
            verb = "deletecollection"
    else:
        raise errors.method_not_allowed(f"method {method} is not allowed")
    if verb in ("create",) and name and not sub:
        raise errors.method_not_allowed("POST is not allowed on a named resource")
    if verb in ("update", "patch", "delete") and not name:
        raise errors.method_not_allowed(f"{method} requires a resource name")
    return RequestInfo(verb, info, namespace, name, sub)
