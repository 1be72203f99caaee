"""Defaults of the core/v1 kinds other than Pod: Service, Secret, Namespace, Node.

Where Kubernetes sets a value in the registry rather than in defaulting but users always see it
(a Service's `ipFamilyPolicy`/`ipFamilies`, a Namespace's `spec.finalizers` and phase), it is set here
too so that one call gives the object its server-side shape. ClusterIP and nodePort allocation are
not defaults and stay with the Service registry.
"""

from __future__ import annotations

import base64

from pocketkube.api.obj import Obj
from pocketkube.api.quantity import canonical, is_quantity

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def _sub(parent: Obj, key: str) -> Obj:
    child = parent.get(key)
    if not isinstance(child, dict):
        child = parent[key] = {}
    return child


def default_service(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    spec.setdefault("type", "ClusterIP")
    service_type = spec["type"]
    spec.setdefault("sessionAffinity", "None")
    if spec["sessionAffinity"] == "ClientIP":
        client_ip = _sub(_sub(spec, "sessionAffinityConfig"), "clientIP")
        client_ip.setdefault("timeoutSeconds", 10800)
    for port in spec.get("ports") or ():
        if not isinstance(port, dict):
            continue
        port.setdefault("protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    if service_type in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if service_type == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    if service_type != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
        # A headless Service without a selector asks for every family the cluster has, which on a
        # single-stack IPv4 cluster is IPv4 alone.
        headless_without_selector = spec.get("clusterIP") == "None" and not spec.get("selector")
        spec.setdefault("ipFamilyPolicy", "RequireDualStack" if headless_without_selector else "SingleStack")
        spec.setdefault("ipFamilies", ["IPv4"])
    obj.setdefault("status", {"loadBalancer": {}})


def default_secret(obj: Obj) -> None:
    """Type Opaque; `stringData` is merged into `data` (base64), as v1 → internal conversion does."""
    if not obj.get("type"):
        obj["type"] = "Opaque"
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = _sub(obj, "data")
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


def default_namespace(obj: Obj) -> None:
    metadata = _sub(obj, "metadata")
    name = metadata.get("name")
    if name:
        # Kubernetes enforces this label to equal the name, on create and on every update.
        _sub(metadata, "labels")[NAMESPACE_NAME_LABEL] = name
    spec = _sub(obj, "spec")
    if not spec.get("finalizers"):
        spec["finalizers"] = ["kubernetes"]
    _sub(obj, "status").setdefault("phase", "Active")


def default_node(obj: Obj) -> None:
    """Allocatable defaults to capacity; quantities become canonical."""
    status = obj.get("status")
    if not isinstance(status, dict):
        return
    capacity = status.get("capacity")
    if isinstance(capacity, dict) and capacity and not status.get("allocatable"):
        status["allocatable"] = dict(capacity)
    for key in ("capacity", "allocatable"):
        values = status.get(key)
        if isinstance(values, dict):
            for name, value in values.items():
                if is_quantity(value):
                    values[name] = canonical(value)
