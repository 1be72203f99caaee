from __future__ import annotations

from pathlib import Path

import pytest

from pocketkube.network.config import NetworkOptions, build_conflist, build_loopback, gateway_for, validate


@pytest.mark.parametrize(
    ("cidr", "gateway"),
    [("10.244.0.0/24", "10.244.0.1"), ("10.250.7.0/24", "10.250.7.1"), ("10.0.0.0/30", "10.0.0.1"),
     ("fd00:10::/64", "fd00:10::1")],
)
def test_gateway_is_the_first_address(cidr: str, gateway: str) -> None:
    assert gateway_for(cidr) == gateway


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({}, None),
        ({"pod_cidr": "10.250.3.0/24", "cluster_cidr": "10.250.0.0/16"}, None),
        ({"bridge": "a-very-long-bridge"}, "bridge name"),
        ({"bridge": ""}, "bridge name"),
        ({"bridge": "a/b"}, "bridge name"),
        ({"network_name": ""}, "network name"),
        ({"pod_cidr": "10.244.0.1/24"}, "has host bits set"),
        ({"pod_cidr": "banana"}, "pod CIDR 'banana' is invalid"),
        ({"cluster_cidr": "10.0.0.0/33"}, "cluster CIDR"),
        ({"pod_cidr": "10.245.0.0/24"}, "not inside cluster CIDR"),
        ({"pod_cidr": "fd00::/64"}, "not inside cluster CIDR"),
        ({"pod_cidr": "10.244.0.0/31"}, "too small"),
        ({"mtu": 100}, "mtu"),
        ({"mtu": 1450}, None),
    ],
)
def test_validate(changes: dict[str, object], problem: str | None) -> None:
    problems = validate(NetworkOptions(**changes))  # type: ignore[arg-type]
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


def test_default_conflist() -> None:
    opts = NetworkOptions(state_dir=Path("/var/lib/pocketkube/network"))
    assert build_conflist(opts) == {
        "cniVersion": "1.0.0",
        "name": "pocketkube",
        "plugins": [
            {
                "type": "bridge",
                "bridge": "pk0",
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": "10.244.0.0/24", "gateway": "10.244.0.1"}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": "/var/lib/pocketkube/network/ipam",
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
        ],
    }


def test_knobs_reach_the_conflist() -> None:
    opts = NetworkOptions(
        network_name="t1", bridge="pkt7", pod_cidr="10.250.7.0/24", cluster_cidr="10.250.0.0/16",
        state_dir=Path("/tmp/x"), mtu=1400, hairpin_mode=False, snat=False, ip_masq=True,
    )
    conf = build_conflist(opts)
    bridge, portmap = conf["plugins"]
    assert conf["name"] == "t1"
    assert (bridge["bridge"], bridge["mtu"], bridge["hairpinMode"], bridge["ipMasq"]) == ("pkt7", 1400, False, True)
    assert bridge["ipam"]["ranges"] == [[{"subnet": "10.250.7.0/24", "gateway": "10.250.7.1"}]]
    assert bridge["ipam"]["dataDir"] == "/tmp/x/ipam"
    assert portmap["snat"] is False
    assert opts.cache_dir == Path("/tmp/x/cache")


def test_ipv6_pod_cidr_gets_a_v6_default_route() -> None:
    conf = build_conflist(NetworkOptions(pod_cidr="fd00:10::/64", cluster_cidr="fd00::/16"))
    assert conf["plugins"][0]["ipam"]["routes"] == [{"dst": "::/0"}]


def test_loopback_is_its_own_network() -> None:
    assert build_loopback(NetworkOptions(network_name="n")) == {
        "cniVersion": "1.0.0", "name": "n-loopback", "plugins": [{"type": "loopback"}],
    }
