from typing import Any

import pytest

from pocketkube.agent.volumes.dns import hosts_file, parse_resolv_conf, resolv_conf

from .fakes import make_pod

BOILERPLATE = ("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
               "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")


def test_hosts_plain() -> None:
    assert hosts_file(make_pod(), "10.244.0.5") == BOILERPLATE + "10.244.0.5\tweb\n"


def test_hosts_subdomain_aliases_and_ips() -> None:
    pod = make_pod(hostname="h", subdomain="sub",
                   hostAliases=[{"ip": "127.0.0.1", "hostnames": ["foo.local", "bar.local"]},
                                {"ip": "10.1.2.3", "hostnames": ["foo.remote"]}])
    assert hosts_file(pod, ["10.244.0.5", "fd00::5"]) == BOILERPLATE + (
        "10.244.0.5\th.sub.ns1.svc.cluster.local\th\n"
        "fd00::5\th.sub.ns1.svc.cluster.local\th\n"
        "\n# Entries added by HostAliases.\n"
        "127.0.0.1\tfoo.local\tbar.local\n10.1.2.3\tfoo.remote\n")


def test_hosts_long_name_truncated() -> None:
    pod = make_pod()
    pod["metadata"]["name"] = "a" * 62 + "-b"
    assert hosts_file(pod, "10.0.0.1").endswith("10.0.0.1\t" + "a" * 62 + "\n")


def test_hosts_host_network() -> None:
    pod = make_pod(hostNetwork=True)
    assert hosts_file(pod, "1.2.3.4", host_hosts_text="127.0.0.1 myhost\n") == (
        "# Kubernetes-managed hosts file (host network).\n127.0.0.1 myhost\n")


HOST = "# host\nnameserver 1.1.1.1\nnameserver 8.8.8.8\nsearch corp.example. lab.example\noptions rotate timeout:2\n"


@pytest.mark.parametrize(("spec", "expected"), [
    ({}, "search ns1.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\n"
         "nameserver 10.96.0.10\noptions ndots:5\n"),
    ({"dnsPolicy": "Default"}, "search corp.example lab.example\nnameserver 1.1.1.1\nnameserver 8.8.8.8\n"
                               "options rotate timeout:2\n"),
    ({"dnsPolicy": "ClusterFirst", "hostNetwork": True},
     "search corp.example lab.example\nnameserver 1.1.1.1\nnameserver 8.8.8.8\noptions rotate timeout:2\n"),
    ({"dnsPolicy": "ClusterFirstWithHostNet", "hostNetwork": True},
     "search ns1.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\n"
     "nameserver 10.96.0.10\noptions ndots:5\n"),
    ({"dnsPolicy": "None"}, ""),
    ({"dnsPolicy": "None", "dnsConfig": {"nameservers": ["9.9.9.9"], "searches": ["a.b"],
                                         "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}},
     "search a.b\nnameserver 9.9.9.9\noptions ndots:2 edns0\n"),
    ({"dnsConfig": {"nameservers": ["10.96.0.10", "9.9.9.9", "7.7.7.7", "6.6.6.6"], "searches": ["cluster.local", "x.y"],
                    "options": [{"name": "ndots", "value": "1"}]}},
     "search ns1.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example x.y\n"
     "nameserver 10.96.0.10\nnameserver 9.9.9.9\nnameserver 7.7.7.7\noptions ndots:1\n"),
])
def test_resolv_conf(spec: dict[str, Any], expected: str) -> None:
    assert resolv_conf(make_pod(**spec), ["10.96.0.10"], "cluster.local", HOST) == expected


def test_cluster_first_without_cluster_dns_falls_back_to_host() -> None:
    assert resolv_conf(make_pod(), [], "cluster.local", HOST).startswith("search corp.example lab.example\n")


def test_parse_resolv_conf_last_search_wins() -> None:
    assert parse_resolv_conf("search a\nsearch b. .\n; c\nnameserver 1.1.1.1 # x\n") == (["1.1.1.1"], ["b"], [])
