"""PodSpec and Pod validation, and the rules for what a Pod update may change.

`validate_pod_spec(spec, path)` is reused for every pod template (`spec.template.spec`). A Pod's
spec is immutable once created except for the fields Kubernetes lists in its error message;
`validate_pod_spec_update` compares the two specs with those fields neutralised, as kube does.
"""

from __future__ import annotations

import copy
from typing import Any

from pocketkube.api.errors import duplicate, forbidden, invalid_value, required
from pocketkube.api.validation import names
from pocketkube.api.validation.common import (
    Errors,
    as_dict,
    as_list,
    child,
    enum,
    format_errors,
    in_int32_range,
    index,
    non_negative,
    validate_labels,
)
from pocketkube.api.validation.containers import EPHEMERAL, INIT, REGULAR, validate_container
from pocketkube.api.validation.volumes import validate_volumes

RESTART_POLICIES = ["Always", "OnFailure", "Never"]
DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
_TOLERATION_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]

POD_UPDATE_MESSAGE = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def validate_tolerations(tolerations: Any, path: str) -> Errors:
    errs: Errors = []
    for i, toleration in enumerate(as_list(tolerations)):
        toleration = as_dict(toleration)
        tol_path = index(path, i)
        tol_key = toleration.get("key") or ""
        operator = toleration.get("operator") or "Equal"
        if tol_key:
            errs += format_errors(child(tol_path, "key"), tol_key, names.qualified_name(str(tol_key)))
        elif operator != "Exists":
            errs.append(invalid_value(child(tol_path, "operator"), operator,
                                      'operator must be Exists when `key` is empty, which means "match all values '
                                      'and all keys"'))
        if toleration.get("tolerationSeconds") is not None and toleration.get("effect") != "NoExecute":
            errs.append(invalid_value(child(tol_path, "effect"), toleration.get("effect", ""),
                                      "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        if operator == "Equal":
            errs += format_errors(child(tol_path, "value"), toleration.get("value", ""),
                                  names.label_value(str(toleration.get("value") or "")))
        elif operator == "Exists":
            if toleration.get("value"):
                errs.append(invalid_value(child(tol_path, "operator"), toleration["value"],
                                          "value must be empty when `operator` is 'Exists'"))
        else:
            errs.append(invalid_value(child(tol_path, "operator"), operator, 'the operator "'
                                      f'{operator}" is not supported'))
        if toleration.get("effect"):
            errs += enum(toleration["effect"], child(tol_path, "effect"), _TOLERATION_EFFECTS)
    return errs


def validate_pod_spec(spec: Any, path: str = "spec") -> Errors:
    spec = as_dict(spec)
    errs: Errors = []
    volume_names, volume_errs = validate_volumes(spec.get("volumes"), child(path, "volumes"))
    errs += volume_errs
    containers = as_list(spec.get("containers"))
    if not containers:
        errs.append(required(child(path, "containers"), ""))
    # Container names are unique across all three lists; a clash is reported on the later one.
    seen: set[str] = set()
    for role in (REGULAR, INIT, EPHEMERAL):
        for i, container in enumerate(as_list(spec.get(role))):
            container_path = index(child(path, role), i)
            errs += validate_container(container, container_path, role, volume_names)
            name = as_dict(container).get("name")
            if name:
                if name in seen:
                    errs.append(duplicate(child(container_path, "name"), name))
                seen.add(name)
            if spec.get("hostNetwork"):
                for j, port in enumerate(as_list(as_dict(container).get("ports"))):
                    port = as_dict(port)
                    if port.get("hostPort") not in (None, 0) and port.get("hostPort") != port.get("containerPort"):
                        errs.append(invalid_value(child(index(child(container_path, "ports"), j), "hostPort"),
                                                  port["hostPort"],
                                                  "must match `containerPort` when `hostNetwork` is true"))
    errs += enum(spec.get("restartPolicy"), child(path, "restartPolicy"), RESTART_POLICIES)
    errs += enum(spec.get("dnsPolicy"), child(path, "dnsPolicy"), DNS_POLICIES)
    if spec.get("dnsPolicy") == "None" and spec.get("dnsConfig") is None:
        errs.append(required(child(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"))
    errs += validate_labels(spec.get("nodeSelector"), child(path, "nodeSelector"))
    for field_name in ("serviceAccountName", "nodeName"):
        value = spec.get(field_name)
        if value:
            errs += format_errors(child(path, field_name), value, names.dns1123_subdomain(str(value)))
    for field_name in ("hostname", "subdomain"):
        value = spec.get(field_name)
        if value:
            errs += format_errors(child(path, field_name), value, names.dns1123_label(str(value)))
    errs += in_int32_range(spec.get("activeDeadlineSeconds"), child(path, "activeDeadlineSeconds"))
    errs += non_negative(spec.get("terminationGracePeriodSeconds"), child(path, "terminationGracePeriodSeconds"))
    errs += validate_tolerations(spec.get("tolerations"), child(path, "tolerations"))
    for i, secret in enumerate(as_list(spec.get("imagePullSecrets"))):
        if not as_dict(secret).get("name"):
            errs.append(required(child(index(child(path, "imagePullSecrets"), i), "name"), ""))
    for i, gate in enumerate(as_list(spec.get("schedulingGates"))):
        gate_name = as_dict(gate).get("name") or ""
        errs += format_errors(child(index(child(path, "schedulingGates"), i), "name"), gate_name,
                              names.qualified_name(str(gate_name)))
    return errs


def _neutralise(spec: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """A copy of the new spec with every field a Pod update may change set to the old value."""
    out = copy.deepcopy(spec)
    for role in ("containers", "initContainers"):
        new_list, old_list = as_list(out.get(role)), as_list(old.get(role))
        if len(new_list) == len(old_list):
            for new_c, old_c in zip(new_list, old_list, strict=True):
                if isinstance(new_c, dict) and isinstance(old_c, dict):
                    new_c["image"] = old_c.get("image")
                    if new_c["image"] is None:
                        del new_c["image"]
    for field_name in ("activeDeadlineSeconds", "tolerations", "schedulingGates"):
        if field_name in old:
            out[field_name] = old[field_name]
        else:
            out.pop(field_name, None)
    old_grace = old.get("terminationGracePeriodSeconds")
    if isinstance(old_grace, int) and old_grace < 0 and out.get("terminationGracePeriodSeconds") == 1:
        out["terminationGracePeriodSeconds"] = old_grace
    # While scheduling is gated, node selection may only be narrowed; allow the change here.
    if as_list(old.get("schedulingGates")):
        for field_name in ("nodeSelector", "affinity"):
            if field_name in old:
                out[field_name] = old[field_name]
            else:
                out.pop(field_name, None)
    return out


def _changed_fields(new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(new) | set(old) if new.get(k) != old.get(k))


def validate_pod_spec_update(new: Any, old: Any, path: str = "spec") -> Errors:
    new, old = as_dict(new), as_dict(old)
    errs: Errors = []
    old_deadline, new_deadline = old.get("activeDeadlineSeconds"), new.get("activeDeadlineSeconds")
    if old_deadline is not None:
        if new_deadline is None:
            errs.append(invalid_value(child(path, "activeDeadlineSeconds"), None,
                                      "must not update from a positive integer to nil value"))
        elif isinstance(new_deadline, int) and new_deadline > old_deadline:
            errs.append(invalid_value(child(path, "activeDeadlineSeconds"), new_deadline,
                                      "must be less than or equal to previous value"))
    if old.get("nodeName") and new.get("nodeName") != old.get("nodeName"):
        errs.append(invalid_value(child(path, "nodeName"), new.get("nodeName"), "field is immutable"))
    # Tolerations may only be added; existing ones stay (NoExecute seconds may only shrink).
    new_tolerations = as_list(new.get("tolerations"))
    for toleration in as_list(old.get("tolerations")):
        if toleration not in new_tolerations and not _shortened(toleration, new_tolerations):
            errs.append(forbidden(child(path, "tolerations"), "existing toleration can not be modified except its "
                                  "tolerationSeconds"))
            break
    # Scheduling gates may only be removed.
    old_gates = as_list(old.get("schedulingGates"))
    if any(gate not in old_gates for gate in as_list(new.get("schedulingGates"))):
        errs.append(forbidden(child(path, "schedulingGates"), "only deletion is allowed, but found new scheduling "
                              "gate"))
    neutral = _neutralise(new, old)
    if neutral != old:
        changed = ", ".join(_changed_fields(neutral, old))
        errs.append(forbidden(path, f"{POD_UPDATE_MESSAGE}\n  changed: {changed}"))
    return errs


def _shortened(old: dict[str, Any], candidates: list[Any]) -> bool:
    for new in candidates:
        if not isinstance(new, dict) or not isinstance(old, dict):
            continue
        same_but_seconds = {k: v for k, v in new.items() if k != "tolerationSeconds"} == \
            {k: v for k, v in old.items() if k != "tolerationSeconds"}
        old_seconds, new_seconds = old.get("tolerationSeconds"), new.get("tolerationSeconds")
        if same_but_seconds and old.get("effect") == "NoExecute" and isinstance(new_seconds, int) and \
                (old_seconds is None or new_seconds <= old_seconds):
            return True
    return False
