from __future__ import annotations

from pocketkube.agent.pulls import PullBackoff


def test_pull_backoff_doubles_to_its_cap_and_is_forgotten_with_the_pod() -> None:
    pulls = PullBackoff(initial=10, maximum=30)
    key = ("uid-1", "c", "busybox:nope")
    assert not pulls.waiting(key, 0)
    waits = []
    now = 0.0
    for _ in range(4):
        pulls.failed(key, now)
        start = now
        while pulls.waiting(key, now):
            now += 1
        waits.append(now - start)
    assert waits == [10, 20, 30, 30]
    pulls.failed(key, now)
    pulls.forget_pod("uid-1")
    assert not pulls.waiting(key, now)
