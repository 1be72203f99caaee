"""The REST operations of every served resource, in a form neutral to OpenAPI v2 and v3.

The layout, operation ids, descriptions, actions and parameters mirror what kube-apiserver publishes:
`/api/v1/namespaces/{namespace}/pods` (list, create, deletecollection), `…/pods/{name}` (read, replace,
patch, delete), `…/pods/{name}/status`, the cross-namespace list `/api/v1/pods`, and the deprecated
`/watch/…` paths. `render.py` turns each Operation into a v2 or v3 operation object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pocketkube.api import schema
from pocketkube.api.resources import ResourceInfo, Subresource

from . import params
from .params import Param

STATUS = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
DELETE_OPTIONS = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
WATCH_EVENT = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"
PATCH = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
STRING = "string"  # a response that is a plain string (logs, streams), not a definition

OBJECT_MEDIA = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
STREAM_MEDIA = (*OBJECT_MEDIA, "application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch")
PATCH_MEDIA = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml")
LOG_MEDIA = ("text/plain", *OBJECT_MEDIA)


@dataclass
class Operation:
    method: str  # get put post patch delete
    operation_id: str
    description: str
    action: str  # x-kubernetes-action
    gvk: dict[str, str]
    tag: str
    params: list[Param] = field(default_factory=list)
    body: str | None = None  # definition name of the request body
    body_required: bool = True
    responses: dict[str, str | None] = field(default_factory=dict)  # code → definition name
    consumes: tuple[str, ...] = ("*/*",)
    produces: tuple[str, ...] = OBJECT_MEDIA


@dataclass
class PathItem:
    operations: list[Operation] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)


def group_camel(group: str) -> str:
    """"" → Core, apps → Apps, coordination.k8s.io → Coordination, rbac.authorization.k8s.io →
    RbacAuthorization: the group's part of an operation id."""
    if not group:
        return "Core"
    return "".join(part[:1].upper() + part[1:] for part in group.removesuffix(".k8s.io").split("."))


def tag(group: str, version: str) -> str:
    camel = group_camel(group)
    return f"{camel[:1].lower()}{camel[1:]}_{version}"


def _definition(group: str, version: str, kind: str) -> str:
    name = schema.definition_name(group, version, kind)
    if name is None:
        raise KeyError(f"no schema for {group}/{version} {kind}")
    return name


def _gvk(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "kind": kind, "version": version}


class _Builder:
    """The operations of one resource; path items accumulate in `paths`."""

    def __init__(self, res: ResourceInfo, paths: dict[str, PathItem]):
        self.res = res
        self.paths = paths
        self.gv = f"{group_camel(res.group)}{res.version[:1].upper()}{res.version[1:]}"
        self.tag = tag(res.group, res.version)
        self.obj = _definition(res.group, res.version, res.kind)
        self.gvk = _gvk(res.group, res.version, res.kind)
        prefix = f"/apis/{res.group}/{res.version}" if res.group else f"/api/{res.version}"
        ns = "/namespaces/{namespace}" if res.namespaced else ""
        self.collection = f"{prefix}{ns}/{res.plural}"
        self.item = self.collection + "/{name}"
        self.all_namespaces = f"{prefix}/{res.plural}" if res.namespaced else ""
        self.watch_collection = f"{prefix}/watch{ns}/{res.plural}"
        self.watch_all = f"{prefix}/watch/{res.plural}" if res.namespaced else ""
        self.infix = "Namespaced" if res.namespaced else ""

    def _item(self, path: str, *path_params: Param, pretty: bool = True) -> PathItem:
        item = self.paths.get(path)
        if item is None:
            scope = [params.NAMESPACE] if self.res.namespaced else []
            item = self.paths[path] = PathItem(params=[*path_params, *scope, *([params.PRETTY] if pretty else [])])
        return item

    def _op_id(self, verb: str, suffix: str = "", collection: bool = False) -> str:
        middle = "Collection" if collection else ""
        return f"{verb}{self.gv}{middle}{self.infix}{self.res.kind}{suffix}"

    def build(self) -> None:
        res, kind, verbs = self.res, self.res.kind, set(self.res.verbs)
        name = params.name_param(kind)
        listed = _definition(res.group, res.version, res.list_kind)
        coll = self._item(self.collection)
        if "list" in verbs:
            coll.operations.append(Operation(
                "get", self._op_id("list"), f"list or watch objects of kind {kind}", "list", self.gvk, self.tag,
                params.query(*params.LIST), responses={"200": listed}, produces=STREAM_MEDIA))
            if self.all_namespaces:
                self._item(self.all_namespaces).operations.append(Operation(
                    "get", f"list{self.gv}{kind}ForAllNamespaces", f"list or watch objects of kind {kind}",
                    "list", self.gvk, self.tag, params.query(*params.LIST), responses={"200": listed},
                    produces=STREAM_MEDIA))
        if "create" in verbs:
            coll.operations.append(Operation(
                "post", self._op_id("create"), f"create {_article(kind)} {kind}", "post", self.gvk, self.tag,
                params.query(*params.WRITE), body=self.obj,
                responses={"200": self.obj, "201": self.obj, "202": self.obj}))
        if "deletecollection" in verbs:
            coll.operations.append(Operation(
                "delete", self._op_id("delete", collection=True), f"delete collection of {kind}",
                "deletecollection", self.gvk, self.tag, params.query(*params.DELETE_COLLECTION),
                body=DELETE_OPTIONS, body_required=False, responses={"200": STATUS}))
        item = self._item(self.item, name)
        if "get" in verbs:
            item.operations.append(Operation(
                "get", self._op_id("read"), f"read the specified {kind}", "get", self.gvk, self.tag,
                responses={"200": self.obj}))
        if "update" in verbs:
            item.operations.append(self._replace("", self.obj, self.gvk))
        if "patch" in verbs:
            item.operations.append(self._patch("", self.obj, self.gvk))
        if "delete" in verbs:
            # Kinds deleted gracefully answer with the object itself, the rest with a Status.
            deleted = self.obj if kind == "Pod" else STATUS
            item.operations.append(Operation(
                "delete", self._op_id("delete"), f"delete {_article(kind)} {kind}", "delete", self.gvk, self.tag,
                params.query(*params.DELETE), body=DELETE_OPTIONS, body_required=False,
                responses={"200": deleted, "202": deleted}))
        if "watch" in verbs:
            self._watches(name)
        for sub in self.res.subresources:
            self._subresource(sub, name)

    def _watches(self, name: Param) -> None:
        kind, query = self.res.kind, params.query(*params.LIST)
        one = "watch changes to an object of kind {}. deprecated: use the 'watch' parameter with a list " \
              "operation instead, filtered to a single item with the 'fieldSelector' parameter."
        many = "watch individual changes to a list of {}. deprecated: use the 'watch' parameter with a list " \
               "operation instead."
        for path, op_id, description, action, path_params in (
            (self.watch_collection, self._op_id("watch", "List"), many, "watchlist", ()),
            (self.watch_collection + "/{name}", self._op_id("watch"), one, "watch", (name,)),
            (self.watch_all, f"watch{self.gv}{kind}ListForAllNamespaces", many, "watchlist", ()),
        ):
            if not path:
                continue
            self._item(path, *path_params).operations.append(Operation(
                "get", op_id, description.format(kind), action, self.gvk, self.tag, list(query),
                responses={"200": WATCH_EVENT}, produces=STREAM_MEDIA))

    def _replace(self, what: str, body: str, gvk: dict[str, str], suffix: str = "") -> Operation:
        return Operation("put", self._op_id("replace", suffix), f"replace {what}the specified {self.res.kind}",
                         "put", gvk, self.tag, params.query(*params.WRITE), body=body,
                         responses={"200": body, "201": body})

    def _patch(self, what: str, body: str, gvk: dict[str, str], suffix: str = "") -> Operation:
        return Operation("patch", self._op_id("patch", suffix), f"partially update {what}the specified "
                         f"{self.res.kind}", "patch", gvk, self.tag, params.query(*params.PATCH), body=PATCH,
                         responses={"200": body, "201": body}, consumes=PATCH_MEDIA)

    def _subresource(self, sub: Subresource, name: Param) -> None:
        res = self.res
        group, version = (sub.group, sub.version) if sub.version else (res.group, res.version)
        gvk = _gvk(group, version, sub.kind)
        suffix = sub.name[:1].upper() + sub.name[1:]
        path = f"{self.item}/{sub.name}"
        if sub.name in params.CONNECT:
            item = self._item(path, name, pretty=False)
            for verb, method in (("get", "Get"), ("create", "Post")):
                if verb in sub.verbs:
                    item.operations.append(Operation(
                        "get" if verb == "get" else "post", f"connect{method}{self.gv}{self.infix}{res.kind}{suffix}",
                        f"connect {method.upper()} requests to {sub.name} of {res.kind}", "connect", gvk, self.tag,
                        params.query(*params.CONNECT[sub.name]), responses={"200": STRING}, produces=("*/*",)))
            return
        item = self._item(path, name)
        if sub.name == "log":
            item.operations.append(Operation(
                "get", self._op_id("read", suffix), f"read log of the specified {res.kind}", "get", gvk, self.tag,
                params.query(*params.LOG), responses={"200": STRING}, produces=LOG_MEDIA))
            return
        obj = _definition(group, version, sub.kind)
        what = f"{sub.name} of "
        if "create" in sub.verbs:
            item.operations.append(Operation(
                "post", self._op_id("create", suffix), f"create {sub.name} of {_article(res.kind)} {res.kind}",
                "post", gvk, self.tag, params.query(*params.WRITE), body=obj,
                responses={"200": obj, "201": obj, "202": obj}))
        if "get" in sub.verbs:
            item.operations.append(Operation(
                "get", self._op_id("read", suffix), f"read {what}the specified {res.kind}", "get", gvk, self.tag,
                responses={"200": obj}))
        if "update" in sub.verbs:
            item.operations.append(self._replace(what, obj, gvk, suffix))
        if "patch" in sub.verbs:
            item.operations.append(self._patch(what, obj, gvk, suffix))


def _article(kind: str) -> str:
    return "an" if kind[:1] in "AEIOU" else "a"


def build_paths(resources: list[ResourceInfo]) -> dict[str, PathItem]:
    """Every path of `resources`, sorted by path as kube publishes them."""
    paths: dict[str, PathItem] = {}
    for res in resources:
        _Builder(res, paths).build()
    return {p: paths[p] for p in sorted(paths) if paths[p].operations}
