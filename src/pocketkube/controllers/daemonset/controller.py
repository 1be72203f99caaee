"""The DaemonSet controller: one pod per eligible node, rolled out through ControllerRevisions.

reconcile: make sure a ControllerRevision holds the current template (`<ds>-<hash>`, revision
bumped when an old template comes back), group the DaemonSet's pods by node (the node they run on,
or are pinned to by node affinity while the scheduler has yet to bind them), apply the pure plan,
prune old revisions beyond revisionHistoryLimit, and write status. Any Node change looks at every
DaemonSet.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from pocketkube.api import errors, resources
from pocketkube.api.obj import Obj
from pocketkube.client.informer import Handlers, object_key
from pocketkube.client.rest import ApiClient
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.controllers.base import Controller, controller_of, owner_reference
from pocketkube.controllers.common.expectations import Expectations
from pocketkube.controllers.common.ownership import controller_key
from pocketkube.controllers.daemonset import nodes as eligibility
from pocketkube.controllers.daemonset import rollout

log = logging.getLogger(__name__)

DAEMONSETS = resources.require("apps", "v1", "daemonsets")
PODS = resources.require("", "v1", "pods")
NODES = resources.require("", "v1", "nodes")
REVISIONS = resources.require("apps", "v1", "controllerrevisions")


class DaemonSetController(Controller):
    name = "daemonset-controller"

    def __init__(self, client: ApiClient, clock: Clock = REAL_CLOCK):
        super().__init__(client, clock)
        self.expectations = Expectations(clock=clock)
        self.daemonsets = self.informer(DAEMONSETS, self.own())
        self.pods = self.informer(PODS, self.watch_owned("DaemonSet"))
        self.pods.add_handlers(self.expectations.observer(lambda pod: controller_key(pod, "DaemonSet")))
        self.revisions = self.informer(REVISIONS, self.watch_owned("DaemonSet"))
        every = Handlers(on_add=lambda _n: self._all(), on_update=lambda _o, _n: self._all(),
                         on_delete=lambda _n: self._all())
        self.nodes = self.informer(NODES, every)

    def _all(self) -> None:
        for ds in self.daemonsets.list():
            self.enqueue(ds)

    def _owned(self, informer: Any, ds: Obj) -> list[Obj]:
        uid, ns = ds["metadata"]["uid"], ds["metadata"]["namespace"]
        return [o for o in informer.list() if o["metadata"].get("namespace") == ns
                and (controller_of(o) or {}).get("uid") == uid]

    async def reconcile(self, key: str) -> float | None:
        ds = self.daemonsets.get(key)
        if ds is None:
            self.expectations.forget(key)
            return None
        if ds["metadata"].get("deletionTimestamp"):
            return None
        template = (ds.get("spec") or {}).get("template") or {}
        collisions = int((ds.get("status") or {}).get("collisionCount") or 0)
        current_hash = rollout.template_hash(template, collisions)
        await self._sync_revisions(ds, template, current_hash)
        if not self.expectations.satisfied(key):
            return None
        now = self.clock.utcnow()
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        states = self._node_states(ds, template)
        strategy = ((ds.get("spec") or {}).get("updateStrategy") or {}).get("type", "RollingUpdate")
        desired = sum(1 for n in states if n.should_run)
        todo = rollout.plan(states, current_hash, strategy == "RollingUpdate",
                            rollout.max_unavailable(ds, desired), min_ready, now)
        await self._create_on(key, ds, template, current_hash, todo.create_on)
        await self._delete_pods(key, ds, todo.delete)
        await self._write_status(ds, rollout.status_for(ds, states, current_hash, min_ready, now))
        return float(min_ready) if min_ready else None

    def _node_states(self, ds: Obj, template: Obj) -> list[rollout.NodeState]:
        by_node: dict[str, list[Obj]] = {}
        for pod in self._owned(self.pods, ds):
            target = eligibility.target_node(pod)
            if target is not None and not pod["metadata"].get("deletionTimestamp"):
                by_node.setdefault(target, []).append(pod)
        states = []
        spec = template.get("spec") or {}
        for node in self.nodes.list():
            name = node["metadata"]["name"]
            run, stay = eligibility.should_run(spec, node)
            states.append(rollout.NodeState(name, run, stay, by_node.pop(name, [])))
        for name, pods in by_node.items():  # pods on nodes that no longer exist
            states.append(rollout.NodeState(name, False, False, pods))
        return states

    async def _create_on(self, key: str, ds: Obj, template: Obj, current_hash: str, nodes: list[str]) -> None:
        """Create a daemon pod on each node, each expected before it is created."""
        self.expectations.expect_creations(key, len(nodes))
        for done, node in enumerate(nodes):
            try:
                await self._create(ds, template, current_hash, node)
            except BaseException:
                self.expectations.lower(key, adds=len(nodes) - done)  # this one and those never tried
                raise

    async def _delete_pods(self, key: str, ds: Obj, pods: list[Obj]) -> None:
        keys = [object_key(p) for p in pods]
        self.expectations.expect_deletions(key, keys)
        for done, pod in enumerate(pods):
            try:
                deleted = await self._delete(ds, pod)
            except BaseException:
                self.expectations.lower(key, deletes=keys[done:])
                raise
            if not deleted:
                self.expectations.lower(key, deletes=keys[done:done + 1])

    async def _create(self, ds: Obj, template: Obj, current_hash: str, node: str) -> None:
        md = template.get("metadata") or {}
        labels = dict(md.get("labels") or {})
        labels[rollout.HASH_LABEL] = current_hash
        labels["pod-template-generation"] = str(ds["metadata"].get("generation", 1))
        pod_md: Obj = {"generateName": f"{ds['metadata']['name']}-", "labels": labels,
                       "ownerReferences": [owner_reference(ds)]}
        if md.get("annotations"):
            pod_md["annotations"] = dict(md["annotations"])
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": pod_md,
               "spec": eligibility.pin_to_node(template.get("spec") or {}, node)}
        try:
            created = await self.client.create(PODS, pod, ds["metadata"]["namespace"])
        except errors.StatusError as exc:
            self.recorder.event(ds, "Warning", "FailedCreate", f"Error creating: {exc.message}")
            raise
        self.recorder.event(ds, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")

    async def _delete(self, ds: Obj, pod: Obj) -> bool:
        """Delete one pod; False when it was already gone."""
        md = pod["metadata"]
        try:
            await self.client.delete(PODS, md["name"], md["namespace"])
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
            return False
        self.recorder.event(ds, "Normal", "SuccessfulDelete", f"Deleted pod: {md['name']}")
        return True

    async def _sync_revisions(self, ds: Obj, template: Obj, current_hash: str) -> None:
        owned = self._owned(self.revisions, ds)
        top = max((int(r.get("revision") or 0) for r in owned), default=0)
        mine = next((r for r in owned if (r["metadata"].get("labels") or {}).get(rollout.HASH_LABEL)
                     == current_hash), None)
        ns, name = ds["metadata"]["namespace"], ds["metadata"]["name"]
        if mine is None:
            labels = dict((template.get("metadata") or {}).get("labels") or {})
            labels[rollout.HASH_LABEL] = current_hash
            data = {"spec": {"template": {**copy.deepcopy(template), "$patch": "replace"}}}
            body = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
                    "metadata": {"name": f"{name}-{current_hash}", "labels": labels,
                                 "ownerReferences": [owner_reference(ds)]},
                    "data": data, "revision": top + 1}
            try:
                await self.client.create(REVISIONS, body, ns)
            except errors.StatusError as exc:
                if exc.code != 409:
                    raise
        elif int(mine.get("revision") or 0) < top:  # an old template is back: it becomes the newest
            await self.client.patch(REVISIONS, mine["metadata"]["name"], {"revision": top + 1}, ns)
        limit = int((ds.get("spec") or {}).get("revisionHistoryLimit", 10))
        in_use = {(p["metadata"].get("labels") or {}).get(rollout.HASH_LABEL) for p in self._owned(self.pods, ds)}
        old = sorted((r for r in owned if (r["metadata"].get("labels") or {}).get(rollout.HASH_LABEL)
                      not in in_use | {current_hash}), key=lambda r: int(r.get("revision") or 0))
        for rev in old[:max(0, len(old) - limit)]:
            try:
                await self.client.delete(REVISIONS, rev["metadata"]["name"], ns)
            except errors.StatusError as exc:
                if exc.code != 404:
                    raise

    async def _write_status(self, ds: Obj, status: Obj) -> None:
        if status == (ds.get("status") or {}):
            return
        body = copy.deepcopy(ds)
        body["status"] = status
        await self.client.update(DAEMONSETS, body, subresource="status")
