"""The CronJob controller (kube's cronjob controllerv2), on the injected clock.

reconcile: bring status.active in line with the owned Jobs (finished ones leave it, and set
lastSuccessfulTime), prune finished Jobs beyond the history limits, then — unless suspended — find
the latest missed schedule time since lastScheduleTime (or creation), skip it when it is past
startingDeadlineSeconds, honour concurrencyPolicy (Forbid skips, Replace deletes the running Jobs),
and create `<cronjob>-<minutes since epoch>`. It asks to be run again at the next schedule time.
"""

from __future__ import annotations

import copy
import logging
from datetime import datetime, timedelta

from pocketkube.api import errors, meta, resources
from pocketkube.api.obj import Obj
from pocketkube.api.validation.cron import parse_schedule
from pocketkube.client.rest import ApiClient
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.controllers.base import Controller, controller_of, owner_reference
from pocketkube.controllers.cronjob.schedule import most_recent, next_time, zone

log = logging.getLogger(__name__)

CRONJOBS = resources.require("batch", "v1", "cronjobs")
JOBS = resources.require("batch", "v1", "jobs")
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def job_finished(job: Obj) -> str | None:
    """"Complete" or "Failed" when the Job has finished."""
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return str(c["type"])
    return None


def job_name(cronjob: str, scheduled: datetime) -> str:
    return f"{cronjob}-{int(scheduled.timestamp()) // 60}"


def job_from_template(cj: Obj, scheduled: datetime) -> Obj:
    template = copy.deepcopy((cj.get("spec") or {}).get("jobTemplate") or {})
    md = template.get("metadata") or {}
    annotations = dict(md.get("annotations") or {})
    tz = zone((cj.get("spec") or {}).get("timeZone"))
    annotations[SCHEDULED_ANNOTATION] = scheduled.astimezone(tz).isoformat().replace("+00:00", "Z")
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": job_name(cj["metadata"]["name"], scheduled),
                         "namespace": cj["metadata"]["namespace"], "labels": dict(md.get("labels") or {}),
                         "annotations": annotations, "ownerReferences": [owner_reference(cj)]},
            "spec": template.get("spec") or {}}


def to_prune(jobs: list[Obj], successful_limit: int, failed_limit: int) -> list[Obj]:
    """Finished Jobs beyond the history limits, oldest first (by start, then creation)."""
    def started(job: Obj) -> str:
        return str((job.get("status") or {}).get("startTime") or job["metadata"].get("creationTimestamp") or "")
    out: list[Obj] = []
    for kind, limit in (("Complete", successful_limit), ("Failed", failed_limit)):
        done = sorted((j for j in jobs if job_finished(j) == kind), key=started)
        out += done[:max(0, len(done) - limit)]
    return out


def _ref(job: Obj) -> Obj:
    md = job["metadata"]
    return {"apiVersion": "batch/v1", "kind": "Job", "name": md["name"], "namespace": md["namespace"],
            "uid": md["uid"], "resourceVersion": md.get("resourceVersion", "")}


class CronJobController(Controller):
    name = "cronjob-controller"

    def __init__(self, client: ApiClient, clock: Clock = REAL_CLOCK):
        super().__init__(client, clock)
        self.cronjobs = self.informer(CRONJOBS, self.own())
        self.jobs = self.informer(JOBS, self.watch_owned("CronJob"))

    async def reconcile(self, key: str) -> float | None:
        cj = self.cronjobs.get(key)
        if cj is None:
            return None
        namespace = cj["metadata"]["namespace"]
        spec = cj.get("spec") or {}
        uid = cj["metadata"]["uid"]
        jobs = [j for j in self.jobs.list() if j["metadata"].get("namespace") == namespace
                and (controller_of(j) or {}).get("uid") == uid]
        status = copy.deepcopy(cj.get("status") or {})
        by_uid = {j["metadata"]["uid"]: j for j in jobs}
        active: list[Obj] = []
        for ref in status.get("active") or []:
            job = by_uid.get(ref.get("uid", ""))
            if job is None:
                continue  # deleted by someone else
            if (kind := job_finished(job)) is not None:
                self.recorder.event(cj, "Normal", "SawCompletedJob",
                                    f"Saw completed job: {job['metadata']['name']}, status: {kind}")
                continue
            active.append(ref)
        listed = {r.get("uid") for r in active}
        active += [_ref(j) for j in jobs if not job_finished(j) and j["metadata"]["uid"] not in listed
                   and not j["metadata"].get("deletionTimestamp")]
        done = [(j.get("status") or {}).get("completionTime") for j in jobs if job_finished(j) == "Complete"]
        done = [d for d in done if d] + ([status["lastSuccessfulTime"]] if status.get("lastSuccessfulTime") else [])
        if done:
            status["lastSuccessfulTime"] = max(done, key=meta.parse_time)
        for job in to_prune(jobs, int(spec.get("successfulJobsHistoryLimit", 3)),
                            int(spec.get("failedJobsHistoryLimit", 1))):
            await self._delete_job(cj, job)
        status["active"] = active
        if cj["metadata"].get("deletionTimestamp") or spec.get("suspend"):
            await self._write_status(cj, status)
            return None
        try:
            schedule = parse_schedule(spec.get("schedule", ""))
        except ValueError as exc:
            self.recorder.event(cj, "Warning", "UnparseableSchedule", f"unparseable schedule: {exc}")
            return None
        tz = zone(spec.get("timeZone"))
        now = self.clock.utcnow()
        earliest = meta.parse_time(status.get("lastScheduleTime") or cj["metadata"]["creationTimestamp"])
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None:
            earliest = max(earliest, now - timedelta(seconds=int(deadline)))
        scheduled, missed = most_recent(schedule, earliest, now, tz)
        upcoming = next_time(schedule, now, tz)
        again = (upcoming - now).total_seconds() + 0.1 if upcoming else None
        if scheduled is None:
            await self._write_status(cj, status)
            return again
        if missed > 100:
            self.recorder.event(cj, "Warning", "TooManyMissedTimes",
                                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds "
                                "or check clock skew")
        if deadline is not None and (now - scheduled).total_seconds() > int(deadline):
            self.recorder.event(cj, "Warning", "MissSchedule",
                                f"Missed scheduled time to start a job: {meta.rfc3339(scheduled)}")
            await self._write_status(cj, status)
            return again
        name = job_name(cj["metadata"]["name"], scheduled)
        if any(r.get("name") == name for r in active) or any(j["metadata"]["name"] == name for j in jobs):
            await self._write_status(cj, status)
            return again  # this time's Job exists already
        policy = spec.get("concurrencyPolicy", "Allow")
        if active and policy == "Forbid":
            self.recorder.event(cj, "Normal", "JobAlreadyActive", "Not starting job because prior execution is "
                                "running and concurrency policy is Forbid")
            await self._write_status(cj, status)
            return again
        if active and policy == "Replace":
            for ref in active:
                job = by_uid.get(ref.get("uid", ""))
                if job is not None:
                    await self._delete_job(cj, job)
            active = []
        try:
            created = await self.client.create(JOBS, job_from_template(cj, scheduled), namespace)
            self.recorder.event(cj, "Normal", "SuccessfulCreate", f"Created job {created['metadata']['name']}")
        except errors.StatusError as exc:
            if exc.code != 409:
                self.recorder.event(cj, "Warning", "FailedCreate", f"Error creating job: {exc.message}")
                raise
            created = await self.client.get(JOBS, name, namespace)
            if (controller_of(created) or {}).get("uid") != uid:
                return again
        status["active"] = active + [_ref(created)]
        status["lastScheduleTime"] = meta.rfc3339(scheduled)
        await self._write_status(cj, status)
        return again

    async def _delete_job(self, cj: Obj, job: Obj) -> None:
        md = job["metadata"]
        try:
            await self.client.delete(JOBS, md["name"], md["namespace"], propagation="Background")
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
            return
        self.recorder.event(cj, "Normal", "SuccessfulDelete", f"Deleted job {md['name']}")

    async def _write_status(self, cj: Obj, status: Obj) -> None:
        if not status.get("active"):
            status.pop("active", None)
        if status == (cj.get("status") or {}):
            return
        body = copy.deepcopy(cj)
        body["status"] = status
        await self.client.update(CRONJOBS, body, subresource="status")
