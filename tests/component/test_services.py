"""Service ClusterIP and NodePort allocation on create."""

from __future__ import annotations

from typing import Any

import pytest

from pocketkube.api import errors, resources
from pocketkube.api.obj import Obj
from tests.support.inprocess import inprocess_api

SERVICES = resources.require("", "v1", "services")


def service(name: str, **spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80}], **spec}}


async def test_cluster_ips_are_unique_reused_and_checked() -> None:
    async with inprocess_api() as api:
        a = await api.client.create(SERVICES, service("a"))
        b = await api.client.create(SERVICES, service("b"))
        assert a["spec"]["clusterIP"] == "10.96.0.2" and a["spec"]["clusterIPs"] == ["10.96.0.2"]
        assert b["spec"]["clusterIP"] == "10.96.0.3"
        headless = await api.client.create(SERVICES, service("h", clusterIP="None"))
        assert headless["spec"]["clusterIP"] == "None"
        with pytest.raises(errors.StatusError) as taken:
            await api.client.create(SERVICES, service("c", clusterIP="10.96.0.3"))
        assert taken.value.code == 422 and "already allocated" in taken.value.message
        with pytest.raises(errors.StatusError) as outside:
            await api.client.create(SERVICES, service("d", clusterIP="192.0.2.1"))
        assert outside.value.code == 422 and "not in the valid range" in outside.value.message
        await api.client.delete(SERVICES, "a", "default")
        again = await api.client.create(SERVICES, service("e"))
        assert again["spec"]["clusterIP"] == "10.96.0.2"


async def test_node_ports_are_allocated_in_range() -> None:
    async with inprocess_api() as api:
        svc = await api.client.create(SERVICES, service("np", type="NodePort",
                                                        ports=[{"port": 80, "name": "a"},
                                                               {"port": 81, "name": "b"}]))
        ports = [p["nodePort"] for p in svc["spec"]["ports"]]
        assert all(30000 <= p <= 32767 for p in ports) and len(set(ports)) == 2
