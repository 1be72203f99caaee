"""Printers for apps/ and batch/ kinds: deployments, replica sets, stateful sets, daemon sets,
controller revisions, jobs and cron jobs — columns and cells as kube's printers.go has them.

Replica counts default to 1 when the spec omits them, as the stored (defaulted) object would say.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pocketkube.api.errors import StatusError
from pocketkube.api.selectors import format_label_selector, format_labels, selector_to_string
from pocketkube.api.tables.format import (
    CONTAINERS,
    IMAGES,
    Column,
    Printer,
    age,
    age_column,
    dig,
    doc,
    human_duration,
    name_column,
    name_of,
    parse_time,
    since,
    template_containers,
    to_int,
    wide,
)

_APPS = "io.k8s.api.apps.v1."
_BATCH = "io.k8s.api.batch.v1."


def _replicas(spec: dict[str, Any]) -> int:
    return to_int(spec["replicas"]) if "replicas" in spec and spec["replicas"] is not None else 1


def deployment_cells(d: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = d.get("spec") or {}, d.get("status") or {}
    try:
        selector = selector_to_string(spec.get("selector"))
    except StatusError:
        selector = "<invalid>"
    names, images = template_containers(spec.get("template"))
    return [name_of(d), f"{to_int(status.get('readyReplicas'))}/{_replicas(spec)}",
            to_int(status.get("updatedReplicas")), to_int(status.get("availableReplicas")), age(d, now),
            names, images, selector]


def replicaset_cells(rs: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    names, images = template_containers(spec.get("template"))
    return [name_of(rs), _replicas(spec), to_int(status.get("replicas")), to_int(status.get("readyReplicas")),
            age(rs, now), names, images, format_label_selector(spec.get("selector"))]


def statefulset_cells(sts: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = sts.get("spec") or {}, sts.get("status") or {}
    names, images = template_containers(spec.get("template"))
    return [name_of(sts), f"{to_int(status.get('readyReplicas'))}/{_replicas(spec)}", age(sts, now), names, images]


def daemonset_cells(ds: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = ds.get("spec") or {}, ds.get("status") or {}
    names, images = template_containers(spec.get("template"))
    return [name_of(ds), to_int(status.get("desiredNumberScheduled")), to_int(status.get("currentNumberScheduled")),
            to_int(status.get("numberReady")), to_int(status.get("updatedNumberScheduled")),
            to_int(status.get("numberAvailable")), format_labels(dig(spec, "template", "spec", "nodeSelector")),
            age(ds, now), names, images, format_label_selector(spec.get("selector"))]


def controllerrevision_cells(cr: dict[str, Any], now: datetime) -> list[Any]:
    controller = "<none>"
    for ref in (cr.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            api_version = str(ref.get("apiVersion") or "")
            group = api_version.rpartition("/")[0]
            kind = str(ref.get("kind") or "")
            group_kind = f"{kind}.{group}" if group else kind
            controller = f"{group_kind.lower()}/{ref.get('name', '')}" if group_kind else str(ref.get("name", ""))
            break
    return [name_of(cr), controller, to_int(cr.get("revision")), age(cr, now)]


def _job_condition(status: dict[str, Any], ctype: str) -> bool:
    for c in status.get("conditions") or []:
        if c.get("type") == ctype:
            return bool(c.get("status") == "True")
    return False


def job_status(job: dict[str, Any]) -> str:
    status = job.get("status") or {}
    if _job_condition(status, "Complete"):
        return "Complete"
    if _job_condition(status, "Failed"):
        return "Failed"
    if (job.get("metadata") or {}).get("deletionTimestamp") is not None:
        return "Terminating"
    if _job_condition(status, "Suspended"):
        return "Suspended"
    if _job_condition(status, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def job_cells(job: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    succeeded = to_int(status.get("succeeded"))
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{to_int(spec['completions'])}"
    elif to_int(spec.get("parallelism")) > 1:
        completions = f"{succeeded}/1 of {to_int(spec['parallelism'])}"
    else:
        completions = f"{succeeded}/1"
    start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    if start is None:
        duration = ""
    elif end is None:
        duration = since(status.get("startTime"), now)
    else:
        duration = human_duration(end - start)
    names, images = template_containers(spec.get("template"))
    return [name_of(job), job_status(job), completions, duration, age(job, now), names, images,
            format_label_selector(spec.get("selector"))]


def cronjob_cells(cj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = cj.get("spec") or {}, cj.get("status") or {}
    last = since(status["lastScheduleTime"], now) if status.get("lastScheduleTime") else "<none>"
    suspend = spec.get("suspend")
    suspend_text = "<unset>" if suspend is None else ("True" if suspend else "False")
    job_spec = dig(spec, "jobTemplate", "spec") or {}
    names, images = template_containers(job_spec.get("template"))
    return [name_of(cj), spec.get("schedule") or "", spec.get("timeZone") or "<none>", suspend_text,
            len(status.get("active") or []), last, age(cj, now), names, images,
            format_label_selector(job_spec.get("selector"))]


def printers() -> dict[tuple[str, str], Printer]:
    name, age_col = name_column(), age_column()
    containers, images = wide("Containers", CONTAINERS), wide("Images", IMAGES)

    def selector(definition: str) -> Column:
        return wide("Selector", doc(definition, "selector"))

    return {
        ("apps", "deployments"): Printer((
            name, Column("Ready", "string", "Number of the pod with ready state"),
            Column("Up-to-date", "string", doc(_APPS + "DeploymentStatus", "updatedReplicas")),
            Column("Available", "string", doc(_APPS + "DeploymentStatus", "availableReplicas")),
            age_col, containers, images, selector(_APPS + "DeploymentSpec"),
        ), deployment_cells),
        ("apps", "replicasets"): Printer((
            name, Column("Desired", "integer", doc(_APPS + "ReplicaSetSpec", "replicas")),
            Column("Current", "integer", doc(_APPS + "ReplicaSetStatus", "replicas")),
            Column("Ready", "integer", doc(_APPS + "ReplicaSetStatus", "readyReplicas")),
            age_col, containers, images, selector(_APPS + "ReplicaSetSpec"),
        ), replicaset_cells),
        ("apps", "statefulsets"): Printer((
            name, Column("Ready", "string", "Number of the pod with ready state"), age_col, containers, images,
        ), statefulset_cells),
        ("apps", "daemonsets"): Printer((
            name, Column("Desired", "integer", doc(_APPS + "DaemonSetStatus", "desiredNumberScheduled")),
            Column("Current", "integer", doc(_APPS + "DaemonSetStatus", "currentNumberScheduled")),
            Column("Ready", "integer", doc(_APPS + "DaemonSetStatus", "numberReady")),
            Column("Up-to-date", "integer", doc(_APPS + "DaemonSetStatus", "updatedNumberScheduled")),
            Column("Available", "integer", doc(_APPS + "DaemonSetStatus", "numberAvailable")),
            Column("Node Selector", "string", doc("io.k8s.api.core.v1.PodSpec", "nodeSelector")),
            age_col, containers, images, selector(_APPS + "DaemonSetSpec"),
        ), daemonset_cells),
        ("apps", "controllerrevisions"): Printer((
            name, Column("Controller", "string", "Controller of the object"),
            Column("Revision", "string", doc(_APPS + "ControllerRevision", "revision")), age_col,
        ), controllerrevision_cells),
        ("batch", "jobs"): Printer((
            name, Column("Status", "string", "Status of the job."),
            Column("Completions", "string", doc(_BATCH + "JobStatus", "succeeded")),
            Column("Duration", "string", "Time required to complete the job."),
            age_col, containers, images, selector(_BATCH + "JobSpec"),
        ), job_cells),
        ("batch", "cronjobs"): Printer((
            name, Column("Schedule", "string", doc(_BATCH + "CronJobSpec", "schedule")),
            Column("Timezone", "string", doc(_BATCH + "CronJobSpec", "timeZone")),
            Column("Suspend", "boolean", doc(_BATCH + "CronJobSpec", "suspend")),
            Column("Active", "integer", doc(_BATCH + "CronJobStatus", "active")),
            Column("Last Schedule", "string", doc(_BATCH + "CronJobStatus", "lastScheduleTime")),
            age_col, containers, images, selector(_BATCH + "JobSpec"),
        ), cronjob_cells),
    }
