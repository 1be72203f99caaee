"""The Job controller (batch/v1), with the TTL-after-finished controller folded in.

reconcile: count finished pods through the tracking finalizer (see logic), decide whether the Job
failed (backoffLimit, activeDeadlineSeconds: FailureTarget, then Failed once no pod runs) or
succeeded (SuccessCriteriaMet, then Complete), else create or delete pods towards the wanted
number (Indexed: one per free index), replacing failed pods after an exponential backoff.
Status is written with the Job's resourceVersion, so a stale cache costs a retry, never a count.
"""

from __future__ import annotations

import copy
import logging
from datetime import datetime

from pocketkube.api import errors, meta, resources
from pocketkube.api.obj import Obj
from pocketkube.api.podutil import is_pod_active, is_pod_ready
from pocketkube.client.informer import Handlers, object_key
from pocketkube.client.rest import ApiClient
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.controllers.base import Controller, controller_of, owner_reference
from pocketkube.controllers.common.expectations import Expectations
from pocketkube.controllers.common.ownership import controller_key
from pocketkube.controllers.job import logic

log = logging.getLogger(__name__)

JOBS = resources.require("batch", "v1", "jobs")
PODS = resources.require("", "v1", "pods")


class JobController(Controller):
    name = "job-controller"
    workers = 4

    def __init__(self, client: ApiClient, clock: Clock = REAL_CLOCK, backoff_base: float = 10.0):
        super().__init__(client, clock)
        self.backoff_base = backoff_base
        self.expectations = Expectations(clock=clock)
        self._latest: dict[str, Obj] = {}  # key → the Job as we last wrote it (fresher than the cache)
        self._failures: dict[str, tuple[int, float]] = {}  # uid → (failed count, when first seen)
        self.jobs = self.informer(JOBS, self.own())
        self.pods = self.informer(PODS, self.watch_owned("Job"))
        self.pods.add_handlers(Handlers(on_update=lambda _o, n: self._orphan_check(n)))
        self.pods.add_handlers(self.expectations.observer(lambda pod: controller_key(pod, "Job")))

    def _orphan_check(self, pod: Obj) -> None:
        ref = controller_of(pod)
        if ref and ref.get("kind") == "Job" and logic.TRACKING_FINALIZER in (pod["metadata"].get("finalizers") or []):
            self.queue.add(f"{pod['metadata']['namespace']}/{ref['name']}")

    def _job(self, key: str) -> Obj | None:
        cached = self.jobs.get(key)
        mine = self._latest.get(key)
        if cached is None or mine is None or mine["metadata"]["uid"] != cached["metadata"]["uid"]:
            return cached
        return mine if int(mine["metadata"]["resourceVersion"]) > int(cached["metadata"]["resourceVersion"]) \
            else cached

    def _pods_of(self, namespace: str, name: str) -> list[Obj]:
        out = []
        for pod in self.pods.list():
            ref = controller_of(pod)
            if ref and ref.get("kind") == "Job" and ref.get("name") == name \
                    and pod["metadata"].get("namespace") == namespace:
                out.append(pod)
        return out

    async def reconcile(self, key: str) -> float | None:
        namespace, _, name = key.partition("/")
        job = self._job(key)
        all_pods = self._pods_of(namespace, name)
        uid = job["metadata"]["uid"] if job else None
        strays = [p for p in all_pods if (controller_of(p) or {}).get("uid") != uid]
        if strays and job is None:
            try:  # the cache may lag behind a new Job: only release pods of one that is really gone
                live = await self.client.get(JOBS, name, namespace)
                uid = live["metadata"]["uid"]
                strays = [p for p in strays if (controller_of(p) or {}).get("uid") != uid]
            except errors.StatusError as exc:
                if exc.code != 404:
                    raise
        for pod in strays:
            await self._release(pod)
        if job is None:
            self.expectations.forget(key)
            self._latest.pop(key, None)
            return None
        pods = [p for p in all_pods if (controller_of(p) or {}).get("uid") == uid]
        if job["metadata"].get("deletionTimestamp"):
            for pod in pods:
                await self._release(pod)
            return None
        if not self.expectations.satisfied(key):
            return None
        return await self._sync(key, job, pods)

    async def _sync(self, key: str, job: Obj, pods: list[Obj]) -> float | None:
        now = self.clock.utcnow()
        status = copy.deepcopy(job.get("status") or {})
        uncounted = status.setdefault("uncountedTerminatedPods", {})
        by_uid = {p["metadata"]["uid"]: p for p in pods}
        tracked = {u for u, p in by_uid.items() if logic.TRACKING_FINALIZER in (p["metadata"].get("finalizers") or [])}
        completed = logic.parse_indexes(status.get("completedIndexes"))
        completions = logic.spec_int(job, "completions", None)
        # 1. uids whose finalizer is gone are counted for good
        for field in ("succeeded", "failed"):
            still = [u for u in uncounted.get(field) or [] if u in tracked]
            status[field] = int(status.get(field) or 0) + len(uncounted.get(field) or []) - len(still)
            uncounted[field] = still
        # 2. newly finished tracked pods are recorded as uncounted (and their index as completed)
        listed = set(uncounted["succeeded"]) | set(uncounted["failed"])
        for u in sorted(tracked - listed):
            pod = by_uid[u]
            if logic.pod_succeeded(pod):
                uncounted["succeeded"].append(u)
                index = logic.pod_index(pod)
                if logic.is_indexed(job) and index is not None and index < (completions or 0):
                    completed.add(index)
            elif logic.pod_failed(pod):
                uncounted["failed"].append(u)
        for field in ("succeeded", "failed"):
            if not uncounted[field]:
                del uncounted[field]
        succeeded = int(status.get("succeeded") or 0) + len(uncounted.get("succeeded") or [])
        failed = int(status.get("failed") or 0) + len(uncounted.get("failed") or [])
        active = [p for p in pods if is_pod_active(p)]
        settling = bool(uncounted) or any(not logic.pod_finished(p) for p in pods if p not in active)
        conditions = list(status.get("conditions") or [])
        again: float | None = None
        created = deleted = 0

        if logic.is_finished(job):
            pass  # only the counting above is left to do
        elif (target := logic.condition(job, "FailureTarget")) or logic.failure_reason(job, failed, now):
            reason, message = ((target["reason"], target["message"]) if target
                               else logic.failure_reason(job, failed, now) or ("", ""))
            conditions = logic.with_condition(conditions, logic.new_condition("FailureTarget", reason, message, now))
            deleted = await self._delete_pods(key, job, active, count_as_failed=True)
            if not active and not settling:
                conditions = logic.with_condition(conditions, logic.new_condition("Failed", reason, message, now))
                self.recorder.event(job, "Warning", reason, message)
        elif logic.condition(job, "SuccessCriteriaMet") or logic.success_reached(job, succeeded, completed,
                                                                                   len(active)):
            reached = "Reached expected number of succeeded pods"
            conditions = logic.with_condition(conditions, logic.new_condition(
                "SuccessCriteriaMet", "CompletionsReached", reached, now))
            deleted = await self._delete_pods(key, job, active, count_as_failed=False)
            if not active and not settling:
                conditions = logic.with_condition(conditions, logic.new_condition(
                    "Complete", "CompletionsReached", reached, now))
                status["completionTime"] = meta.rfc3339(now)
                self.recorder.event(job, "Normal", "Completed", "Job completed")
        elif (job.get("spec") or {}).get("suspend"):
            if not logic.condition(job, "Suspended"):
                conditions = logic.with_condition(conditions, logic.new_condition(
                    "Suspended", "JobSuspended", "Job suspended", now))
                self.recorder.event(job, "Normal", "Suspended", "Job suspended")
            status.pop("startTime", None)
            deleted = await self._delete_pods(key, job, active, count_as_failed=False)
        else:
            if logic.condition(job, "Suspended"):
                conditions = logic.with_condition(conditions, logic.new_condition(
                    "Suspended", "JobResumed", "Job resumed", now, status="False"))
                self.recorder.event(job, "Normal", "Resumed", "Job resumed")
            status.setdefault("startTime", meta.rfc3339(now))
            created, deleted, again = await self._scale(key, job, active, succeeded, failed, completed)
            deadline = logic.spec_int(job, "activeDeadlineSeconds", None)
            if deadline is not None:
                left = deadline - (now - meta.parse_time(status["startTime"])).total_seconds()
                again = max(0.0, left) if again is None else min(again, max(0.0, left))

        status["conditions"] = conditions
        if not conditions:
            del status["conditions"]
        status["active"] = len(active) + created - deleted
        status["ready"] = sum(1 for p in active if is_pod_ready(p))
        status["terminating"] = sum(1 for p in pods if p["metadata"].get("deletionTimestamp")
                                    and not logic.pod_finished(p)) + deleted
        if logic.is_indexed(job):
            status["completedIndexes"] = logic.format_indexes(completed)
        for field in ("active", "succeeded", "failed"):
            if not status.get(field):
                status.pop(field, None)
        await self._write_status(key, job, status)
        await self._untrack(pods, set(uncounted.get("succeeded") or []) | set(uncounted.get("failed") or []))
        if logic.is_finished(job) or any(c["type"] in ("Complete", "Failed") for c in conditions):
            return await self._ttl(job, status, now)
        return again

    async def _scale(self, key: str, job: Obj, active: list[Obj], succeeded: int, failed: int,
                     completed: set[int]) -> tuple[int, int, float | None]:
        """Create or delete pods towards what the Job wants; (created, deleted, retry after)."""
        delay = self._backoff_left(job, failed)
        if logic.is_indexed(job):
            by_index: dict[int, list[Obj]] = {}
            extra = []
            for pod in active:
                index = logic.pod_index(pod)
                if index is None or index in completed or index >= (logic.spec_int(job, "completions", 1) or 0):
                    extra.append(pod)
                else:
                    by_index.setdefault(index, []).append(pod)
            extra += [p for group in by_index.values() for p in logic.deletion_order(group)[:-1]]
            deleted = await self._delete_pods(key, job, extra, count_as_failed=False)
            starts = logic.indexes_to_start(job, completed, set(by_index))
            if starts and delay > 0:
                return 0, deleted, delay
            await self._create_pods(key, job, list(starts))
            return len(starts), deleted, None
        want = logic.want_active(job, succeeded)
        diff = want - len(active)
        if diff < 0:
            return 0, await self._delete_pods(key, job, logic.deletion_order(active)[:-diff], False), None
        if diff > 0 and delay > 0:
            return 0, 0, delay
        await self._create_pods(key, job, [None] * diff)
        return diff, 0, None

    def _backoff_left(self, job: Obj, failed: int) -> float:
        uid = job["metadata"]["uid"]
        seen = self._failures.get(uid)
        if failed <= 0:
            return 0.0
        if seen is None or seen[0] != failed:
            seen = self._failures[uid] = (failed, self.clock.now())
        return max(0.0, logic.backoff_delay(failed, self.backoff_base) - (self.clock.now() - seen[1]))

    async def _create_pods(self, key: str, job: Obj, indexes: list[int | None]) -> None:
        """Create a pod per index (None: non-indexed), each expected before it is created."""
        self.expectations.expect_creations(key, len(indexes))
        for done, index in enumerate(indexes):
            try:
                created = await self.client.create(PODS, logic.pod_for(job, owner_reference(job), index),
                                                   job["metadata"]["namespace"])
            except BaseException:
                self.expectations.lower(key, adds=len(indexes) - done)  # this one and those never tried
                raise
            self.recorder.event(job, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")

    async def _delete_pods(self, key: str, job: Obj, pods: list[Obj], count_as_failed: bool) -> int:
        """Delete pods; unless they should count as failures, they are released from tracking first."""
        keys = [object_key(p) for p in pods]
        self.expectations.expect_deletions(key, keys)
        for done, pod in enumerate(pods):
            md = pod["metadata"]
            try:
                if not count_as_failed:
                    await self._release(pod)
                await self.client.delete(PODS, md["name"], md["namespace"])
            except errors.StatusError as exc:
                if exc.code == 404:
                    self.expectations.lower(key, deletes=keys[done:done + 1])
                    continue
                self.expectations.lower(key, deletes=keys[done:])
                raise
            except BaseException:
                self.expectations.lower(key, deletes=keys[done:])
                raise
            self.recorder.event(job, "Normal", "SuccessfulDelete", f"Deleted pod: {md['name']}")
        return len(pods)

    async def _release(self, pod: Obj) -> None:
        md = pod["metadata"]
        finalizers = md.get("finalizers") or []
        if logic.TRACKING_FINALIZER not in finalizers:
            return
        kept = [f for f in finalizers if f != logic.TRACKING_FINALIZER]
        try:
            await self.client.patch(PODS, md["name"], {"metadata": {"finalizers": kept or None,
                                                                     "resourceVersion": md["resourceVersion"]}},
                                    md["namespace"])
        except errors.StatusError as exc:
            if exc.code != 404:
                raise

    async def _untrack(self, pods: list[Obj], uids: set[str]) -> None:
        for pod in pods:
            if pod["metadata"]["uid"] in uids:
                await self._release(pod)

    async def _write_status(self, key: str, job: Obj, status: Obj) -> None:
        if status == (job.get("status") or {}):
            return
        body = copy.deepcopy(job)
        body["status"] = status
        self._latest[key] = await self.client.update(JOBS, body, subresource="status")

    async def _ttl(self, job: Obj, status: Obj, now: datetime) -> float | None:
        """kube's TTL-after-finished controller: delete the Job `ttlSecondsAfterFinished` after it ended."""
        ttl = logic.spec_int(job, "ttlSecondsAfterFinished", None)
        if ttl is None:
            return None
        finished = status.get("completionTime") or next(
            (c.get("lastTransitionTime") for c in status.get("conditions") or []
             if c["type"] in ("Complete", "Failed") and c.get("status") == "True"), None)
        if not finished:
            return None
        left = (meta.parse_time(finished) - now).total_seconds() + ttl
        if left > 0:
            return left
        md = job["metadata"]
        try:
            await self.client.delete(JOBS, md["name"], md["namespace"], propagation="Foreground",
                                     preconditions={"uid": md["uid"]})
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
        return None
