"""apps/v1 validation: Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision.

All four controllers share one shape: a required, non-empty selector that must select the pod
template's labels, a valid template whose restartPolicy is Always, and (apps/v1) a selector that
never changes after creation.
"""

from __future__ import annotations

from typing import Any

from pocketkube.api.errors import forbidden, invalid_value, not_supported, required
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
    int_or_percent,
    is_zero_int_or_percent,
    non_negative,
    percent_at_most_100,
    selector_is_empty,
    selector_matches,
    validate_annotations,
    validate_label_selector,
    validate_labels,
)
from pocketkube.api.validation.pod import validate_pod_spec

_STS_UPDATABLE = ("replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
                  "minReadySeconds")
STS_UPDATE_MESSAGE = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
    "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
)


def validate_template(template: Any, selector: Any, path: str, restart_policies: list[str]) -> Errors:
    """A pod template: metadata, selected by `selector`, a valid spec with an allowed restartPolicy."""
    if template is None:
        return [required(path, "")]
    template = as_dict(template)
    meta = as_dict(template.get("metadata"))
    errs: Errors = []
    labels_path = child(child(path, "metadata"), "labels")
    errs += validate_labels(meta.get("labels"), labels_path)
    errs += validate_annotations(meta.get("annotations"), child(child(path, "metadata"), "annotations"))
    if selector is not None and not selector_is_empty(selector) and not selector_matches(selector, meta.get("labels")):
        errs.append(invalid_value(labels_path, meta.get("labels") or {}, "`selector` does not match template `labels`"))
    spec_path = child(path, "spec")
    errs += validate_pod_spec(template.get("spec"), spec_path)
    restart = as_dict(template.get("spec")).get("restartPolicy")
    if restart not in restart_policies:
        errs.append(not_supported(child(spec_path, "restartPolicy"), restart, restart_policies))
    return errs


def _selector(spec: dict[str, Any], kind_word: str) -> Errors:
    selector = spec.get("selector")
    if selector is None:
        return [required("spec.selector", "")]
    errs = validate_label_selector(selector, "spec.selector")
    if selector_is_empty(selector):
        errs.append(invalid_value("spec.selector", selector, f"empty selector is invalid for {kind_word}"))
    return errs


def _replicated(obj: dict[str, Any], kind_word: str) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs = non_negative(spec.get("replicas"), "spec.replicas")
    errs += non_negative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    errs += _selector(spec, kind_word)
    errs += validate_template(spec.get("template"), spec.get("selector"), "spec.template", ["Always"])
    deadline = as_dict(as_dict(as_dict(spec.get("template")).get("spec"))).get("activeDeadlineSeconds")
    if deadline is not None:
        errs.append(forbidden("spec.template.spec.activeDeadlineSeconds",
                              "activeDeadlineSeconds in ReplicaSet is not Supported"))
    return errs


def _rolling(rolling: dict[str, Any], path: str) -> Errors:
    surge, unavailable = rolling.get("maxSurge"), rolling.get("maxUnavailable")
    errs: Errors = []
    errs += int_or_percent(unavailable, child(path, "maxUnavailable"))
    errs += int_or_percent(surge, child(path, "maxSurge"))
    if is_zero_int_or_percent(unavailable) and is_zero_int_or_percent(surge):
        errs.append(invalid_value(child(path, "maxUnavailable"), unavailable, "may not be 0 when `maxSurge` is 0"))
    errs += percent_at_most_100(unavailable, child(path, "maxUnavailable"))
    return errs


def validate_deployment(obj: dict[str, Any]) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs = _replicated(obj, "deployment")
    strategy = as_dict(spec.get("strategy"))
    strategy_type = strategy.get("type")
    errs += enum(strategy_type, "spec.strategy.type", ["Recreate", "RollingUpdate"])
    if strategy_type == "Recreate" and strategy.get("rollingUpdate") is not None:
        errs.append(forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"))
    elif strategy_type == "RollingUpdate":
        if strategy.get("rollingUpdate") is None:
            errs.append(required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil"))
        else:
            errs += _rolling(as_dict(strategy["rollingUpdate"]), "spec.strategy.rollingUpdate")
    errs += non_negative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    deadline = spec.get("progressDeadlineSeconds")
    errs += non_negative(deadline, "spec.progressDeadlineSeconds")
    if isinstance(deadline, int) and deadline <= (spec.get("minReadySeconds") or 0):
        errs.append(invalid_value("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"))
    return errs


def validate_replica_set(obj: dict[str, Any]) -> Errors:
    return _replicated(obj, "replicaset")


def validate_daemon_set(obj: dict[str, Any]) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs = non_negative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    errs += _selector(spec, "daemonset")
    errs += validate_template(spec.get("template"), spec.get("selector"), "spec.template", ["Always"])
    strategy = as_dict(spec.get("updateStrategy"))
    errs += enum(strategy.get("type"), "spec.updateStrategy.type", ["OnDelete", "RollingUpdate"])
    if strategy.get("type") == "RollingUpdate":
        rolling = as_dict(strategy.get("rollingUpdate"))
        path = "spec.updateStrategy.rollingUpdate"
        errs += int_or_percent(rolling.get("maxUnavailable"), child(path, "maxUnavailable"))
        errs += int_or_percent(rolling.get("maxSurge"), child(path, "maxSurge"))
        if is_zero_int_or_percent(rolling.get("maxUnavailable")) and is_zero_int_or_percent(rolling.get("maxSurge")):
            errs.append(invalid_value(child(path, "maxUnavailable"), rolling.get("maxUnavailable"),
                                      "cannot be 0 when maxSurge is 0"))
    errs += non_negative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    return errs


def _with_claim_volumes(obj: dict[str, Any]) -> dict[str, Any]:
    """The set as its pods will be: each volumeClaimTemplate is a volume the containers may mount."""
    spec = as_dict(obj.get("spec"))
    claims = [as_dict(as_dict(c).get("metadata")).get("name") for c in as_list(spec.get("volumeClaimTemplates"))]
    template = as_dict(spec.get("template"))
    pod_spec = as_dict(template.get("spec"))
    volumes = as_list(pod_spec.get("volumes"))
    present = {as_dict(v).get("name") for v in volumes}
    extra = [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims if c and c not in present]
    if not extra:
        return obj
    return {**obj, "spec": {**spec, "template": {**template, "spec": {**pod_spec, "volumes": [*volumes, *extra]}}}}


def validate_stateful_set(obj: dict[str, Any]) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs: Errors = []
    errs += enum(spec.get("podManagementPolicy"), "spec.podManagementPolicy", ["OrderedReady", "Parallel"])
    strategy = as_dict(spec.get("updateStrategy"))
    errs += enum(strategy.get("type"), "spec.updateStrategy.type", ["OnDelete", "RollingUpdate"])
    if strategy.get("type") == "OnDelete" and strategy.get("rollingUpdate") is not None:
        errs.append(invalid_value("spec.updateStrategy.rollingUpdate", strategy["rollingUpdate"],
                                  "only allowed for updateStrategy 'RollingUpdate'"))
    rolling = as_dict(strategy.get("rollingUpdate"))
    errs += non_negative(rolling.get("partition"), "spec.updateStrategy.rollingUpdate.partition")
    if rolling.get("maxUnavailable") is not None:
        errs += int_or_percent(rolling["maxUnavailable"], "spec.updateStrategy.rollingUpdate.maxUnavailable")
    retention = as_dict(spec.get("persistentVolumeClaimRetentionPolicy"))
    for field_name in ("whenDeleted", "whenScaled"):
        errs += enum(retention.get(field_name), f"spec.persistentVolumeClaimRetentionPolicy.{field_name}",
                     ["Retain", "Delete"], require=False)
    if spec.get("serviceName"):
        errs += format_errors("spec.serviceName", spec["serviceName"], names.dns1123_label(str(spec["serviceName"])))
    errs += non_negative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    for i, claim in enumerate(as_list(spec.get("volumeClaimTemplates"))):
        claim_meta = as_dict(as_dict(claim).get("metadata"))
        claim_path = index("spec.volumeClaimTemplates", i)
        if not claim_meta.get("name"):
            errs.append(required(f"{claim_path}.metadata.name", "name or generateName is required"))
        else:
            errs += format_errors(f"{claim_path}.metadata.name", claim_meta["name"],
                                  names.dns1123_subdomain(str(claim_meta["name"])))
        if not as_list(as_dict(as_dict(claim).get("spec")).get("accessModes")):
            errs.append(required(f"{claim_path}.spec.accessModes", "at least 1 access mode is required"))
    errs += _replicated(_with_claim_volumes(obj), "statefulset")
    return errs


def validate_selector_update(new: dict[str, Any], old: dict[str, Any]) -> Errors:
    return immutable(as_dict(new.get("spec")).get("selector"), as_dict(old.get("spec")).get("selector"),
                     "spec.selector")


def validate_stateful_set_update(new: dict[str, Any], old: dict[str, Any]) -> Errors:
    new_spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    rest_new = {k: v for k, v in new_spec.items() if k not in _STS_UPDATABLE}
    rest_old = {k: v for k, v in old_spec.items() if k not in _STS_UPDATABLE}
    if rest_new != rest_old:
        return [forbidden("spec", STS_UPDATE_MESSAGE)]
    return []


def validate_controller_revision(obj: dict[str, Any]) -> Errors:
    errs = non_negative(obj.get("revision"), "revision")
    if obj.get("data") is None:
        errs.append(required("data", "data is mandatory"))
    return errs


def validate_controller_revision_update(new: dict[str, Any], old: dict[str, Any]) -> Errors:
    return immutable(new.get("data"), old.get("data"), "data")
