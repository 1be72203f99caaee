"""One Deployment's sync: the steps both strategies share (kube's deployment sync.go).

A `DeploymentSync` is built per reconcile from the informer caches. It finds the new ReplicaSet
(template equal but for the hash label) or creates `<deploy>-<hash>`, keeps revision annotations
in step, scales ReplicaSets (with ScalingReplicaSet events), shares a resize proportionally,
deletes history beyond revisionHistoryLimit, and writes status. Strategies live in rolling.py
and recreate.py.
"""

from __future__ import annotations

import copy

from pocketkube.api import errors, resources
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient
from pocketkube.client.events import EventRecorder
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.controllers.base import controller_of, owner_reference
from pocketkube.controllers.deployment import conditions as cond
from pocketkube.controllers.deployment.hashing import HASH_LABEL, compute_hash, equal_ignore_hash
from pocketkube.controllers.deployment.revisions import (
    REVISION,
    max_revision,
    set_deployment_revision,
    set_new_rs_annotations,
    set_replicas_annotations,
    to_clean_up,
)
from pocketkube.controllers.deployment.rollout import (
    by_creation,
    max_surge,
    new_rs_new_replicas,
    proportional_scale,
    replicas,
)

DEPLOYMENTS = resources.require("apps", "v1", "deployments")
REPLICASETS = resources.require("apps", "v1", "replicasets")


class DeploymentSync:
    def __init__(self, client: ApiClient, recorder: EventRecorder, deploy: Obj, rss: list[Obj], pods: list[Obj],
                 clock: Clock = REAL_CLOCK):
        self.client = client
        self.clock = clock
        self.recorder = recorder
        self.deploy = copy.deepcopy(deploy)
        self.rss = {rs["metadata"]["name"]: rs for rs in rss}
        self.pods = pods
        self._stored_revision = (self.deploy["metadata"].get("annotations") or {}).get(REVISION)

    @property
    def ns(self) -> str:
        return str(self.deploy["metadata"].get("namespace") or "default")

    def _template(self) -> Obj:
        return dict((self.deploy.get("spec") or {}).get("template") or {})

    async def write_status(self) -> None:
        """Write the revision annotation (when it moved) to the Deployment, then PUT its status.

        kube's deployment status strategy lets annotations through /status; this server keeps metadata
        on /status writes, so the annotation goes by a merge patch of its own.
        """
        revision = (self.deploy["metadata"].get("annotations") or {}).get(REVISION)
        if revision is not None and revision != self._stored_revision:
            patch = {"metadata": {"annotations": {REVISION: revision}}}
            stored = await self.client.patch(DEPLOYMENTS, self.deploy["metadata"]["name"], patch, self.ns)
            self._stored_revision = revision
            self.deploy["metadata"] = {**stored["metadata"], "annotations": stored["metadata"].get("annotations")}
        self.deploy = await self.client.update(DEPLOYMENTS, self.deploy, subresource="status")

    # -- finding or creating the new ReplicaSet ---------------------------------------------------

    async def get_all(self, create: bool) -> tuple[Obj | None, list[Obj]]:
        """(new ReplicaSet or None, old ReplicaSets), syncing revisions (getAllReplicaSetsAndSyncRevision)."""
        template = self._template()
        existing = next((rs for rs in by_creation(list(self.rss.values()))
                         if equal_ignore_hash((rs.get("spec") or {}).get("template") or {}, template)), None)
        old = [rs for rs in self.rss.values() if existing is None or rs is not existing]
        new_revision = max_revision(old) + 1
        if existing is not None:
            return await self._sync_existing(existing, new_revision), old
        if not create:
            return None, old
        return await self._create_new(old, new_revision), old

    async def _sync_existing(self, rs: Obj, new_revision: int) -> Obj:
        updated = copy.deepcopy(rs)
        changed = set_new_rs_annotations(self.deploy, updated, new_revision, True, max_surge(self.deploy))
        min_ready = (self.deploy.get("spec") or {}).get("minReadySeconds") or 0
        if changed or (updated["spec"].get("minReadySeconds") or 0) != min_ready:
            updated["spec"]["minReadySeconds"] = min_ready
            rs = self._remember(await self.client.update(REPLICASETS, updated))
        needs = set_deployment_revision(self.deploy, (rs["metadata"].get("annotations") or {}).get(REVISION, ""))
        status = self.deploy.setdefault("status", {})
        if cond.has_progress_deadline(self.deploy) and cond.condition(status, cond.PROGRESSING) is None:
            cond.set_condition(status, cond.new_condition(cond.PROGRESSING, "True", cond.FOUND_NEW_RS,
                                                          f'Found new replica set "{rs["metadata"]["name"]}"',
                                                          self.clock.utcnow()))
            needs = True
        if needs:
            await self.write_status()
        return rs

    def new_replica_set(self, old: list[Obj], new_revision: int) -> Obj:
        template = self._template()
        status = self.deploy.get("status") or {}
        pod_hash = compute_hash(template, status.get("collisionCount"))
        template = copy.deepcopy(template)
        labels = {**((template.get("metadata") or {}).get("labels") or {}), HASH_LABEL: pod_hash}
        template.setdefault("metadata", {})["labels"] = labels
        selector = copy.deepcopy((self.deploy.get("spec") or {}).get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH_LABEL: pod_hash}
        spec = self.deploy.get("spec") or {}
        rs: Obj = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                   "metadata": {"name": f"{self.deploy['metadata']['name']}-{pod_hash}", "namespace": self.ns,
                                "labels": labels, "ownerReferences": [owner_reference(self.deploy)]},
                   "spec": {"replicas": 0, "minReadySeconds": spec.get("minReadySeconds") or 0,
                            "selector": selector, "template": template}}
        rs["spec"]["replicas"] = new_rs_new_replicas(self.deploy, old + [rs], rs)
        set_new_rs_annotations(self.deploy, rs, new_revision, False, max_surge(self.deploy))
        return rs

    async def _create_new(self, old: list[Obj], new_revision: int) -> Obj:
        rs = self.new_replica_set(old, new_revision)
        status = self.deploy.setdefault("status", {})
        try:
            created = await self.client.create(REPLICASETS, rs, self.ns)
        except errors.StatusError as exc:
            if exc.code == 409:
                found = await self.client.get(REPLICASETS, rs["metadata"]["name"], self.ns)
                ref = controller_of(found)
                if ref is not None and ref.get("uid") == self.deploy["metadata"]["uid"] and equal_ignore_hash(
                        (found.get("spec") or {}).get("template") or {}, self._template()):
                    return self._remember(found)
                # a stranger holds the name: hash again with a bumped collision count
                status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
                await self.write_status()
                raise
            if exc.code != 403:
                cond.set_condition(status, cond.new_condition(
                    cond.REPLICA_FAILURE, "True", "FailedCreate",
                    f'Failed to create new replica set "{rs["metadata"]["name"]}": {exc.message}', self.clock.utcnow()))
                await self.write_status()
            raise
        self._remember(created)
        if replicas(created) > 0:
            self.recorder.event(self.deploy, "Normal", "ScalingReplicaSet",
                                f"Scaled up replica set {created['metadata']['name']} from 0 to {replicas(created)}")
        set_deployment_revision(self.deploy, str(new_revision))
        if cond.has_progress_deadline(self.deploy):
            cond.set_condition(status, cond.new_condition(
                cond.PROGRESSING, "True", cond.NEW_RS_CREATED,
                f'Created new replica set "{created["metadata"]["name"]}"', self.clock.utcnow()))
        await self.write_status()
        return created

    def _remember(self, rs: Obj) -> Obj:
        self.rss[rs["metadata"]["name"]] = rs
        return rs

    def current(self, rs: Obj) -> Obj:
        return self.rss.get(rs["metadata"]["name"], rs)

    # -- scaling ----------------------------------------------------------------------------------

    async def scale_rs(self, rs: Obj, size: int) -> bool:
        """Resize one ReplicaSet (and its replicas annotations); True when its size changed."""
        rs = self.current(rs)
        before = replicas(rs)
        updated = copy.deepcopy(rs)
        want = replicas(self.deploy)
        annotations_changed = set_replicas_annotations(updated, want, want + max_surge(self.deploy))
        if before == size and not annotations_changed:
            return False
        updated["spec"]["replicas"] = size
        self._remember(await self.client.update(REPLICASETS, updated))
        if before != size:
            direction = "up" if size > before else "down"
            self.recorder.event(self.deploy, "Normal", "ScalingReplicaSet",
                                f"Scaled {direction} replica set {rs['metadata']['name']} from {before} to {size}")
        return before != size

    async def scale(self, new_rs: Obj | None, old: list[Obj]) -> None:
        """Share a resize among the ReplicaSets (kube's proportional scaling)."""
        plan = proportional_scale(self.deploy, new_rs, old)
        for name, size in plan.items():
            await self.scale_rs(self.rss[name], size)

    async def cleanup(self, old: list[Obj]) -> None:
        limit = (self.deploy.get("spec") or {}).get("revisionHistoryLimit")
        for rs in to_clean_up([self.current(rs) for rs in old], None if limit is None else int(limit)):
            try:
                await self.client.delete(REPLICASETS, rs["metadata"]["name"], self.ns)
            except errors.StatusError as exc:
                if exc.code != 404:
                    raise
            self.rss.pop(rs["metadata"]["name"], None)

    # -- status -----------------------------------------------------------------------------------

    def _all(self, new_rs: Obj | None, old: list[Obj]) -> list[Obj]:
        return [self.current(rs) for rs in old] + ([self.current(new_rs)] if new_rs is not None else [])

    async def sync_status(self, new_rs: Obj | None, old: list[Obj]) -> None:
        status = cond.calculate_status(self.deploy, self._all(new_rs, old),
                                       self.current(new_rs) if new_rs else None, self.clock.utcnow())
        if status != (self.deploy.get("status") or {}):
            self.deploy["status"] = status
            await self.write_status()

    async def sync_rollout_status(self, new_rs: Obj | None, old: list[Obj]) -> float | None:
        now = self.clock.utcnow()
        status = cond.rollout_status(self.deploy, self._all(new_rs, old),
                                     self.current(new_rs) if new_rs else None, now)
        if status != (self.deploy.get("status") or {}):
            self.deploy["status"] = status
            await self.write_status()
        return cond.requeue_after(self.deploy, status, now)

    async def sync(self) -> float | None:
        """Scaling and status only, no rollout progress: paused Deployments and resizes."""
        new_rs, old = await self.get_all(create=False)
        await self.scale(new_rs, old)
        if (self.deploy.get("spec") or {}).get("paused"):
            await self.cleanup(old)
        await self.sync_status(new_rs, old)
        return None
