from __future__ import annotations

import pytest

from pocketkube.scheduler.fit import Resources, fit_reasons, node_allocatable, pod_requests
from tests.unit.scheduler.objects import make_node, make_pod

GI = 1024**3


def test_requests_take_the_larger_of_init_and_app_containers() -> None:
    pod = make_pod(cpu="500m")
    pod["spec"]["initContainers"] = [{"name": "i", "resources": {"requests": {"cpu": "1500m"}}}]
    assert pod_requests(pod) == Resources(1500, 0, 1)
    pod = make_pod(cpu="500m", memory="1Gi")
    pod["spec"]["initContainers"] = [{"name": "s", "restartPolicy": "Always",
                                      "resources": {"requests": {"cpu": "250m"}}}]
    assert pod_requests(pod) == Resources(750, GI, 1)


def test_overhead_extended_resources_and_nonzero_defaults() -> None:
    pod = make_pod(cpu="1", requests={"nvidia.com/gpu": "2"})
    pod["spec"]["overhead"] = {"cpu": "250m", "memory": "120Mi"}
    assert pod_requests(pod) == Resources(1250, 120 * 1024**2, 1, {"nvidia.com/gpu": 2})
    # Scores count a container without requests as 100m / 200Mi.
    assert pod_requests(make_pod(), nonzero=True) == Resources(100, 200 * 1024**2, 1)
    assert pod_requests(make_pod(cpu="2"), nonzero=True) == Resources(2000, 200 * 1024**2, 1)


ALLOC = node_allocatable(make_node("a", cpu="2", memory="4Gi", pods="3", extra={"nvidia.com/gpu": "1"}))


@pytest.mark.parametrize(("want", "used", "reasons"), [
    (Resources(1000, GI, 1), Resources(), []),
    (Resources(3000, 0, 1), Resources(), ["Insufficient cpu"]),
    (Resources(1000, 0, 1), Resources(1500, 0, 1), ["Insufficient cpu"]),
    (Resources(0, 5 * GI, 1), Resources(), ["Insufficient memory"]),
    (Resources(3000, 5 * GI, 1), Resources(0, 0, 3), ["Too many pods", "Insufficient cpu", "Insufficient memory"]),
    (Resources(0, 0, 1, {"nvidia.com/gpu": 1}), Resources(), []),
    (Resources(0, 0, 1, {"nvidia.com/gpu": 2}), Resources(), ["Insufficient nvidia.com/gpu"]),
    (Resources(0, 0, 1, {"example.com/foo": 1, "ephemeral-storage": 1}), Resources(),
     ["Insufficient ephemeral-storage", "Insufficient example.com/foo"]),
])
def test_fit_reasons(want: Resources, used: Resources, reasons: list[str]) -> None:
    assert fit_reasons(want, used, ALLOC) == reasons
