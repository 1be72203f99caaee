"""Validation of one container: name, image, ports, env, mounts, resources, probes, lifecycle.

`validate_container` is called for regular, init and ephemeral containers alike; the differences
between them (sidecars, probes on init containers, restartPolicy) are passed in as `role`.
"""

from __future__ import annotations

from typing import Any

from pocketkube.api.errors import FieldError, duplicate, forbidden, invalid_value, not_supported, required
from pocketkube.api.quantity import QUANTITY_ERROR, parse_quantity
from pocketkube.api.validation import names
from pocketkube.api.validation.common import (
    Errors,
    as_dict,
    as_list,
    child,
    enum,
    format_errors,
    index,
    key,
    non_negative,
    positive,
)

REGULAR, INIT, EPHEMERAL = "containers", "initContainers", "ephemeralContainers"
_PROTOCOLS = ["SCTP", "TCP", "UDP"]
_PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
_TERMINATION_MESSAGE_POLICIES = ["File", "FallbackToLogsOnError"]
_STANDARD_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_FIELD_REF_PATHS = [
    "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid",
    "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
]
_RESOURCE_REF_NAMES = [
    "limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage",
    "requests.memory",
]


def validate_port_num_or_name(value: Any, path: str) -> Errors:
    if isinstance(value, str):
        return format_errors(path, value, names.port_name(value))
    return format_errors(path, value, names.port_number(value))


def validate_ports(ports: Any, path: str) -> Errors:
    errs: Errors = []
    seen: set[str] = set()
    for i, port in enumerate(as_list(ports)):
        port = as_dict(port)
        port_path = index(path, i)
        name = port.get("name")
        if name:
            errs += format_errors(child(port_path, "name"), name, names.port_name(str(name)))
            if name in seen:
                errs.append(duplicate(child(port_path, "name"), name))
            seen.add(name)
        container_port = port.get("containerPort")
        if container_port in (None, 0):
            errs.append(required(child(port_path, "containerPort"), ""))
        else:
            errs += format_errors(child(port_path, "containerPort"), container_port, names.port_number(container_port))
        if port.get("hostPort") not in (None, 0):
            errs += format_errors(child(port_path, "hostPort"), port["hostPort"], names.port_number(port["hostPort"]))
        errs += enum(port.get("protocol"), child(port_path, "protocol"), _PROTOCOLS)
    return errs


def _key_selector(selector: dict[str, Any], path: str) -> Errors:
    errs: Errors = []
    if not selector.get("name"):
        errs.append(required(child(path, "name"), ""))
    else:
        errs += format_errors(child(path, "name"), selector["name"], names.dns1123_subdomain(str(selector["name"])))
    if not selector.get("key"):
        errs.append(required(child(path, "key"), ""))
    else:
        errs += format_errors(child(path, "key"), selector["key"], names.config_key(str(selector["key"])))
    return errs


def _value_from(source: dict[str, Any], path: str) -> Errors:
    errs: Errors = []
    kinds = [k for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef") if source.get(k)]
    if not kinds:
        return [invalid_value(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                                        "`secretKeyRef`")]
    if len(kinds) > 1:
        return [invalid_value(path, "", "may not have more than one field specified at a time")]
    kind = kinds[0]
    ref = as_dict(source[kind])
    ref_path = child(path, kind)
    if kind == "fieldRef":
        errs += validate_field_ref(ref, ref_path)
    elif kind == "resourceFieldRef":
        if not ref.get("resource"):
            errs.append(required(child(ref_path, "resource"), ""))
        elif ref["resource"] not in _RESOURCE_REF_NAMES:
            errs.append(not_supported(child(ref_path, "resource"), ref["resource"], _RESOURCE_REF_NAMES))
    else:
        errs += _key_selector(ref, ref_path)
    return errs


def validate_field_ref(ref: dict[str, Any], path: str) -> Errors:
    errs: Errors = []
    if not ref.get("apiVersion"):
        errs.append(required(child(path, "apiVersion"), ""))
    field_path = ref.get("fieldPath")
    if not field_path:
        errs.append(required(child(path, "fieldPath"), ""))
        return errs
    base = str(field_path).split("[", 1)[0] if str(field_path).startswith("metadata.") else str(field_path)
    if "[" in str(field_path) and base not in ("metadata.labels", "metadata.annotations"):
        errs.append(invalid_value(child(path, "fieldPath"), field_path, "error converting fieldPath"))
    elif base not in _FIELD_REF_PATHS:
        errs.append(not_supported(child(path, "fieldPath"), field_path, _FIELD_REF_PATHS))
    return errs


def validate_env(env: Any, path: str) -> Errors:
    errs: Errors = []
    for i, var in enumerate(as_list(env)):
        var = as_dict(var)
        var_path = index(path, i)
        name = var.get("name")
        if not name:
            errs.append(required(child(var_path, "name"), ""))
        else:
            errs += format_errors(child(var_path, "name"), name, names.env_var_name(str(name)))
        value_from = var.get("valueFrom")
        if value_from is not None:
            if var.get("value"):
                errs.append(invalid_value(child(var_path, "valueFrom"), "",
                                          "may not be specified when `value` is not empty"))
            else:
                errs += _value_from(as_dict(value_from), child(var_path, "valueFrom"))
    return errs


def validate_env_from(env_from: Any, path: str) -> Errors:
    errs: Errors = []
    for i, source in enumerate(as_list(env_from)):
        source = as_dict(source)
        source_path = index(path, i)
        if source.get("prefix"):
            errs += format_errors(child(source_path, "prefix"), source["prefix"],
                                  names.env_var_name(str(source["prefix"])))
        refs = [k for k in ("configMapRef", "secretRef") if source.get(k) is not None]
        if len(refs) != 1:
            errs.append(invalid_value(source_path, "", "must specify one of: `configMapRef` or `secretRef`"
                                      if not refs else "may not have more than one field specified at a time"))
            continue
        ref = as_dict(source[refs[0]])
        if not ref.get("name"):
            errs.append(required(child(child(source_path, refs[0]), "name"), ""))
    return errs


def validate_volume_mounts(mounts: Any, volumes: set[str], path: str) -> Errors:
    errs: Errors = []
    seen_paths: set[str] = set()
    for i, mount in enumerate(as_list(mounts)):
        mount = as_dict(mount)
        mount_path = index(path, i)
        name = mount.get("name")
        if not name:
            errs.append(required(child(mount_path, "name"), ""))
        elif name not in volumes:
            errs.append(FieldError("NotFound", child(mount_path, "name"), "", name))
        target = mount.get("mountPath")
        if not target:
            errs.append(required(child(mount_path, "mountPath"), ""))
        elif target in seen_paths:
            errs.append(invalid_value(child(mount_path, "mountPath"), target, "must be unique"))
        if target:
            seen_paths.add(target)
        sub_path = mount.get("subPath")
        if sub_path:
            if str(sub_path).startswith("/"):
                errs.append(invalid_value(child(mount_path, "subPath"), sub_path, "must be a relative path"))
            if ".." in str(sub_path).split("/"):
                errs.append(invalid_value(child(mount_path, "subPath"), sub_path, "must not contain '..'"))
    return errs


def validate_resources(resources: Any, path: str) -> Errors:
    """Quantities parse and are non-negative, names are known or qualified, and requests ≤ limits."""
    errs: Errors = []
    resources = as_dict(resources)
    parsed: dict[str, dict[str, Any]] = {}
    for section in ("limits", "requests"):
        section_path = child(path, section)
        parsed[section] = {}
        for name, value in as_dict(resources.get(section)).items():
            entry_path = key(section_path, name)
            if name not in _STANDARD_RESOURCES and not name.startswith("hugepages-") and "/" not in name:
                errs.append(invalid_value(entry_path, name, "must be a standard resource type or fully qualified"))
            try:
                amount = parse_quantity(value)
            except ValueError:
                errs.append(invalid_value(entry_path, value, QUANTITY_ERROR))
                continue
            if amount < 0:
                errs.append(invalid_value(entry_path, value, "must be greater than or equal to 0"))
            parsed[section][name] = (amount, value)
    for name, (amount, value) in parsed["requests"].items():
        limit = parsed["limits"].get(name)
        if limit is not None and amount > limit[0]:
            errs.append(invalid_value(child(path, "requests"), str(value),
                                      f"must be less than or equal to {name} limit of {limit[1]}"))
    return errs


def _handler_kinds(handler: dict[str, Any], allowed: tuple[str, ...]) -> list[str]:
    return [k for k in allowed if handler.get(k) is not None]


def validate_handler(handler: Any, path: str, allowed: tuple[str, ...]) -> Errors:
    handler = as_dict(handler)
    kinds = _handler_kinds(handler, allowed)
    if not kinds:
        return [required(path, "must specify a handler type")]
    errs: Errors = [forbidden(child(path, extra), "may not specify more than 1 handler type") for extra in kinds[1:]]
    kind = kinds[0]
    body = as_dict(handler[kind])
    body_path = child(path, kind)
    if kind == "exec":
        if not as_list(body.get("command")):
            errs.append(required(child(body_path, "command"), ""))
    elif kind == "httpGet":
        if not body.get("path"):
            errs.append(required(child(body_path, "path"), ""))
        errs += validate_port_num_or_name(body.get("port"), child(body_path, "port"))
        errs += enum(body.get("scheme"), child(body_path, "scheme"), ["HTTP", "HTTPS"])
    elif kind == "tcpSocket":
        errs += validate_port_num_or_name(body.get("port"), child(body_path, "port"))
    elif kind == "grpc":
        errs += format_errors(child(body_path, "port"), body.get("port"), names.port_number(body.get("port")))
    elif kind == "sleep":
        errs += non_negative(body.get("seconds"), child(body_path, "seconds"))
    return errs


def validate_probe(probe: Any, path: str, probe_name: str) -> Errors:
    probe = as_dict(probe)
    errs = validate_handler(probe, path, ("exec", "httpGet", "tcpSocket", "grpc"))
    for field_name in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
                       "failureThreshold"):
        errs += non_negative(probe.get(field_name), child(path, field_name))
    if probe_name in ("livenessProbe", "startupProbe") and probe.get("successThreshold") not in (None, 1):
        errs.append(invalid_value(child(path, "successThreshold"), probe["successThreshold"], "must be 1"))
    grace = probe.get("terminationGracePeriodSeconds")
    if grace is not None:
        if probe_name == "readinessProbe":
            errs.append(invalid_value(child(path, "terminationGracePeriodSeconds"), grace,
                                      "must not be set for readinessProbes"))
        else:
            errs += positive(grace, child(path, "terminationGracePeriodSeconds"))
    return errs


def validate_container(container: Any, path: str, role: str, volumes: set[str]) -> Errors:
    """One container's own fields; names' uniqueness across the pod is checked by the caller."""
    container = as_dict(container)
    errs: Errors = []
    name = container.get("name")
    if not name:
        errs.append(required(child(path, "name"), ""))
    else:
        errs += format_errors(child(path, "name"), name, names.dns1123_label(str(name)))
    image = container.get("image")
    if not image:
        errs.append(required(child(path, "image"), ""))
    elif isinstance(image, str) and image != image.strip():
        errs.append(invalid_value(child(path, "image"), image, "must not have leading or trailing whitespace"))
    errs += enum(container.get("imagePullPolicy"), child(path, "imagePullPolicy"), _PULL_POLICIES)
    errs += enum(container.get("terminationMessagePolicy"), child(path, "terminationMessagePolicy"),
                 _TERMINATION_MESSAGE_POLICIES)
    errs += validate_ports(container.get("ports"), child(path, "ports"))
    errs += validate_env(container.get("env"), child(path, "env"))
    errs += validate_env_from(container.get("envFrom"), child(path, "envFrom"))
    errs += validate_volume_mounts(container.get("volumeMounts"), volumes, child(path, "volumeMounts"))
    errs += validate_resources(container.get("resources"), child(path, "resources"))
    restart_policy = container.get("restartPolicy")
    sidecar = role == INIT and restart_policy == "Always"
    if restart_policy is not None:
        if role != INIT:
            errs.append(forbidden(child(path, "restartPolicy"), "may not be set for non-init containers"))
        elif restart_policy != "Always":
            errs.append(not_supported(child(path, "restartPolicy"), restart_policy, ["Always"]))
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if probe is None:
            continue
        if role == EPHEMERAL or (role == INIT and not sidecar):
            detail = ("may not be set for ephemeral containers" if role == EPHEMERAL
                      else "may not be set for init containers without restartPolicy=Always")
            errs.append(forbidden(child(path, probe_name), detail))
        else:
            errs += validate_probe(probe, child(path, probe_name), probe_name)
    lifecycle = container.get("lifecycle")
    if lifecycle is not None:
        if role == EPHEMERAL or (role == INIT and not sidecar):
            detail = ("may not be set for ephemeral containers" if role == EPHEMERAL
                      else "may not be set for init containers without restartPolicy=Always")
            errs.append(forbidden(child(path, "lifecycle"), detail))
        else:
            for hook in ("postStart", "preStop"):
                if as_dict(lifecycle).get(hook) is not None:
                    errs += validate_handler(lifecycle[hook], child(child(path, "lifecycle"), hook),
                                             ("exec", "httpGet", "tcpSocket", "sleep"))
    if role == EPHEMERAL:
        # Ephemeral containers get no guaranteed resources and no ports of their own.
        for field_name in ("ports", "resources"):
            if container.get(field_name):
                errs.append(forbidden(child(path, field_name), "cannot be set for an Ephemeral Container"))
    return errs
