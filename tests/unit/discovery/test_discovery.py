"""Discovery documents: legacy and aggregated, and the Accept negotiation kubectl relies on."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from pocketkube.api.errors import StatusError
from pocketkube.api.resources import RESOURCES, group_versions
from pocketkube.apiserver import discovery

V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
# What client-go sends: 1.30+ (v2 first), 1.27 (v2beta1 only), NoPeer clients, and legacy-only.
CLIENT_GO_1_30 = f"{V2},{V2BETA1},application/json"
CLIENT_GO_1_27 = f"{V2BETA1},application/json"
CLIENT_GO_NOPEER = f"{V2};profile=nopeer,{CLIENT_GO_1_30}"


def _get(path: str, accept: str = "application/json") -> tuple[dict[str, Any], str]:
    result = discovery.negotiate_discovery(path, accept)
    assert result is not None, path
    body, content_type = result
    return orjson.loads(body), content_type


def _legacy_resources() -> dict[str, dict[str, dict[str, Any]]]:
    """group-version → resource name → APIResource, fetched the legacy way."""
    out = {}
    for group, versions in group_versions().items():
        for version in versions:
            path = f"/apis/{group}/{version}" if group else f"/api/{version}"
            doc, _ = _get(path)
            assert doc["kind"] == "APIResourceList"
            out[doc["groupVersion"]] = {r["name"]: r for r in doc["resources"]}
    return out


def test_every_resource_is_listed_with_its_attributes() -> None:
    lists = _legacy_resources()
    for res in RESOURCES:
        entry = lists[res.group_version][res.plural]
        assert entry["kind"] == res.kind
        assert entry["singularName"] == res.singular
        assert entry["namespaced"] is res.namespaced
        assert entry["verbs"] == list(res.verbs)
        assert entry.get("shortNames", []) == list(res.short_names)
        assert entry.get("categories", []) == list(res.categories)
        assert "group" not in entry and "version" not in entry
        for sub in res.subresources:
            sub_entry = lists[res.group_version][f"{res.plural}/{sub.name}"]
            assert sub_entry["kind"] == sub.kind
            assert sub_entry["verbs"] == list(sub.verbs)
            assert sub_entry["namespaced"] is res.namespaced
            assert sub_entry.get("group", "") == sub.group and sub_entry.get("version", "") == sub.version


@pytest.mark.parametrize(("gv", "name", "kind", "group", "version"), [
    ("apps/v1", "deployments/scale", "Scale", "autoscaling", "v1"),
    ("v1", "pods/eviction", "Eviction", "policy", "v1"),
    ("v1", "pods/log", "Pod", None, None),
    ("v1", "pods/exec", "PodExecOptions", None, None),
    ("v1", "pods/status", "Pod", None, None),
])
def test_subresource_entries_as_kube_lists_them(gv: str, name: str, kind: str, group: str | None,
                                                version: str | None) -> None:
    entry = _legacy_resources()[gv][name]
    assert (entry["kind"], entry.get("group"), entry.get("version")) == (kind, group, version)
    assert entry["singularName"] == ""


def test_resources_sorted_by_name() -> None:
    doc, _ = _get("/api/v1")
    names = [r["name"] for r in doc["resources"]]
    assert names == sorted(names)


@pytest.mark.parametrize(("gv", "name", "expected"), [
    # Values published by a real kube-apiserver.
    ("v1", "pods", "xPOwRZ+Yhw8="),
    ("v1", "configmaps", "qFsyl6wFWjQ="),
    ("v1", "namespaces", "Q3oi5N2YM8M="),
    ("v1", "events", "r2yiGXH7wu8="),
    ("events.k8s.io/v1", "events", "r2yiGXH7wu8="),
])
def test_storage_version_hash_matches_kube(gv: str, name: str, expected: str) -> None:
    assert _legacy_resources()[gv][name]["storageVersionHash"] == expected


def test_api_versions_and_group_list() -> None:
    doc, ct = _get("/api")
    assert ct == "application/json"
    assert doc == {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
    body, _ = discovery.negotiate_discovery("/api", "", server_address="10.0.0.1:6443") or (b"", "")
    assert orjson.loads(body)["serverAddressByClientCIDRs"] == [
        {"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:6443"}]
    groups, _ = _get("/apis/")
    assert groups["kind"] == "APIGroupList"
    assert [g["name"] for g in groups["groups"]] == [g for g in group_versions() if g]
    apps = next(g for g in groups["groups"] if g["name"] == "apps")
    assert apps["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    group, _ = _get("/apis/apps")
    assert group["kind"] == "APIGroup" and group["versions"] == apps["versions"]


@pytest.mark.parametrize("path", ["/apis/nope", "/apis/apps/v2", "/api/v2", "/apis/apps/v1/deployments", "/healthz"])
def test_unserved_paths_are_not_discovery(path: str) -> None:
    assert discovery.negotiate_discovery(path, CLIENT_GO_1_30) is None


@pytest.mark.parametrize(("accept", "served"), [
    (CLIENT_GO_1_30, V2),
    (CLIENT_GO_1_27, V2BETA1),
    (CLIENT_GO_NOPEER, V2),
    ("application/json", "application/json"),
    ("", "application/json"),
    ("*/*", "application/json"),
    (f"{V2};q=0.5,{V2BETA1}", V2BETA1),
    (f"application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,{V2}", V2),
    ("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json", "application/json"),
])
def test_aggregated_negotiation(accept: str, served: str) -> None:
    for path in ("/api", "/apis"):
        doc, content_type = _get(path, accept)
        assert content_type == served
        if served != "application/json":
            version = re.search(r"v=(\w+)", served).group(1)  # type: ignore[union-attr]
            assert doc["apiVersion"] == f"apidiscovery.k8s.io/{version}"
            assert doc["kind"] == "APIGroupDiscoveryList"


def test_group_version_documents_ignore_aggregated_asks() -> None:
    _, ct = _get("/api/v1", CLIENT_GO_1_30)
    assert ct == "application/json"
    with pytest.raises(StatusError) as err:
        discovery.negotiate_discovery("/api/v1", V2)
    assert err.value.code == 406
    with pytest.raises(StatusError):
        discovery.negotiate_discovery("/apis", "application/vnd.kubernetes.protobuf")


def _split_like_client_go(doc: dict[str, Any], group_name: str) -> dict[str, dict[str, dict[str, Any]]]:
    """client-go's SplitGroupsAndResources: aggregated discovery → legacy APIResources."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for group in doc["items"]:
        name = group["metadata"].get("name", "")
        assert (name == "") == (group_name == "")
        for version in group["versions"]:
            assert version["freshness"] == "Current"
            gv = f"{name}/{version['version']}" if name else version["version"]
            entries = out.setdefault(gv, {})
            for r in version["resources"]:
                kind = r["responseKind"]
                parent = {"name": r["resource"], "singularName": r["singularResource"],
                          "namespaced": r["scope"] == "Namespaced", "group": kind["group"],
                          "version": kind["version"], "kind": kind["kind"], "verbs": r["verbs"],
                          "shortNames": r.get("shortNames", []), "categories": r.get("categories", [])}
                entries[parent["name"]] = parent
                for s in r.get("subresources", []):
                    entries[f"{r['resource']}/{s['subresource']}"] = {
                        "name": f"{r['resource']}/{s['subresource']}", "namespaced": parent["namespaced"],
                        "group": s["responseKind"]["group"], "version": s["responseKind"]["version"],
                        "kind": s["responseKind"]["kind"], "verbs": s["verbs"]}
    return out


@pytest.mark.parametrize("accept", [CLIENT_GO_1_30, CLIENT_GO_1_27])
def test_aggregated_says_what_legacy_says(accept: str) -> None:
    legacy = _legacy_resources()
    core, _ = _get("/api", accept)
    rest, _ = _get("/apis", accept)
    split = {**_split_like_client_go(core, ""), **_split_like_client_go(rest, "apps")}
    assert split.keys() == legacy.keys()
    for gv, entries in legacy.items():
        assert split[gv].keys() == entries.keys()
        for name, entry in entries.items():
            got = split[gv][name]
            for key in ("namespaced", "kind", "verbs"):
                assert got[key] == entry[key], (gv, name, key)
            assert got["group"] == entry.get("group", "") and got["version"] == entry.get("version", "")
            if "/" not in name:
                assert got["singularName"] == entry["singularName"]
                assert got["shortNames"] == entry.get("shortNames", [])


def test_aggregated_groups_in_discovery_order() -> None:
    doc, _ = _get("/apis", CLIENT_GO_1_30)
    assert [g["metadata"]["name"] for g in doc["items"]] == [g for g in group_versions() if g]
    core, _ = _get("/api", CLIENT_GO_1_30)
    assert core["items"][0]["metadata"] == {"creationTimestamp": None}


def test_bodies_are_cached_and_etag_is_stable() -> None:
    first = discovery.negotiate_discovery("/apis", CLIENT_GO_1_30)
    second = discovery.negotiate_discovery("/apis", CLIENT_GO_1_30)
    assert first is not None and second is not None and first[0] is second[0]
    tag = discovery.etag(first[0])
    assert tag == discovery.etag(second[0]) and tag.startswith('"') and tag.endswith('"')
    legacy = discovery.negotiate_discovery("/apis", "application/json")
    assert legacy is not None and discovery.etag(legacy[0]) != tag


def test_version_info() -> None:
    info = discovery.version_info()
    assert (info["major"], info["minor"]) == ("1", "33")
    # kubectl parses gitVersion as semver for its skew warning.
    semver = r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
    assert re.match(semver, info["gitVersion"])
    assert info["gitVersion"].startswith("v1.33.")
    # Every field the kubernetes Python client's VersionInfo requires.
    for key in ("buildDate", "compiler", "gitCommit", "gitTreeState", "gitVersion", "goVersion", "major",
                "minor", "platform"):
        assert info[key], key
    assert re.match(r"^\w+/\w+$", info["platform"])
