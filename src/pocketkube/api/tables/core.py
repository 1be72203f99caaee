"""Printers for the core kinds other than pods, plus leases — kube's printers.go, cell for cell.

Server-side tables always carry every column (kube generates them with Wide on); kubectl drops the
priority-1 columns unless asked for `-o wide`. events.k8s.io events are the same stored objects as
core events, so they are mapped onto the core shape and printed by the one event printer.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from pocketkube.api.selectors import format_labels
from pocketkube.api.tables.format import (
    META,
    Column,
    Printer,
    age,
    age_column,
    doc,
    name_column,
    name_of,
    since,
    to_int,
    wide,
)

_CORE = "io.k8s.api.core.v1."


def namespace_cells(ns: dict[str, Any], now: datetime) -> list[Any]:
    return [name_of(ns), (ns.get("status") or {}).get("phase") or "", age(ns, now)]


def configmap_cells(cm: dict[str, Any], now: datetime) -> list[Any]:
    return [name_of(cm), len(cm.get("data") or {}) + len(cm.get("binaryData") or {}), age(cm, now)]


def secret_cells(secret: dict[str, Any], now: datetime) -> list[Any]:
    return [name_of(secret), secret.get("type") or "", len(secret.get("data") or {}), age(secret, now)]


def serviceaccount_cells(sa: dict[str, Any], now: datetime) -> list[Any]:
    return [name_of(sa), len(sa.get("secrets") or []), age(sa, now)]


def lease_cells(lease: dict[str, Any], now: datetime) -> list[Any]:
    return [name_of(lease), (lease.get("spec") or {}).get("holderIdentity") or "", age(lease, now)]


# --- nodes --------------------------------------------------------------------------------------


def _node_roles(labels: dict[str, str]) -> str:
    roles: set[str] = set()
    for key, value in labels.items():
        if key.startswith("node-role.kubernetes.io/"):
            if role := key.removeprefix("node-role.kubernetes.io/"):
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _node_address(status: dict[str, Any], kind: str) -> str:
    for addr in status.get("addresses") or []:
        if addr.get("type") == kind:
            return str(addr.get("address", ""))
    return "<none>"


def node_cells(node: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = node.get("spec") or {}, node.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    ready = conditions.get("Ready")
    states = [] if ready is None else ["Ready" if ready.get("status") == "True" else "NotReady"]
    states = states or ["Unknown"]
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    info = status.get("nodeInfo") or {}
    labels = (node.get("metadata") or {}).get("labels") or {}
    return [
        name_of(node), ",".join(states), _node_roles(labels), age(node, now), info.get("kubeletVersion", ""),
        _node_address(status, "InternalIP"), _node_address(status, "ExternalIP"),
        info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


# --- services and endpoints ---------------------------------------------------------------------


def _external_ip(spec: dict[str, Any], status: dict[str, Any]) -> str:
    stype, external = spec.get("type"), list(spec.get("externalIPs") or [])
    if stype in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if stype == "LoadBalancer":
        ingress = (status.get("loadBalancer") or {}).get("ingress") or []
        lb = sorted({i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")})
        if external:
            return ",".join([*lb, *external])
        return ",".join(lb) or "<pending>"
    if stype == "ExternalName":
        return str(spec.get("externalName") or "")
    return "<unknown>"


def _ports(ports: list[dict[str, Any]]) -> str:
    pieces = []
    for p in ports:
        proto = p.get("protocol") or "TCP"
        if to_int(p.get("nodePort")) > 0:
            pieces.append(f"{to_int(p.get('port'))}:{to_int(p.get('nodePort'))}/{proto}")
        else:
            pieces.append(f"{to_int(p.get('port'))}/{proto}")
    return ",".join(pieces) or "<none>"


def service_cells(svc: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = svc.get("spec") or {}, svc.get("status") or {}
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [name_of(svc), spec.get("type") or "", ips[0] if ips else "<none>", _external_ip(spec, status),
            _ports(spec.get("ports") or []), age(svc, now), format_labels(spec.get("selector"))]


def _host_port(ip: str, port: int) -> str:
    try:
        bracket = ipaddress.ip_address(ip).version == 6
    except ValueError:
        bracket = ":" in ip
    return f"[{ip}]:{port}" if bracket else f"{ip}:{port}"


def format_endpoints(ep: dict[str, Any]) -> str:
    """formatEndpoints: up to three `ip:port`, then `+ N more...`; `<none>` without subsets."""
    subsets = ep.get("subsets") or []
    if not subsets:
        return "<none>"
    shown: list[str] = []
    count, more, limit = 0, False, 3
    for ss in subsets:
        addresses = ss.get("addresses") or []
        ports = ss.get("ports") or []
        targets = [None] if not ports else [to_int(p.get("port")) for p in ports]
        for port in targets:
            count += len(addresses)
            for addr in addresses:
                if len(shown) == limit:
                    more = True
                    break
                ip = str(addr.get("ip", ""))
                shown.append(ip if port is None else _host_port(ip, port))
    text = ",".join(shown)
    return f"{text} + {count - limit} more..." if more else text


def endpoints_cells(ep: dict[str, Any], now: datetime) -> list[Any]:
    return [name_of(ep), format_endpoints(ep), age(ep, now)]


# --- events ---------------------------------------------------------------------------------------


def core_event(ev: dict[str, Any]) -> dict[str, Any]:
    """An events.k8s.io/v1 Event in core/v1 field names (the two are one stored object)."""
    if "involvedObject" in ev or "regarding" not in ev and "note" not in ev:
        return ev
    return {
        "metadata": ev.get("metadata") or {},
        "involvedObject": ev.get("regarding") or {},
        "reason": ev.get("reason"), "message": ev.get("note"), "type": ev.get("type"),
        "source": ev.get("deprecatedSource") or {},
        "firstTimestamp": ev.get("deprecatedFirstTimestamp"), "lastTimestamp": ev.get("deprecatedLastTimestamp"),
        "count": ev.get("deprecatedCount"), "eventTime": ev.get("eventTime"), "series": ev.get("series"),
        "reportingComponent": ev.get("reportingController"), "reportingInstance": ev.get("reportingInstance"),
    }


def event_cells(obj: dict[str, Any], now: datetime) -> list[Any]:
    ev = core_event(obj)
    first = since(ev.get("firstTimestamp"), now) if ev.get("firstTimestamp") else since(ev.get("eventTime"), now)
    last = since(ev.get("lastTimestamp"), now) if ev.get("lastTimestamp") else first
    count = to_int(ev.get("count"))
    if ev.get("series"):
        last = since(ev["series"].get("lastObservedTime"), now)
        count = to_int(ev["series"].get("count"))
    elif count == 0:
        count = 1  # singleton events carry no count in the new API
    ref = ev.get("involvedObject") or {}
    kind = str(ref.get("kind") or "").lower()
    target = f"{kind}/{ref['name']}" if ref.get("name") else kind
    source = ev.get("source") or {}
    component = source.get("component") or ev.get("reportingComponent") or ""
    host = source.get("host") or ev.get("reportingInstance") or ""
    return [last, ev.get("type") or "", ev.get("reason") or "", target, ref.get("fieldPath") or "",
            f"{component}, {host}" if host else component, str(ev.get("message") or "").strip(),
            first, count, name_of(ev)]


# --- registry -------------------------------------------------------------------------------------


def printers() -> dict[tuple[str, str], Printer]:
    name, age_col = name_column(), age_column()
    ev = _CORE + "Event"
    event = Printer((
        Column("Last Seen", "string", doc(ev, "lastTimestamp")),
        Column("Type", "string", doc(ev, "type")),
        Column("Reason", "string", doc(ev, "reason")),
        Column("Object", "string", doc(ev, "involvedObject")),
        wide("Subobject", doc(_CORE + "ObjectReference", "fieldPath")),
        wide("Source", doc(ev, "source")),
        Column("Message", "string", doc(ev, "message")),
        wide("First Seen", doc(ev, "firstTimestamp")),
        wide("Count", doc(ev, "count")),
        Column("Name", "string", doc(META, "name"), 1, "name"),
    ), event_cells)
    return {
        ("", "namespaces"): Printer(
            (name, Column("Status", "string", "The status of the namespace"), age_col), namespace_cells),
        ("", "nodes"): Printer((
            name, Column("Status", "string", "The status of the node"),
            Column("Roles", "string", "The roles of the node"), age_col,
            Column("Version", "string", doc(_CORE + "NodeSystemInfo", "kubeletVersion")),
            wide("Internal-IP", doc(_CORE + "NodeStatus", "addresses")),
            wide("External-IP", doc(_CORE + "NodeStatus", "addresses")),
            wide("OS-Image", doc(_CORE + "NodeSystemInfo", "osImage")),
            wide("Kernel-Version", doc(_CORE + "NodeSystemInfo", "kernelVersion")),
            wide("Container-Runtime", doc(_CORE + "NodeSystemInfo", "containerRuntimeVersion")),
        ), node_cells),
        ("", "configmaps"): Printer(
            (name, Column("Data", "string", doc(_CORE + "ConfigMap", "data")), age_col), configmap_cells),
        ("", "secrets"): Printer((name, Column("Type", "string", doc(_CORE + "Secret", "type")),
                                  Column("Data", "string", doc(_CORE + "Secret", "data")), age_col), secret_cells),
        ("", "services"): Printer((
            name, Column("Type", "string", doc(_CORE + "ServiceSpec", "type")),
            Column("Cluster-IP", "string", doc(_CORE + "ServiceSpec", "clusterIP")),
            Column("External-IP", "string", doc(_CORE + "ServiceSpec", "externalIPs")),
            Column("Port(s)", "string", doc(_CORE + "ServiceSpec", "ports")), age_col,
            wide("Selector", doc(_CORE + "ServiceSpec", "selector")),
        ), service_cells),
        ("", "endpoints"): Printer(
            (name, Column("Endpoints", "string", doc(_CORE + "Endpoints", "subsets")), age_col), endpoints_cells),
        ("", "serviceaccounts"): Printer(
            (name, Column("Secrets", "string", doc(_CORE + "ServiceAccount", "secrets")), age_col),
            serviceaccount_cells),
        ("", "events"): event,
        ("events.k8s.io", "events"): event,
        ("coordination.k8s.io", "leases"): Printer((
            name, Column("Holder", "string", doc("io.k8s.api.coordination.v1.LeaseSpec", "holderIdentity")),
            age_col), lease_cells),
    }
