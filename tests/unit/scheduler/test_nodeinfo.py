from __future__ import annotations

from pocketkube.scheduler.fit import Resources
from pocketkube.scheduler.nodeinfo import ClusterCache
from tests.unit.scheduler.objects import make_node, make_pod

MI = 1024**2


def test_cache_tracks_pods_incrementally_and_keeps_assumptions() -> None:
    cache = ClusterCache()
    cache.update_pod(make_pod("early", cpu="100m", node="n1", owner="rs"))  # before its node is known
    assert cache.nodes() == []
    cache.set_node(make_node("n1"))
    [info] = cache.nodes()
    assert info.requested == Resources(100, 0, 1) and info.owners["uid-rs"] == 1
    pending = make_pod("new", cpu="200m", memory="64Mi", owner="rs", host_port=80)
    cache.assume(pending, "n1")
    assert info.requested == Resources(300, 64 * MI, 2) and info.owners["uid-rs"] == 2
    assert sum(info.ports.values()) == 1
    cache.update_pod(pending)  # a stale event without nodeName doesn't undo the assumption
    assert info.requested.pods == 2
    cache.update_pod({**pending, "spec": {**pending["spec"], "nodeName": "n1"}})  # the binding arrives
    assert info.requested == Resources(300, 64 * MI, 2) and not cache.assumed
    finished = make_pod("new", cpu="200m", memory="64Mi", owner="rs", node="n1")
    finished["status"]["phase"] = "Succeeded"
    cache.update_pod(finished)
    assert info.requested == Resources(100, 0, 1) and info.owners["uid-rs"] == 1 and not info.ports
    cache.forget("default/early")
    assert info.requested == Resources() and not info.owners


def test_forget_undoes_an_assumption_and_deleted_nodes_keep_their_pods_accounted() -> None:
    cache = ClusterCache()
    cache.set_node(make_node("n1"))
    cache.assume(make_pod("p", cpu="1"), "n1")
    cache.forget("default/p")
    assert cache.nodes()[0].requested == Resources()
    cache.update_pod(make_pod("q", cpu="1", node="n1"))
    cache.remove_node("n1")
    assert cache.nodes() == []
    cache.set_node(make_node("n1"))
    assert cache.nodes()[0].requested.milli_cpu == 1000
