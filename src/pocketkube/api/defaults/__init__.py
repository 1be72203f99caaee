"""Server-side defaulting: fill what kube-apiserver fills before an object is validated and stored.

`apply_defaults(resource, obj)` runs on every create and update of a served resource. It mutates
`obj` in place, only fills absent fields (so it is idempotent), and never fails: malformed values are
left for validation to report. Kinds without defaults in Kubernetes are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pocketkube.api.defaults.core import default_namespace, default_node, default_secret, default_service
from pocketkube.api.defaults.pod import default_pod, default_pod_spec, default_pull_policy
from pocketkube.api.defaults.storage import (
    default_persistent_volume,
    default_persistent_volume_claim,
    default_storage_class,
)
from pocketkube.api.defaults.workloads import (
    default_cron_job,
    default_daemon_set,
    default_deployment,
    default_job,
    default_replica_set,
    default_stateful_set,
    job_prepare_for_create,
)
from pocketkube.api.resources import ResourceInfo

__all__ = [
    "apply_defaults",
    "default_pod_spec",
    "default_pull_policy",
    "job_prepare_for_create",
]

_DEFAULTERS: dict[tuple[str, str], Callable[[dict[str, Any]], None]] = {
    ("", "Pod"): default_pod,
    ("", "Service"): default_service,
    ("", "Secret"): default_secret,
    ("", "Namespace"): default_namespace,
    ("", "Node"): default_node,
    ("", "PersistentVolume"): default_persistent_volume,
    ("", "PersistentVolumeClaim"): default_persistent_volume_claim,
    ("storage.k8s.io", "StorageClass"): default_storage_class,
    ("apps", "Deployment"): default_deployment,
    ("apps", "ReplicaSet"): default_replica_set,
    ("apps", "StatefulSet"): default_stateful_set,
    ("apps", "DaemonSet"): default_daemon_set,
    ("batch", "Job"): default_job,
    ("batch", "CronJob"): default_cron_job,
}


def apply_defaults(resource: ResourceInfo, obj: dict[str, Any]) -> None:
    """Set, in place, the defaults Kubernetes sets for this resource's kind."""
    defaulter = _DEFAULTERS.get((resource.group, resource.kind))
    if defaulter is not None and isinstance(obj, dict):
        defaulter(obj)
