"""core/v1 (and coordination, events) validation for every kind but Pod.

Service ports and types, ConfigMap/Secret keys and sizes (1 MiB), Secret types' required keys,
Namespace finalizers, Node taints, Endpoints addresses, Lease durations, Event references.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any

import orjson

from pocketkube.api.errors import FieldError, duplicate, forbidden, invalid_value, not_supported, required
from pocketkube.api.validation import names
from pocketkube.api.validation.common import (
    Errors,
    as_dict,
    as_list,
    child,
    enum,
    format_errors,
    immutable,
    index,
    key,
    non_negative,
    positive,
    validate_labels,
)
from pocketkube.api.validation.containers import validate_port_num_or_name

MAX_SECRET_SIZE = 1024 * 1024
_SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
_PROTOCOLS = ["SCTP", "TCP", "UDP"]
_TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]


def _is_ip(value: Any) -> bool:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def validate_service(obj: dict[str, Any]) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs: Errors = []
    service_type = spec.get("type")
    errs += enum(service_type, "spec.type", _SERVICE_TYPES)
    headless = spec.get("clusterIP") == "None"
    ports = as_list(spec.get("ports"))
    if service_type == "ExternalName":
        external = spec.get("externalName")
        if not external:
            errs.append(required("spec.externalName", ""))
        else:
            errs += format_errors("spec.externalName", external, names.dns1123_subdomain(str(external).rstrip(".")))
    elif not ports and not headless:
        errs.append(required("spec.ports", ""))
    seen_names: set[str] = set()
    seen_ports: set[tuple[Any, Any]] = set()
    for i, port in enumerate(ports):
        port = as_dict(port)
        port_path = index("spec.ports", i)
        name = port.get("name")
        if len(ports) > 1 and not name:
            errs.append(required(child(port_path, "name"), ""))
        elif name:
            errs += format_errors(child(port_path, "name"), name, names.dns1123_label(str(name)))
            if name in seen_names:
                errs.append(duplicate(child(port_path, "name"), name))
            seen_names.add(str(name))
        errs += format_errors(child(port_path, "port"), port.get("port"), names.port_number(port.get("port")))
        errs += enum(port.get("protocol"), child(port_path, "protocol"), _PROTOCOLS)
        if port.get("targetPort") is not None:
            errs += validate_port_num_or_name(port["targetPort"], child(port_path, "targetPort"))
        if port.get("nodePort"):
            if service_type in ("ClusterIP", "ExternalName"):
                errs.append(forbidden(child(port_path, "nodePort"), f"may not be used when `type` is '{service_type}'"))
            else:
                errs += format_errors(child(port_path, "nodePort"), port["nodePort"],
                                      names.port_number(port["nodePort"]))
        identity = (port.get("port"), port.get("protocol"))
        if identity in seen_ports:
            errs.append(duplicate(port_path, {"port": identity[0], "protocol": identity[1]}))
        seen_ports.add(identity)
    cluster_ip = spec.get("clusterIP")
    if cluster_ip and cluster_ip != "None" and not _is_ip(cluster_ip):
        errs.append(invalid_value("spec.clusterIPs[0]", cluster_ip,
                                  "must be empty, 'None', or a valid IP address"))
    errs += enum(spec.get("sessionAffinity"), "spec.sessionAffinity", ["ClientIP", "None"], require=False)
    errs += enum(spec.get("ipFamilyPolicy"), "spec.ipFamilyPolicy", ["SingleStack", "PreferDualStack",
                                                                     "RequireDualStack"], require=False)
    errs += enum(spec.get("internalTrafficPolicy"), "spec.internalTrafficPolicy", ["Cluster", "Local"],
                 require=False)
    if spec.get("externalTrafficPolicy"):
        if service_type not in ("NodePort", "LoadBalancer"):
            errs.append(invalid_value("spec.externalTrafficPolicy", spec["externalTrafficPolicy"],
                                      "may only be set for externally-accessible services"))
        else:
            errs += enum(spec["externalTrafficPolicy"], "spec.externalTrafficPolicy", ["Cluster", "Local"])
    errs += validate_labels(spec.get("selector"), "spec.selector")
    return errs


def validate_service_update(new: dict[str, Any], old: dict[str, Any]) -> Errors:
    new_ip = as_dict(new.get("spec")).get("clusterIP")
    old_ip = as_dict(old.get("spec")).get("clusterIP")
    # Changing type to or from ExternalName releases or allocates an IP; otherwise it is fixed.
    types = {as_dict(new.get("spec")).get("type"), as_dict(old.get("spec")).get("type")}
    if old_ip and new_ip != old_ip and "ExternalName" not in types:
        return [invalid_value("spec.clusterIPs[0]", new_ip, "may not change once set"),
                invalid_value("spec.clusterIP", new_ip, "field is immutable")]
    return []


def _data_keys(obj: dict[str, Any]) -> Errors:
    errs: Errors = []
    data = as_dict(obj.get("data"))
    for k in data:
        errs += format_errors(key("data", k), k, names.config_key(k))
    for k in as_dict(obj.get("binaryData")):
        errs += format_errors(key("binaryData", k), k, names.config_key(k))
        if k in data:
            errs.append(invalid_value(key("binaryData", k), k, "duplicate of key present in data"))
    return errs


def _decoded(value: Any) -> bytes | None:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        return None


def validate_config_map(obj: dict[str, Any]) -> Errors:
    errs = _data_keys(obj)
    size = sum(len(str(v).encode()) for v in as_dict(obj.get("data")).values())
    size += sum(len(_decoded(v) or b"") for v in as_dict(obj.get("binaryData")).values())
    if size > MAX_SECRET_SIZE:
        errs.append(FieldError("TooLong", "", f"may not be more than {MAX_SECRET_SIZE} bytes"))
    return errs


def _immutable_data(new: dict[str, Any], old: dict[str, Any], fields: tuple[str, ...]) -> Errors:
    if old.get("immutable") is not True:
        return []
    errs: Errors = []
    if new.get("immutable") is not True:
        errs.append(forbidden("immutable", "field is immutable when `immutable` is set"))
    for field_name in fields:
        if new.get(field_name) != old.get(field_name):
            errs.append(forbidden(field_name, "field is immutable when `immutable` is set"))
    return errs


def validate_config_map_update(new: dict[str, Any], old: dict[str, Any]) -> Errors:
    return _immutable_data(new, old, ("data", "binaryData"))


_SECRET_REQUIRED_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}


def validate_secret(obj: dict[str, Any]) -> Errors:
    errs = _data_keys(obj)
    data = as_dict(obj.get("data"))
    size = 0
    for k, v in data.items():
        raw = _decoded(v)
        if raw is None:
            errs.append(invalid_value(key("data", k), "<secret contents redacted>", "illegal base64 data"))
        else:
            size += len(raw)
    if size > MAX_SECRET_SIZE:
        errs.append(FieldError("TooLong", "data", f"may not be more than {MAX_SECRET_SIZE} bytes"))
    secret_type = obj.get("type")
    for required_key in _SECRET_REQUIRED_KEYS.get(str(secret_type), ()):
        if required_key not in data:
            errs.append(required(key("data", required_key), ""))
    if secret_type == "kubernetes.io/dockerconfigjson" and ".dockerconfigjson" in data:
        try:
            orjson.loads(_decoded(data[".dockerconfigjson"]) or b"")
        except orjson.JSONDecodeError as exc:
            errs.append(invalid_value(key("data", ".dockerconfigjson"), "<secret contents redacted>", str(exc)))
    if secret_type == "kubernetes.io/basic-auth" and "username" not in data and "password" not in data:
        errs += [required(key("data", "username"), ""), required(key("data", "password"), "")]
    if secret_type == "kubernetes.io/service-account-token":
        annotations = as_dict(as_dict(obj.get("metadata")).get("annotations"))
        if not annotations.get("kubernetes.io/service-account.name"):
            errs.append(required("metadata.annotations[kubernetes.io/service-account.name]", ""))
    return errs


def validate_secret_update(new: dict[str, Any], old: dict[str, Any]) -> Errors:
    errs = immutable(new.get("type"), old.get("type"), "type")
    return errs + _immutable_data(new, old, ("data",))


def validate_namespace(obj: dict[str, Any]) -> Errors:
    errs: Errors = []
    for i, finalizer in enumerate(as_list(as_dict(obj.get("spec")).get("finalizers"))):
        path = index("spec.finalizers", i)
        messages = names.qualified_name(str(finalizer))
        errs += format_errors(path, finalizer, messages)
        if not messages and "/" not in str(finalizer) and finalizer != "kubernetes":
            errs.append(invalid_value(path, finalizer, "name is neither a standard finalizer name nor is it fully "
                                                       "qualified"))
    return errs


def validate_node(obj: dict[str, Any]) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs: Errors = []
    seen: set[tuple[Any, Any]] = set()
    for i, taint in enumerate(as_list(spec.get("taints"))):
        taint = as_dict(taint)
        path = index("spec.taints", i)
        errs += format_errors(child(path, "key"), taint.get("key"), names.qualified_name(str(taint.get("key") or "")))
        if taint.get("value"):
            errs += format_errors(child(path, "value"), taint["value"], names.label_value(str(taint["value"])))
        errs += enum(taint.get("effect"), child(path, "effect"), _TAINT_EFFECTS)
        identity = (taint.get("key"), taint.get("effect"))
        if identity in seen:
            errs.append(duplicate(path, f"{identity[0]}:{identity[1]}"))
        seen.add(identity)
    for i, cidr in enumerate(as_list(spec.get("podCIDRs")) or ([spec["podCIDR"]] if spec.get("podCIDR") else [])):
        try:
            ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            errs.append(invalid_value(index("spec.podCIDRs", i), cidr, "must be a valid CIDR value"))
    return errs


def validate_node_update(new: dict[str, Any], old: dict[str, Any]) -> Errors:
    old_cidr = as_dict(old.get("spec")).get("podCIDR")
    if old_cidr and as_dict(new.get("spec")).get("podCIDR") != old_cidr:
        return [forbidden("spec.podCIDRs", "node updates may not change podCIDR except from \"\" to valid")]
    return []


def validate_endpoints(obj: dict[str, Any]) -> Errors:
    errs: Errors = []
    for i, subset in enumerate(as_list(obj.get("subsets"))):
        subset = as_dict(subset)
        subset_path = index("subsets", i)
        for list_name in ("addresses", "notReadyAddresses"):
            for j, address in enumerate(as_list(subset.get(list_name))):
                ip = as_dict(address).get("ip")
                if not _is_ip(ip):
                    errs.append(invalid_value(child(index(child(subset_path, list_name), j), "ip"), ip,
                                              "must be a valid IP address"))
        ports = as_list(subset.get("ports"))
        for j, port in enumerate(ports):
            port = as_dict(port)
            port_path = index(child(subset_path, "ports"), j)
            if len(ports) > 1 and not port.get("name"):
                errs.append(required(child(port_path, "name"), ""))
            elif port.get("name"):
                errs += format_errors(child(port_path, "name"), port["name"], names.dns1123_label(str(port["name"])))
            errs += format_errors(child(port_path, "port"), port.get("port"), names.port_number(port.get("port")))
            errs += enum(port.get("protocol"), child(port_path, "protocol"), _PROTOCOLS)
    return errs


def validate_lease(obj: dict[str, Any]) -> Errors:
    spec = as_dict(obj.get("spec"))
    return (positive(spec.get("leaseDurationSeconds"), "spec.leaseDurationSeconds")
            + non_negative(spec.get("leaseTransitions"), "spec.leaseTransitions"))


def validate_core_event(obj: dict[str, Any]) -> Errors:
    involved = as_dict(obj.get("involvedObject"))
    namespace = as_dict(obj.get("metadata")).get("namespace")
    errs: Errors = []
    if involved.get("namespace") and involved["namespace"] != namespace:
        errs.append(invalid_value("involvedObject.namespace", involved["namespace"],
                                  "does not match event.namespace"))
    if obj.get("type"):
        errs += enum(obj["type"], "type", ["Normal", "Warning"])
    return errs


def validate_events_event(obj: dict[str, Any]) -> Errors:
    errs: Errors = []
    for field_name in ("reportingController", "reportingInstance", "action", "reason", "eventTime"):
        if not obj.get(field_name):
            errs.append(required(field_name, ""))
    if obj.get("type") not in ("Normal", "Warning"):
        errs.append(not_supported("type", obj.get("type", ""), ["Normal", "Warning"]))
    note = obj.get("note")
    if isinstance(note, str) and len(note) > 1024:
        errs.append(FieldError("TooLong", "note", "may not be more than 1024 bytes"))
    return errs
