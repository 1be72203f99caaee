"""Backoff arithmetic (kubelet's flowcontrol rules) and the runtime labels round trip."""

from __future__ import annotations

import pytest

from pocketkube.agent import labels
from pocketkube.agent.backoff import Backoff, go_duration

from .fixtures import make_pod

KEY = ("uid-1", "web", "abc")


def test_delays_double_to_the_cap_and_first_restart_is_free() -> None:
    b = Backoff()
    now = 0.0
    assert not b.in_backoff(KEY, now, now)  # no entry: the first restart is immediate
    seen = []
    for _ in range(8):
        b.next(KEY, now)  # the restart
        finished = now + 1  # it crashes a second later
        seen.append(b.get(KEY))
        assert b.in_backoff(KEY, finished, finished + b.get(KEY) - 0.5)
        assert not b.in_backoff(KEY, finished, finished + b.get(KEY))
        now = finished + b.get(KEY)
    assert seen == [10, 20, 40, 80, 160, 300, 300, 300]


def test_ten_minutes_of_good_running_resets() -> None:
    b = Backoff()
    for t in (0.0, 30.0, 100.0):
        b.next(KEY, t)
    assert b.get(KEY) == 40
    finished = 100.0 + 601  # ran more than 2 × 5 min since the last restart
    assert not b.in_backoff(KEY, finished, finished + 1)
    b.next(KEY, finished + 1)
    assert b.get(KEY) == 10
    # 599 s of running is not enough
    b.next(KEY, 2000.0)
    assert b.in_backoff(KEY, 2000.0 + 599, 2000.0 + 600)


def test_restore_from_history_and_serialize() -> None:
    b = Backoff()
    b.restore(KEY, attempt=0, created_at=5.0)
    assert b.get(KEY) == 0
    b.restore(KEY, attempt=3, created_at=50.0)
    assert b.get(KEY) == 40
    assert b.in_backoff(KEY, 55.0, 90.0) and not b.in_backoff(KEY, 55.0, 95.0)
    b.restore(("uid-1", "big", "h"), attempt=40, created_at=0.0)
    assert b.get(("uid-1", "big", "h")) == 300
    again = Backoff.from_dict(b.to_dict())
    assert again.to_dict() == b.to_dict()
    again.forget_pod("uid-1")
    assert again.to_dict() == {}
    b.gc(10_000.0)
    assert b.to_dict() == {}


@pytest.mark.parametrize("seconds,text", [(10, "10s"), (20, "20s"), (40, "40s"), (80, "1m20s"),
                                          (160, "2m40s"), (300, "5m0s"), (3600, "1h0m0s")])
def test_go_duration(seconds: int, text: str) -> None:
    assert go_duration(seconds) == text


def test_labels_round_trip() -> None:
    init = {"name": "setup", "image": "busybox", "terminationMessagePolicy": "FallbackToLogsOnError"}
    side = {"name": "proxy", "image": "envoy", "restartPolicy": "Always"}
    pod = make_pod([{"name": "web", "image": "nginx"}], init=[init, side])
    got = labels.container_labels(pod, init, "init", 3, image_id="sha256:1")
    assert labels.pod_uid(got) == "uid-1" and labels.pod_key(got) == ("ns", "p")
    assert labels.container_name(got) == "setup" and labels.container_type_of(got) == "init"
    assert labels.restart_count(got) == 3 and labels.image_of(got) == "busybox"
    assert labels.image_id_of(got) == "sha256:1"
    assert labels.termination_message_path(got) == "/dev/termination-log"
    assert labels.termination_message_policy(got) == "FallbackToLogsOnError"
    assert labels.hash_of(got) == labels.spec_hash(init)
    assert [labels.container_type(pod, n) for n in ("setup", "proxy", "web", "nope")] == \
        ["init", "sidecar", "regular", None]
    assert labels.sandbox_attempt(labels.sandbox_labels(pod, 2)) == 2
    assert labels.container_type_of({}) is None and labels.restart_count({labels.CONTAINER_RESTART_COUNT: "x"}) == 0


def test_spec_hash_is_stable_and_sees_image_changes() -> None:
    a = {"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}]}
    b = {"ports": [{"containerPort": 80}], "image": "nginx:1", "name": "web"}
    assert labels.spec_hash(a) == labels.spec_hash(b)
    assert labels.spec_hash(a) != labels.spec_hash({**a, "image": "nginx:2"})
    assert labels.spec_hash({}) == "5465b825"  # FNV-1a 32 of b"{}": pinned, labels must survive upgrades
