"""The one Expectations class every controller uses: counts of creations, keys of deletions,
ticked off by pod events, lapsing after the timeout on the injected clock."""

from __future__ import annotations

from pocketkube.api.obj import Obj
from pocketkube.clock import FakeClock
from pocketkube.controllers.common.expectations import EXPECTATIONS_TIMEOUT, Expectations
from pocketkube.controllers.common.ownership import controller_key


def pod(name: str, owner: str = "web", deleting: bool = False) -> Obj:
    md: Obj = {"name": name, "namespace": "ns",
               "ownerReferences": [{"kind": "ReplicaSet", "name": owner, "uid": "u", "controller": True}]}
    if deleting:
        md["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return {"metadata": md}


async def test_expectations_lapse_after_the_timeout_on_the_clock() -> None:
    clock = FakeClock()
    exp = Expectations(clock=clock)
    exp.expect_creations("ns/web", 2)
    await clock.advance(EXPECTATIONS_TIMEOUT)
    assert not exp.satisfied("ns/web")
    await clock.advance(1)
    assert exp.satisfied("ns/web")
    # Once lapsed, the next expectation starts afresh instead of adding to the stale count.
    exp.expect_creations("ns/web", 1)
    exp.creation_observed("ns/web")
    assert exp.satisfied("ns/web")


def test_one_reconcile_may_expect_deletions_and_creations() -> None:
    exp = Expectations(clock=FakeClock())
    exp.expect_deletions("k", ["ns/a", "ns/b"])
    exp.expect_creations("k", 1)
    exp.creation_observed("k")
    assert not exp.satisfied("k")
    exp.lower("k", deletes=["ns/a"])  # a delete that failed will never be observed
    exp.deletion_observed("k", "ns/b")
    assert exp.satisfied("k")
    exp.expect_creations("k", 3)
    exp.lower("k", adds=3)
    assert exp.satisfied("k")


def test_observer_ticks_off_the_owner_of_each_pod_event() -> None:
    exp = Expectations(clock=FakeClock())
    handlers = exp.observer(lambda p: controller_key(p, "ReplicaSet"))
    assert handlers.on_add and handlers.on_update and handlers.on_delete
    exp.expect_creations("ns/web", 1)
    exp.expect_deletions("ns/web", ["ns/old", "ns/gone", "ns/late"])
    handlers.on_add(pod("x", owner="other"))  # another owner's pod changes nothing
    assert not exp.satisfied("ns/web")
    handlers.on_add(pod("new"))
    handlers.on_update(pod("old"), pod("old", deleting=True))  # seen being deleted counts
    handlers.on_delete(pod("gone"))
    assert not exp.satisfied("ns/web")
    handlers.on_add(pod("late", deleting=True))  # first seen already being deleted
    assert exp.satisfied("ns/web")


def test_forget() -> None:
    exp = Expectations(clock=FakeClock())
    exp.expect_creations("k", 1)
    exp.forget("k")
    assert exp.satisfied("k")
