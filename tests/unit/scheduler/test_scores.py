from __future__ import annotations

import pytest

from pocketkube.scheduler.fit import Resources
from pocketkube.scheduler.scores import (
    balanced_allocation,
    default_normalize,
    least_allocated,
    min_max_normalize,
    pick,
)

NODE = Resources(4000, 8 * 1024**3, 110)


@pytest.mark.parametrize(("want", "used", "score"), [
    (Resources(0, 0), Resources(), 100),
    (Resources(1000, 2 * 1024**3), Resources(), 75),
    (Resources(1000, 0), Resources(1000, 4 * 1024**3), 50),  # cpu 50 free, memory 50 free
    (Resources(8000, 0), Resources(), 50),  # over capacity counts 0 for that resource
])
def test_least_allocated(want: Resources, used: Resources, score: int) -> None:
    assert least_allocated(want, used, NODE) == score


@pytest.mark.parametrize(("want", "used", "score"), [
    (Resources(2000, 4 * 1024**3), Resources(), 100),  # both half used: perfectly balanced
    (Resources(4000, 0), Resources(), 50),  # cpu full, memory empty
    (Resources(1000, 0), Resources(1000, 0), 75),
])
def test_balanced_allocation(want: Resources, used: Resources, score: int) -> None:
    assert balanced_allocation(want, used, NODE) == score


def test_normalisations_and_pick() -> None:
    assert default_normalize({"a": 0, "b": 5, "c": 10}) == {"a": 0, "b": 50, "c": 100}
    assert default_normalize({"a": 0, "b": 2}, reverse=True) == {"a": 100, "b": 0}
    assert default_normalize({"a": 0}, reverse=True) == {"a": 100}
    assert min_max_normalize({"a": -4, "b": 6, "c": 1}) == {"a": 0, "b": 100, "c": 50}
    assert min_max_normalize({"a": 3, "b": 3}) == {"a": 0, "b": 0}
    assert pick({"b": 10, "a": 10, "c": 9}) == "a"
    assert pick({}) is None
