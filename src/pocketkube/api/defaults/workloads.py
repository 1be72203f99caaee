"""Defaults of the workload kinds (apps/v1 and batch/v1), each with its pod template's defaults.

`job_prepare_for_create` is not defaulting: it is what the Job strategy does on create when the
user did not ask for a manual selector (label the template and select it by the Job's UID).
"""

from __future__ import annotations

from pocketkube.api.defaults.pod import default_pod_template, default_resources
from pocketkube.api.obj import Obj

JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"


def _spec(obj: Obj) -> Obj:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    return spec


def _sub(parent: Obj, key: str) -> Obj:
    child = parent.get(key)
    if not isinstance(child, dict):
        child = parent[key] = {}
    return child


def default_deployment(obj: Obj) -> None:
    spec = _spec(obj)
    spec.setdefault("replicas", 1)
    strategy = _sub(spec, "strategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _sub(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    default_pod_template(spec.get("template"))


def default_replica_set(obj: Obj) -> None:
    spec = _spec(obj)
    spec.setdefault("replicas", 1)
    default_pod_template(spec.get("template"))


def default_stateful_set(obj: Obj) -> None:
    spec = _spec(obj)
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = _sub(spec, "updateStrategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        _sub(strategy, "rollingUpdate").setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    retention = _sub(spec, "persistentVolumeClaimRetentionPolicy")
    retention.setdefault("whenDeleted", "Retain")
    retention.setdefault("whenScaled", "Retain")
    for claim in spec.get("volumeClaimTemplates") or ():
        if isinstance(claim, dict):
            default_claim_template(claim)
    default_pod_template(spec.get("template"))


def default_claim_template(claim: Obj) -> None:
    """A PersistentVolumeClaim's defaults: Filesystem volume mode, canonical resource quantities."""
    # The API server writes embedded claims back with their type, as users see them in `-o yaml`.
    claim.setdefault("apiVersion", "v1")
    claim.setdefault("kind", "PersistentVolumeClaim")
    spec = _sub(claim, "spec")
    spec.setdefault("volumeMode", "Filesystem")
    resources = spec.get("resources")
    if isinstance(resources, dict):
        default_resources(resources)
    claim.setdefault("status", {"phase": "Pending"})


def default_daemon_set(obj: Obj) -> None:
    spec = _spec(obj)
    strategy = _sub(spec, "updateStrategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _sub(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    default_pod_template(spec.get("template"))


def default_job_spec(spec: Obj) -> None:
    # Both unset means one pod run once; parallelism alone leaves completions unset (a work queue).
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 2147483647 if spec.get("backoffLimitPerIndex") is not None else 6
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    failure_policy = spec.get("podFailurePolicy")
    if isinstance(failure_policy, dict):
        for rule in failure_policy.get("rules") or ():
            for pattern in (rule.get("onPodConditions") or ()) if isinstance(rule, dict) else ():
                if isinstance(pattern, dict):
                    pattern.setdefault("status", "True")
    spec.setdefault("podReplacementPolicy", "Failed" if failure_policy else "TerminatingOrFailed")
    default_pod_template(spec.get("template"))


def default_job(obj: Obj) -> None:
    spec = _spec(obj)
    default_job_spec(spec)
    # A Job without labels takes its template's (SetDefaults_Job).
    template = spec.get("template")
    labels = ((template or {}).get("metadata") or {}).get("labels") if isinstance(template, dict) else None
    metadata = _sub(obj, "metadata")
    if labels and not metadata.get("labels"):
        metadata["labels"] = dict(labels)


def default_cron_job(obj: Obj) -> None:
    spec = _spec(obj)
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict):
        default_job_spec(_sub(job_template, "spec"))


def job_prepare_for_create(obj: Obj, uid: str) -> None:
    """Generate a Job's selector and template labels from its UID, unless `spec.manualSelector` is true.

    Call after the UID is assigned and before validation. Labels the user already set are kept (a
    mismatch is then a validation error, as in Kubernetes); the Job's own labels default to its
    template's when it has none, which Kubernetes does when it next decodes the object.
    """
    spec = _spec(obj)
    if spec.get("manualSelector") is True:
        return
    name = str((obj.get("metadata") or {}).get("name") or "")
    template = _sub(spec, "template")
    labels = _sub(_sub(template, "metadata"), "labels")
    for key in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
        labels.setdefault(key, name)
    for key in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
        labels.setdefault(key, uid)
    selector = _sub(spec, "selector")
    _sub(selector, "matchLabels").setdefault(CONTROLLER_UID_LABEL, uid)
    metadata = _sub(obj, "metadata")
    if not metadata.get("labels"):
        metadata["labels"] = dict(labels)
