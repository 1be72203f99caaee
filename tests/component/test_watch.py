"""Watch streams: event order, replay from a revision, selectors, bookmarks, 410 and timeouts."""

from __future__ import annotations

import pytest

from pocketkube.apiserver import handlers
from pocketkube.storage.memory import MemoryStore
from tests.component.conftest import CONFIGMAPS, Client, call, configmap, kinds, open_watch

MERGE = "application/merge-patch+json"


async def _rv(api: Client) -> str:
    return str((await call(api, "GET", CONFIGMAPS, status=200))["metadata"]["resourceVersion"])


async def test_added_modified_deleted_in_order(api: Client) -> None:
    rv = await _rv(api)
    async with open_watch(api, f"{CONFIGMAPS}?watch=1&resourceVersion={rv}") as stream:
        made = await call(api, "POST", CONFIGMAPS, configmap("a", v="1"), status=201)
        changed = await call(api, "PATCH", f"{CONFIGMAPS}/a", {"data": {"v": "2"}}, status=200,
                             content_type=MERGE)
        await call(api, "DELETE", f"{CONFIGMAPS}/a", status=200)
        events = await stream.take(3)
        assert kinds(events) == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]
        assert events[0]["object"]["metadata"]["resourceVersion"] == made["metadata"]["resourceVersion"]
        assert events[1]["object"]["data"] == {"v": "2"}
        assert events[1]["object"]["metadata"]["resourceVersion"] == changed["metadata"]["resourceVersion"]
        # DELETED carries the last state, at the revision of the delete
        assert events[2]["object"]["data"] == {"v": "2"}
        assert int(events[2]["object"]["metadata"]["resourceVersion"]) > int(
            changed["metadata"]["resourceVersion"])
        assert events[0]["object"]["kind"] == "ConfigMap"
        assert await stream.quiet()


async def test_replay_from_revision_sends_exactly_the_later_events(api: Client) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    rv = await _rv(api)
    await call(api, "POST", CONFIGMAPS, configmap("b"), status=201)
    await call(api, "PATCH", f"{CONFIGMAPS}/a", {"data": {"x": "1"}}, status=200, content_type=MERGE)
    await call(api, "POST", "/api/v1/namespaces", {"metadata": {"name": "elsewhere"}}, status=201)
    async with open_watch(api, f"{CONFIGMAPS}?watch=true&resourceVersion={rv}") as stream:
        assert kinds(await stream.take(2)) == [("ADDED", "b"), ("MODIFIED", "a")]
        assert await stream.quiet()


@pytest.mark.parametrize("rv", ["", "0"])
async def test_unset_or_zero_revision_starts_with_the_current_state(api: Client, rv: str) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    await call(api, "POST", CONFIGMAPS, configmap("b"), status=201)
    query = f"&resourceVersion={rv}" if rv else ""
    async with open_watch(api, f"{CONFIGMAPS}?watch=1{query}") as stream:
        assert kinds(await stream.take(2)) == [("ADDED", "a"), ("ADDED", "b")]
        await call(api, "POST", CONFIGMAPS, configmap("c"), status=201)
        assert kinds(await stream.take(1)) == [("ADDED", "c")]


async def test_label_selector_turns_label_changes_into_added_and_deleted(api: Client) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a", {"app": "web"}), status=201)
    rv = await _rv(api)
    async with open_watch(api, f"{CONFIGMAPS}?watch=1&labelSelector=app%3Dweb&resourceVersion={rv}") as stream:
        await call(api, "PATCH", f"{CONFIGMAPS}/a", {"metadata": {"labels": {"app": "db"}}}, status=200,
                   content_type=MERGE)
        await call(api, "PATCH", f"{CONFIGMAPS}/a", {"data": {"ignored": "1"}}, status=200, content_type=MERGE)
        await call(api, "PATCH", f"{CONFIGMAPS}/a", {"metadata": {"labels": {"app": "web"}}}, status=200,
                   content_type=MERGE)
        await call(api, "PATCH", f"{CONFIGMAPS}/a", {"data": {"seen": "1"}}, status=200, content_type=MERGE)
        await call(api, "POST", CONFIGMAPS, configmap("other", {"app": "db"}), status=201)
        events = await stream.take(3)
        assert kinds(events) == [("DELETED", "a"), ("ADDED", "a"), ("MODIFIED", "a")]
        assert events[0]["object"]["metadata"]["labels"] == {"app": "db"}  # the object as it left
        assert await stream.quiet()


async def test_field_selector_and_single_object_watch(api: Client) -> None:
    rv = await _rv(api)
    async with open_watch(api, f"{CONFIGMAPS}/b?watch=1&resourceVersion={rv}") as by_name, \
            open_watch(api, f"{CONFIGMAPS}?watch=1&fieldSelector=metadata.name%3Db&resourceVersion={rv}") as by_field:
        await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
        await call(api, "POST", CONFIGMAPS, configmap("b"), status=201)
        assert kinds(await by_name.take(1)) == [("ADDED", "b")]
        assert kinds(await by_field.take(1)) == [("ADDED", "b")]


async def test_legacy_watch_path(api: Client) -> None:
    rv = await _rv(api)
    async with open_watch(api, f"/api/v1/watch/namespaces/default/configmaps?resourceVersion={rv}") as stream:
        await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
        assert kinds(await stream.take(1)) == [("ADDED", "a")]


async def test_idle_watch_gets_bookmarks(api: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers, "BOOKMARK_INTERVAL", 0.05)
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    rv = await _rv(api)
    async with open_watch(api, f"{CONFIGMAPS}?watch=1&allowWatchBookmarks=true&resourceVersion={rv}") as stream:
        event = (await stream.take(1))[0]
        assert event["type"] == "BOOKMARK"
        assert event["object"]["kind"] == "ConfigMap" and event["object"]["apiVersion"] == "v1"
        assert int(event["object"]["metadata"]["resourceVersion"]) >= int(rv)
        assert "annotations" not in event["object"]["metadata"]


async def test_no_bookmarks_unless_asked(api: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers, "BOOKMARK_INTERVAL", 0.05)
    rv = await _rv(api)
    async with open_watch(api, f"{CONFIGMAPS}?watch=1&resourceVersion={rv}") as stream:
        assert await stream.quiet(0.3)


async def test_send_initial_events_ends_with_annotated_bookmark(api: Client) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    await call(api, "POST", CONFIGMAPS, configmap("b"), status=201)
    rv = await _rv(api)
    query = "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
    async with open_watch(api, f"{CONFIGMAPS}?{query}") as stream:
        events = await stream.take(3)
        assert kinds(events) == [("ADDED", "a"), ("ADDED", "b"), ("BOOKMARK", "")]
        bookmark = events[2]["object"]
        assert bookmark["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
        assert bookmark["metadata"]["resourceVersion"] == rv
        await call(api, "POST", CONFIGMAPS, configmap("c"), status=201)
        assert kinds(await stream.take(1)) == [("ADDED", "c")]


async def test_watch_from_compacted_revision_is_an_error_event(api: Client, store: MemoryStore) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    old = await _rv(api)
    await call(api, "POST", CONFIGMAPS, configmap("b"), status=201)
    await call(api, "POST", CONFIGMAPS, configmap("c"), status=201)
    compacted = await store.current_revision()
    await store.compact(compacted)
    async with open_watch(api, f"{CONFIGMAPS}?watch=1&resourceVersion={old}") as stream:
        events = await stream.rest()
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert (status["kind"], status["status"], status["code"], status["reason"]) == (
        "Status", "Failure", 410, "Expired")
    assert status["message"] == f"too old resource version: {old} ({compacted})"


async def test_timeout_seconds_ends_the_stream(api: Client) -> None:
    rv = await _rv(api)
    async with open_watch(api, f"{CONFIGMAPS}?watch=1&timeoutSeconds=1&resourceVersion={rv}") as stream:
        await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
        events = await stream.rest(timeout=3)
    assert kinds(events) == [("ADDED", "a")]


async def test_watch_all_namespaces(api: Client) -> None:
    await call(api, "POST", "/api/v1/namespaces", {"metadata": {"name": "other"}}, status=201)
    rv = await _rv(api)
    async with open_watch(api, f"/api/v1/configmaps?watch=1&resourceVersion={rv}") as stream:
        await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
        await call(api, "POST", "/api/v1/namespaces/other/configmaps", configmap("b"), status=201)
        events = await stream.take(2)
        assert [(e["object"]["metadata"]["namespace"], e["object"]["metadata"]["name"]) for e in events] == [
            ("default", "a"), ("other", "b")]
