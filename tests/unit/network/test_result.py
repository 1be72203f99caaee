from __future__ import annotations

from typing import Any

import pytest

from pocketkube.network.base import PodNetworkRef, PodNetworkStatus, PortMapping
from pocketkube.network.result import (
    cni_args,
    host_interfaces,
    port_mappings_config,
    runtime_config,
    status_from_result,
)

BRIDGE_RESULT: dict[str, Any] = {
    "cniVersion": "1.0.0",
    "interfaces": [
        {"name": "pk0", "mac": "aa"},
        {"name": "veth1234", "mac": "bb"},
        {"name": "eth0", "mac": "cc", "sandbox": "/run/netns/x"},
    ],
    "ips": [{"interface": 2, "address": "10.244.0.5/24", "gateway": "10.244.0.1"}],
    "dns": {},
}


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (BRIDGE_RESULT, PodNetworkStatus(("10.244.0.5",), "eth0", "10.244.0.1", ("10.244.0.5/24",))),
        # portmap passes the result through; an ip without an interface index still counts
        ({"ips": [{"address": "10.1.0.2/16"}]}, PodNetworkStatus(("10.1.0.2",), "eth0", None, ("10.1.0.2/16",))),
        # dual stack: IPv4 first whatever the order in the result
        (
            {
                "interfaces": [{"name": "eth0", "sandbox": "/n"}],
                "ips": [{"interface": 0, "address": "fd00::5/64", "gateway": "fd00::1"},
                        {"interface": 0, "address": "10.0.0.5/24", "gateway": "10.0.0.1"}],
            },
            PodNetworkStatus(("10.0.0.5", "fd00::5"), "eth0", "fd00::1", ("10.0.0.5/24", "fd00::5/64")),
        ),
        # an address on a host interface is not the pod's
        ({"interfaces": [{"name": "pk0"}], "ips": [{"interface": 0, "address": "10.0.0.1/24"}]}, None),
        ({"interfaces": [], "ips": []}, None),
        ({}, None),
    ],
)
def test_status_from_result(result: dict[str, Any], expected: PodNetworkStatus | None) -> None:
    assert status_from_result(result) == expected


def test_host_interfaces_are_the_veths() -> None:
    assert host_interfaces(BRIDGE_RESULT, "pk0") == ["veth1234"]
    assert host_interfaces({}, "pk0") == []


def test_cni_args_like_kubelet() -> None:
    pod = PodNetworkRef("ns1", "web", "uid-1", "sandbox-1")
    assert cni_args(pod) == (
        ("IgnoreUnknown", "1"),
        ("K8S_POD_NAMESPACE", "ns1"),
        ("K8S_POD_NAME", "web"),
        ("K8S_POD_INFRA_CONTAINER_ID", "sandbox-1"),
        ("K8S_POD_UID", "uid-1"),
    )


@pytest.mark.parametrize(
    ("mappings", "expected"),
    [
        ([], []),
        ([PortMapping(8080, 80)], [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]),
        (
            [PortMapping(53, 5353, "UDP", "127.0.0.1"), PortMapping(9, 9, "SCTP")],
            [{"hostPort": 53, "containerPort": 5353, "protocol": "udp", "hostIP": "127.0.0.1"},
             {"hostPort": 9, "containerPort": 9, "protocol": "sctp"}],
        ),
    ],
)
def test_port_mappings_config(mappings: list[PortMapping], expected: list[dict[str, Any]]) -> None:
    assert port_mappings_config(mappings) == expected


@pytest.mark.parametrize(
    ("capabilities", "expected"),
    [
        ({"portMappings": True}, {"portMappings": [1]}),
        ({"portMappings": False}, {}),
        ({}, {}),
        ({"bandwidth": True}, {}),
    ],
)
def test_runtime_config_only_declared_capabilities(capabilities: dict[str, Any], expected: dict[str, Any]) -> None:
    assert runtime_config(capabilities, {"portMappings": [1], "other": 2}) == expected
