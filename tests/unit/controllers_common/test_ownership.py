"""claim: ControllerRefManager's decisions, shared by the ReplicaSet, Deployment and StatefulSet
controllers."""

from __future__ import annotations

from pocketkube.api.obj import Obj
from pocketkube.api.selectors import selector_from_object
from pocketkube.controllers.common.ownership import claim, controller_key, with_owner, without_owner

SELECTOR = selector_from_object({"matchLabels": {"app": "web"}})


def obj(name: str, app: str = "web", owner: str | None = None, namespace: str = "ns",
        deleting: bool = False) -> Obj:
    md: Obj = {"name": name, "namespace": namespace, "labels": {"app": app}}
    if owner:
        md["ownerReferences"] = [{"kind": "StatefulSet", "name": "web", "uid": owner, "controller": True}]
    if deleting:
        md["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return {"metadata": md}


def names(objs: list[Obj]) -> list[str]:
    return [o["metadata"]["name"] for o in objs]


OWNER = {"metadata": {"name": "web", "namespace": "ns", "uid": "u1"}}


def test_match_narrows_the_selector() -> None:
    objs = [obj("web-0", owner="u1"), obj("web-1"), obj("other-0"), obj("other-1", owner="u1"),
            obj("web-2", owner="u2")]
    c = claim(OWNER, SELECTOR, objs, match=lambda o: o["metadata"]["name"].startswith("web-"))
    assert (names(c.owned), names(c.adopt), names(c.release)) == (["web-0"], ["web-1"], ["other-1"])


def test_an_owner_being_deleted_keeps_what_it_has_and_takes_nothing() -> None:
    deleting = {"metadata": {**OWNER["metadata"], "deletionTimestamp": "2024-01-01T00:00:00Z"}}
    c = claim(deleting, SELECTOR, [obj("mine", owner="u1"), obj("orphan"), obj("stray", app="db", owner="u1")])
    assert (names(c.owned), names(c.adopt), names(c.release)) == (["mine"], [], [])


def test_orphans_elsewhere_or_dying_are_not_adopted() -> None:
    c = claim(OWNER, SELECTOR, [obj("far", namespace="other"), obj("dying", deleting=True), obj("here")])
    assert names(c.adopt) == ["here"]


def test_owner_references_and_keys() -> None:
    o = obj("web-0", owner="u1")
    ref = {"kind": "StatefulSet", "name": "web", "uid": "u9", "controller": True}
    assert [r["uid"] for r in with_owner(o, ref)] == ["u1", "u9"]
    assert without_owner(o, "u1") == []
    assert controller_key(o, "StatefulSet") == "ns/web"
    assert controller_key(o, "ReplicaSet") is None
    assert controller_key(obj("bare"), "StatefulSet") is None
