"""Validation of objects on create, update and status update, as kube-apiserver's strategies do it.

Every function returns a list of `FieldError` (empty when valid); the API server turns a non-empty
list into a 422 with `errors.invalid(...)`. Validation runs after `apply_defaults`, so it may
assume defaulted fields are present and reports them as Required when a client removed them.

Per kind there is one create validator (object metadata with the kind's name rule, then the spec),
and optionally an update validator for what may not change; an update is validated as a create of
the new object plus the update rules.
"""

from __future__ import annotations

from collections.abc import Callable

from pocketkube.api.errors import FieldError
from pocketkube.api.obj import Obj
from pocketkube.api.resources import ResourceInfo
from pocketkube.api.validation import batch, core, names, storage, workloads
from pocketkube.api.validation.common import as_dict, non_negative
from pocketkube.api.validation.meta import NameValidator, validate_object_meta, validate_object_meta_update
from pocketkube.api.validation.pod import validate_pod_spec, validate_pod_spec_update

__all__ = ["validate_create", "validate_pod_spec", "validate_status_update", "validate_update"]

Validator = Callable[[Obj], list[FieldError]]
UpdateValidator = Callable[[Obj, Obj], list[FieldError]]

# Kinds whose names become DNS labels (namespaces, service hostnames, stateful pod hostnames).
_NAME_RULES: dict[tuple[str, str], NameValidator] = {
    ("", "Namespace"): names.name_is_dns_label,
    ("", "Service"): names.name_is_dns1035_label,
    ("apps", "StatefulSet"): names.name_is_dns_label,
}


def _pod(obj: Obj) -> list[FieldError]:
    return validate_pod_spec(obj.get("spec"), "spec")


def _pod_update(new: Obj, old: Obj) -> list[FieldError]:
    return validate_pod_spec_update(new.get("spec"), old.get("spec"), "spec")


_CREATE: dict[tuple[str, str], Validator] = {
    ("", "Pod"): _pod,
    ("", "Service"): core.validate_service,
    ("", "ConfigMap"): core.validate_config_map,
    ("", "Secret"): core.validate_secret,
    ("", "Namespace"): core.validate_namespace,
    ("", "Node"): core.validate_node,
    ("", "Endpoints"): core.validate_endpoints,
    ("", "PersistentVolume"): storage.validate_persistent_volume,
    ("", "PersistentVolumeClaim"): storage.validate_persistent_volume_claim,
    ("storage.k8s.io", "StorageClass"): storage.validate_storage_class,
    ("", "Event"): core.validate_core_event,
    ("events.k8s.io", "Event"): core.validate_events_event,
    ("coordination.k8s.io", "Lease"): core.validate_lease,
    ("apps", "Deployment"): workloads.validate_deployment,
    ("apps", "ReplicaSet"): workloads.validate_replica_set,
    ("apps", "StatefulSet"): workloads.validate_stateful_set,
    ("apps", "DaemonSet"): workloads.validate_daemon_set,
    ("apps", "ControllerRevision"): workloads.validate_controller_revision,
    ("batch", "Job"): batch.validate_job,
    ("batch", "CronJob"): batch.validate_cron_job,
}

_UPDATE: dict[tuple[str, str], UpdateValidator] = {
    ("", "Pod"): _pod_update,
    ("", "Service"): core.validate_service_update,
    ("", "ConfigMap"): core.validate_config_map_update,
    ("", "Secret"): core.validate_secret_update,
    ("", "Node"): core.validate_node_update,
    ("", "PersistentVolume"): storage.validate_persistent_volume_update,
    ("", "PersistentVolumeClaim"): storage.validate_persistent_volume_claim_update,
    ("storage.k8s.io", "StorageClass"): storage.validate_storage_class_update,
    ("apps", "Deployment"): workloads.validate_selector_update,
    ("apps", "ReplicaSet"): workloads.validate_selector_update,
    ("apps", "DaemonSet"): workloads.validate_selector_update,
    ("apps", "StatefulSet"): lambda new, old: (workloads.validate_selector_update(new, old)
                                               + workloads.validate_stateful_set_update(new, old)),
    ("apps", "ControllerRevision"): workloads.validate_controller_revision_update,
    ("batch", "Job"): batch.validate_job_update,
}


def _kind(resource: ResourceInfo) -> tuple[str, str]:
    return (resource.group, resource.kind)


def validate_create(resource: ResourceInfo, obj: Obj) -> list[FieldError]:
    """Everything wrong with a new object, in the order Kubernetes reports it (metadata first)."""
    obj = as_dict(obj)
    name_rule = _NAME_RULES.get(_kind(resource), names.name_is_dns_subdomain)
    errs = validate_object_meta(obj.get("metadata"), resource.namespaced, name_rule)
    validator = _CREATE.get(_kind(resource))
    if validator is not None:
        errs += validator(obj)
    return errs


def validate_update(resource: ResourceInfo, new: Obj, old: Obj) -> list[FieldError]:
    """Everything wrong with replacing `old` by `new`: immutable metadata, the new object itself, and
    the kind's rules about what may change."""
    new, old = as_dict(new), as_dict(old)
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    # Name format is not re-checked on update (the name cannot change); the rest of the object is.
    validator = _CREATE.get(_kind(resource))
    if validator is not None:
        errs += validator(new)
    update_validator = _UPDATE.get(_kind(resource))
    if update_validator is not None:
        errs += update_validator(new, old)
    return errs


_STATUS_COUNTS = ("replicas", "readyReplicas", "availableReplicas", "updatedReplicas", "unavailableReplicas",
                  "fullyLabeledReplicas", "currentReplicas", "observedGeneration", "currentNumberScheduled",
                  "numberMisscheduled", "desiredNumberScheduled", "numberReady", "updatedNumberScheduled",
                  "numberAvailable", "numberUnavailable", "active", "succeeded", "failed")


def validate_status_update(resource: ResourceInfo, new: Obj, old: Obj) -> list[FieldError]:
    """A status write: metadata stays put and counts in status are not negative."""
    new, old = as_dict(new), as_dict(old)
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    status = as_dict(new.get("status"))
    for field_name in _STATUS_COUNTS:
        value = status.get(field_name)
        if isinstance(value, list):  # CronJob's status.active lists Job references, not a count
            continue
        errs += non_negative(value, f"status.{field_name}")
    return errs
