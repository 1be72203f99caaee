"""Discovery documents (`/api`, `/apis`, `/apis/<g>`, `/api/v1`, `/apis/<g>/<v>`) and `/version`.

Everything here is derived from `pocketkube.api.resources` and never changes while the server runs,
so each body is encoded once and cached; a request costs an Accept-header parse and a dict lookup.

Two formats exist for `/api` and `/apis`:

* legacy (APIVersions / APIGroupList), after which a client fetches one APIResourceList per
  group-version;
* aggregated (APIGroupDiscoveryList, apidiscovery.k8s.io v2 or v2beta1), everything in one document.
  client-go asks for it with an Accept list such as
  `application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,
  application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json`
  (kubectl 1.27 sends only the v2beta1 entry before the JSON fallback) and decides how to parse the
  reply from the response Content-Type, so that header must name the format served.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import platform
import sys
from typing import Any

import orjson

from pocketkube.api import errors, schema
from pocketkube.api.resources import ResourceInfo, Subresource, group_versions, resources_in

JSON = "application/json"
AGGREGATED_GROUP = "apidiscovery.k8s.io"
AGGREGATED_KIND = "APIGroupDiscoveryList"
AGGREGATED_VERSIONS = ("v2", "v2beta1")

_BUILD_DATE = "2025-04-23T00:00:00Z"  # v1.33.0's release date: the API surface we mirror


def aggregated_content_type(version: str) -> str:
    return f"{JSON};g={AGGREGATED_GROUP};v={version};as={AGGREGATED_KIND}"


def storage_version_hash(group: str, version: str, kind: str) -> str:
    """kube-apiserver's StorageVersionHash: base64 of the first 8 bytes of sha256("g/v/kind")."""
    digest = hashlib.sha256(f"{group}/{version}/{kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _storage_gvk(res: ResourceInfo) -> tuple[str, str, str]:
    # core and events.k8s.io Events share one store written as core/v1, so they share a hash.
    if res.storage.startswith("core/"):
        return "", "v1", res.kind
    return res.group, res.version, res.kind


# --- legacy documents --------------------------------------------------------------------------


def _api_resource(res: ResourceInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": res.plural,
        "singularName": res.singular,
        "namespaced": res.namespaced,
        "kind": res.kind,
        "verbs": list(res.verbs),
    }
    if res.short_names:
        out["shortNames"] = list(res.short_names)
    if res.categories:
        out["categories"] = list(res.categories)
    out["storageVersionHash"] = storage_version_hash(*_storage_gvk(res))
    return out


def _api_subresource(res: ResourceInfo, sub: Subresource) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f"{res.plural}/{sub.name}", "singularName": "", "namespaced": res.namespaced}
    if sub.group or sub.version:  # only set when the subresource speaks another group's kind
        out["group"] = sub.group
        out["version"] = sub.version
    out["kind"] = sub.kind
    out["verbs"] = list(sub.verbs)
    return out


def resource_list(group: str, version: str) -> dict[str, Any]:
    """APIResourceList of one group-version, sorted by name as kube-apiserver lists it."""
    entries: list[dict[str, Any]] = []
    for res in resources_in(group, version):
        entries.append(_api_resource(res))
        entries.extend(_api_subresource(res, sub) for sub in res.subresources)
    entries.sort(key=lambda e: e["name"])
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": entries}


def _group_version(group: str, version: str) -> dict[str, str]:
    return {"groupVersion": f"{group}/{version}", "version": version}


def api_group(group: str) -> dict[str, Any]:
    versions = [_group_version(group, v) for v in group_versions()[group]]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": versions,
            "preferredVersion": versions[0]}


def api_group_list() -> dict[str, Any]:
    groups = [api_group(g) for g in group_versions() if g]
    for g in groups:
        del g["kind"], g["apiVersion"]  # entries of a list carry no type meta
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_versions(server_address: str = "") -> dict[str, Any]:
    # serverAddressByClientCIDRs is required by the Python client's model, so it is never absent.
    cidrs = [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}] if server_address else []
    return {"kind": "APIVersions", "versions": group_versions().get("", []),
            "serverAddressByClientCIDRs": cidrs}


# --- aggregated documents ----------------------------------------------------------------------


def _response_kind(group: str, version: str, kind: str) -> dict[str, str]:
    # Same-group kinds carry an empty group and version, exactly as the legacy APIResource does.
    return {"group": group, "version": version, "kind": kind}


def _resource_discovery(res: ResourceInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resource": res.plural,
        "responseKind": _response_kind("", "", res.kind),
        "scope": "Namespaced" if res.namespaced else "Cluster",
        "singularResource": res.singular,
        "verbs": list(res.verbs),
    }
    if res.short_names:
        out["shortNames"] = list(res.short_names)
    if res.categories:
        out["categories"] = list(res.categories)
    if res.subresources:
        out["subresources"] = [
            {"subresource": sub.name, "responseKind": _response_kind(sub.group, sub.version, sub.kind),
             "verbs": list(sub.verbs)}
            for sub in sorted(res.subresources, key=lambda s: s.name)
        ]
    return out


def _group_discovery(group: str) -> dict[str, Any]:
    versions = []
    for version in group_versions()[group]:
        resources = sorted(resources_in(group, version), key=lambda r: r.plural)
        versions.append({"version": version, "resources": [_resource_discovery(r) for r in resources],
                         "freshness": "Current"})
    metadata: dict[str, Any] = {"name": group} if group else {}
    metadata["creationTimestamp"] = None
    return {"metadata": metadata, "versions": versions}


def aggregated(legacy: bool, version: str = "v2") -> dict[str, Any]:
    """APIGroupDiscoveryList for `/api` (legacy=True, the core group) or `/apis` (every other group)."""
    groups = [g for g in group_versions() if (g == "") == legacy]
    return {"kind": AGGREGATED_KIND, "apiVersion": f"{AGGREGATED_GROUP}/{version}", "metadata": {},
            "items": [_group_discovery(g) for g in groups]}


# --- content negotiation -----------------------------------------------------------------------


def _media_ranges(accept: str) -> list[tuple[str, dict[str, str]]]:
    """Accept header → (type, params) in preference order: q descending, then as listed."""
    ranked: list[tuple[float, int, str, dict[str, str]]] = []
    for index, clause in enumerate(accept.split(",")):
        parts = [p.strip() for p in clause.split(";")]
        if not parts[0]:
            continue
        params: dict[str, str] = {}
        for part in parts[1:]:
            key, _, value = part.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            q = 0.0
        if q > 0:
            ranked.append((-q, index, parts[0].lower(), params))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [(media, params) for _, _, media, params in ranked]


def _choose(accept: str, allow_aggregated: bool) -> str | None:
    """The aggregated version to serve ("v2"/"v2beta1"), "" for plain JSON, None if nothing fits."""
    if not accept.strip():
        return ""
    for media, params in _media_ranges(accept):
        if media == JSON and params.get("g") == AGGREGATED_GROUP:
            if allow_aggregated and params.get("as") == AGGREGATED_KIND and params.get("v") in AGGREGATED_VERSIONS:
                return params["v"]
            continue  # an aggregated ask we cannot meet: try the next clause
        if media in (JSON, "application/*", "*/*") and not params.get("as"):
            return ""
    return None


def _encode(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc)


@functools.cache
def _legacy_body(path: str) -> bytes | None:
    if path == "/apis":
        return _encode(api_group_list())
    parts = path.strip("/").split("/")
    gvs = group_versions()
    if parts[0] == "api" and len(parts) == 2 and parts[1] in gvs.get("", ()):
        return _encode(resource_list("", parts[1]))
    if parts[0] == "apis" and len(parts) == 2 and parts[1] in gvs and parts[1]:
        return _encode(api_group(parts[1]))
    if parts[0] == "apis" and len(parts) == 3 and parts[1] and parts[2] in gvs.get(parts[1], ()):
        return _encode(resource_list(parts[1], parts[2]))
    return None


@functools.cache
def _aggregated_body(legacy: bool, version: str) -> bytes:
    return _encode(aggregated(legacy, version))


@functools.cache
def _api_versions_body(server_address: str) -> bytes:
    return _encode(api_versions(server_address))


def negotiate_discovery(path: str, accept: str, server_address: str = "") -> tuple[bytes, str] | None:
    """The body and Content-Type for a discovery GET, or None when `path` is not a discovery path.

    Aggregated discovery is offered only for `/api` and `/apis`, as kube-apiserver does. A path
    naming a group or version that is not served is not a discovery path (the caller's 404). Raises
    StatusError 406 when the Accept header allows nothing we serve.
    """
    path = path.rstrip("/") or "/"
    root = path in ("/api", "/apis")
    body = _api_versions_body(server_address) if path == "/api" else _legacy_body(path)
    if body is None:
        return None
    choice = _choose(accept, allow_aggregated=root)
    if choice is None:
        raise errors.not_acceptable(
            "only the following media types are accepted: application/json, "
            + ", ".join(aggregated_content_type(v) for v in AGGREGATED_VERSIONS))
    if choice:
        return _aggregated_body(path == "/api", choice), aggregated_content_type(choice)
    return body, JSON


_ETAGS: dict[bytes, str] = {}


def etag(body: bytes) -> str:
    """A quoted strong ETag for a discovery body (kube sends one with aggregated discovery and
    answers 304 to a matching If-None-Match); memoized because the bodies themselves are cached."""
    tag = _ETAGS.get(body)
    if tag is None:
        tag = _ETAGS[body] = '"' + hashlib.sha512(body).hexdigest().upper() + '"'
    return tag


# --- /version ----------------------------------------------------------------------------------

_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
         "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


@functools.cache
def version_info() -> dict[str, str]:
    """`/version`. gitVersion is semver with build metadata (v1.33.0+pocketkube), which kubectl's
    skew check parses; every field the Python client's VersionInfo model requires is present."""
    major, minor, _patch = schema.KUBE_VERSION.split(".")
    machine = platform.machine().lower()
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "minCompatibilityMajor": major,
        "minCompatibilityMinor": str(int(minor) - 1),
        "gitVersion": f"v{schema.KUBE_VERSION}+pocketkube",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": _BUILD_DATE,
        "goVersion": f"python{platform.python_version()}",
        "compiler": sys.implementation.name,
        "platform": f"{sys.platform}/{_ARCH.get(machine, machine)}",
    }
