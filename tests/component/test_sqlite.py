"""The same HTTP semantics over the embedded SQLite store (group commit, revision log on disk)."""

from __future__ import annotations

import asyncio
import copy

from tests.component.conftest import (
    CONFIGMAPS,
    PODS,
    Client,
    call,
    configmap,
    failure,
    kinds,
    open_watch,
    pod,
)

MERGE = "application/merge-patch+json"


async def test_crud_and_conflict(sqlite_api: Client) -> None:
    api = sqlite_api
    created = await call(api, "POST", CONFIGMAPS, configmap("a", v="1"), status=201)
    await failure(api, "POST", CONFIGMAPS, configmap("a"), status=409, reason="AlreadyExists")
    fresh = copy.deepcopy(created)
    fresh["data"] = {"v": "2"}
    updated = await call(api, "PUT", f"{CONFIGMAPS}/a", fresh, status=200)
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    await failure(api, "PUT", f"{CONFIGMAPS}/a", created, status=409, reason="Conflict")
    same = await call(api, "PUT", f"{CONFIGMAPS}/a", updated, status=200)
    assert same["metadata"]["resourceVersion"] == updated["metadata"]["resourceVersion"]
    await call(api, "DELETE", f"{CONFIGMAPS}/a", status=200)
    await failure(api, "GET", f"{CONFIGMAPS}/a", status=404, reason="NotFound")


async def test_concurrent_creates_get_distinct_revisions(sqlite_api: Client) -> None:
    api = sqlite_api
    made = await asyncio.gather(*(call(api, "POST", CONFIGMAPS, configmap(f"c{i}"), status=201)
                                  for i in range(10)))
    revisions = {m["metadata"]["resourceVersion"] for m in made}
    assert len(revisions) == 10
    listed = await call(api, "GET", CONFIGMAPS, status=200)
    assert len(listed["items"]) == 10
    assert int(listed["metadata"]["resourceVersion"]) == max(int(r) for r in revisions)


async def test_pagination_snapshot(sqlite_api: Client) -> None:
    api = sqlite_api
    for name in "abcd":
        await call(api, "POST", CONFIGMAPS, configmap(name), status=201)
    first = await call(api, "GET", f"{CONFIGMAPS}?limit=2", status=200)
    await call(api, "DELETE", f"{CONFIGMAPS}/c", status=200)
    second = await call(api, "GET", f"{CONFIGMAPS}?limit=2&continue={first['metadata']['continue']}", status=200)
    assert [i["metadata"]["name"] for i in second["items"]] == ["c", "d"]
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


async def test_watch_and_graceful_delete(sqlite_api: Client) -> None:
    api = sqlite_api
    rv = (await call(api, "GET", PODS, status=200))["metadata"]["resourceVersion"]
    async with open_watch(api, f"{PODS}?watch=1&resourceVersion={rv}") as stream:
        await call(api, "POST", PODS, pod("p", node="n1"), status=201)
        marked = await call(api, "DELETE", f"{PODS}/p", status=200)
        assert marked["metadata"]["deletionGracePeriodSeconds"] == 30
        await call(api, "DELETE", f"{PODS}/p?gracePeriodSeconds=0", status=200)
        assert kinds(await stream.take(3)) == [("ADDED", "p"), ("MODIFIED", "p"), ("DELETED", "p")]


async def test_finalizer_flow(sqlite_api: Client) -> None:
    api = sqlite_api
    body = configmap("a")
    body["metadata"]["finalizers"] = ["example.com/f"]
    await call(api, "POST", CONFIGMAPS, body, status=201)
    await call(api, "DELETE", f"{CONFIGMAPS}/a", status=200)
    await call(api, "GET", f"{CONFIGMAPS}/a", status=200)
    await call(api, "PATCH", f"{CONFIGMAPS}/a", {"metadata": {"finalizers": []}}, status=200, content_type=MERGE)
    await failure(api, "GET", f"{CONFIGMAPS}/a", status=404, reason="NotFound")


async def test_concurrent_patches_without_a_resource_version_never_conflict(sqlite_api: Client) -> None:
    """Over SQLite, writes wait for their commit, so patches really race: losing a race means
    trying again on the newer object, not a 409; only a client's own stale version conflicts."""
    await call(sqlite_api, "POST", CONFIGMAPS, configmap("contended"), status=201)

    async def label(i: int) -> int:
        resp = await sqlite_api.patch(f"{CONFIGMAPS}/contended", json={"metadata": {"labels": {f"k{i}": "v"}}},
                                      headers={"Content-Type": "application/merge-patch+json"})
        return resp.status

    assert await asyncio.gather(*(label(i) for i in range(20))) == [200] * 20
    got = await call(sqlite_api, "GET", f"{CONFIGMAPS}/contended", status=200)
    assert set(got["metadata"]["labels"]) == {f"k{i}" for i in range(20)}
    await failure(sqlite_api, "PATCH", f"{CONFIGMAPS}/contended",
                  {"metadata": {"resourceVersion": "1", "labels": {"x": "y"}}},
                  content_type="application/merge-patch+json", status=409, reason="Conflict")
