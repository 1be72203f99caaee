"""Response shapes (Table, PartialObjectMetadata) and the discovery and OpenAPI endpoints."""

from __future__ import annotations

from tests.component.conftest import CONFIGMAPS, PODS, Client, call, configmap, failure, pod

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io, application/json"
METADATA_LIST = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
METADATA = "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


async def test_table_for_list_and_get(api: Client) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a", x="1", y="2"), status=201)
    await call(api, "POST", CONFIGMAPS, configmap("b"), status=201)
    table = await call(api, "GET", CONFIGMAPS, status=200, headers={"Accept": TABLE})
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert [row["cells"][:2] for row in table["rows"]] == [["a", 2], ["b", 0]]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert table["rows"][0]["object"]["metadata"]["name"] == "a"
    listed = await call(api, "GET", CONFIGMAPS, status=200)
    assert table["metadata"]["resourceVersion"] == listed["metadata"]["resourceVersion"]

    one = await call(api, "GET", f"{CONFIGMAPS}/a", status=200, headers={"Accept": TABLE})
    assert one["kind"] == "Table" and len(one["rows"]) == 1 and one["rows"][0]["cells"][0] == "a"


async def test_table_for_pods_and_include_object(api: Client) -> None:
    await call(api, "POST", PODS, pod("p", node="n1"), status=201)
    table = await call(api, "GET", f"{PODS}?includeObject=Object", status=200, headers={"Accept": TABLE})
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names[:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert "Node" in names
    row = table["rows"][0]
    assert row["cells"][:3] == ["p", "0/1", "Pending"]
    assert row["object"]["kind"] == "Pod" and row["object"]["spec"]["nodeName"] == "n1"
    none = await call(api, "GET", f"{PODS}?includeObject=None", status=200, headers={"Accept": TABLE})
    assert "object" not in none["rows"][0] or none["rows"][0]["object"] is None


async def test_partial_object_metadata(api: Client) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a", {"k": "v"}, x="1"), status=201)
    out = await call(api, "GET", CONFIGMAPS, status=200, headers={"Accept": METADATA_LIST})
    assert (out["kind"], out["apiVersion"]) == ("PartialObjectMetadataList", "meta.k8s.io/v1")
    item = out["items"][0]
    assert item["kind"] == "PartialObjectMetadata" and item["metadata"]["labels"] == {"k": "v"}
    assert "data" not in item
    one = await call(api, "GET", f"{CONFIGMAPS}/a", status=200, headers={"Accept": METADATA})
    assert one["kind"] == "PartialObjectMetadata" and one["metadata"]["name"] == "a" and "data" not in one


async def test_legacy_discovery(api: Client) -> None:
    versions = await call(api, "GET", "/api", status=200)
    assert versions["kind"] == "APIVersions" and versions["versions"] == ["v1"]
    groups = await call(api, "GET", "/apis", status=200)
    assert groups["kind"] == "APIGroupList"
    assert {"apps", "batch", "coordination.k8s.io"} <= {g["name"] for g in groups["groups"]}
    core = await call(api, "GET", "/api/v1", status=200)
    assert core["kind"] == "APIResourceList" and core["groupVersion"] == "v1"
    pods = next(r for r in core["resources"] if r["name"] == "pods")
    assert pods["namespaced"] is True and pods["kind"] == "Pod" and "watch" in pods["verbs"]
    assert {"pods/status", "pods/binding", "pods/eviction", "pods/log"} <= {r["name"] for r in core["resources"]}
    apps = await call(api, "GET", "/apis/apps/v1", status=200)
    assert "deployments/scale" in {r["name"] for r in apps["resources"]}
    await failure(api, "GET", "/apis/nope.example.com/v1", status=404, reason="NotFound")


async def test_aggregated_discovery_etag(api: Client) -> None:
    resp = await api.get("/apis", headers={"Accept": AGGREGATED})
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/json;g=apidiscovery.k8s.io;v=v2")
    body = await resp.json()
    assert body["kind"] == "APIGroupDiscoveryList"
    etag = resp.headers["ETag"]
    again = await api.get("/apis", headers={"Accept": AGGREGATED, "If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    stale = await api.get("/apis", headers={"Accept": AGGREGATED, "If-None-Match": '"other"'})
    assert stale.status == 200
    core = await api.get("/api", headers={"Accept": AGGREGATED})
    core_group = (await core.json())["items"][0]
    assert "name" not in core_group["metadata"] and core_group["versions"][0]["version"] == "v1"


async def test_openapi_and_version(api: Client) -> None:
    v2 = await api.get("/openapi/v2", headers={"Accept": "application/json"})
    assert v2.status == 200
    assert "io.k8s.api.core.v1.Pod" in (await v2.json())["definitions"]
    index = await call(api, "GET", "/openapi/v3", status=200)
    assert "api/v1" in index["paths"] and "apis/apps/v1" in index["paths"]
    url = index["paths"]["api/v1"]["serverRelativeURL"]
    doc = await api.get(url)
    assert doc.status == 200 and doc.headers["Cache-Control"] == "public, immutable"
    assert "components" in await doc.json()
    version = await call(api, "GET", "/version", status=200)
    assert version["major"] == "1" and version["gitVersion"].startswith("v1.")
    health = await api.get("/healthz")
    assert health.status == 200 and await health.text() == "ok"
    await failure(api, "GET", "/nothing/here", status=404, reason="NotFound")
