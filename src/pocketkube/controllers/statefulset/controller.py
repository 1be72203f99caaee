"""The StatefulSet controller: stable, ordered pods with their own claims.

reconcile(key): adopt orphan pods named `<set>-<n>` that match the selector; find or create the
ControllerRevision of the current template (the update revision); run the actions of `plan.plan`
(claims are created before their pod and never deleted with it); delete claims of scaled-away
ordinals when `whenScaled: Delete`; write status; prune revision history. Pods have fixed names, so
a create that finds the pod already there (a stale cache) is a 409 and simply retried, and deletes
carry a UID precondition so a stale view never deletes the replacement.
"""

from __future__ import annotations

import logging
from typing import Any

from pocketkube.api import errors, resources
from pocketkube.api.obj import Obj
from pocketkube.api.selectors import selector_from_object
from pocketkube.client import ApiClient
from pocketkube.client.informer import Handlers
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.controllers.base import Controller, controller_of
from pocketkube.controllers.common.ownership import claim_objects
from pocketkube.controllers.statefulset import identity, revision
from pocketkube.controllers.statefulset.plan import Create, Delete, available_in, plan
from pocketkube.controllers.statefulset.status import compute_status

log = logging.getLogger(__name__)

PODS = resources.require("", "v1", "pods")
CLAIMS = resources.require("", "v1", "persistentvolumeclaims")
STATEFULSETS = resources.require("apps", "v1", "statefulsets")
REVISIONS = resources.require("apps", "v1", "controllerrevisions")
KIND = "StatefulSet"


def _owned_by(obj: Obj, uid: str) -> bool:
    ref = controller_of(obj)
    return ref is not None and ref.get("uid") == uid


class StatefulSetController(Controller):
    name = "statefulset-controller"
    workers = 4

    def __init__(self, client: ApiClient, clock: Clock = REAL_CLOCK):
        super().__init__(client, clock)
        self.sets = self.informer(STATEFULSETS, self.own())
        self.pods = self.informer(PODS, Handlers(on_add=self._pod_event, on_update=self._pod_updated,
                                                 on_delete=self._pod_event))
        self.revisions = self.informer(REVISIONS, self.watch_owned(KIND))
        self.claims = self.informer(CLAIMS)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        self._pod_event(old)
        self._pod_event(new)

    def _pod_event(self, pod: Obj) -> None:
        if controller_of(pod) is not None:
            self.enqueue_owner(pod, KIND)
            return
        # An orphan may be adopted by a set whose selector matches it.
        ns, labels = pod["metadata"].get("namespace"), pod["metadata"].get("labels") or {}
        for sts in self.sets.list():
            if sts["metadata"].get("namespace") == ns and \
                    selector_from_object((sts.get("spec") or {}).get("selector")).matches(labels):
                self.enqueue(sts)

    # -- reconcile ------------------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        sts = self.sets.get(key)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return None
        md, spec = sts["metadata"], sts.get("spec") or {}
        ns, uid, name = md.get("namespace"), md["uid"], md["name"]
        pods = await self._claim_pods(sts)
        revisions = [r for r in self.revisions.list()
                     if r["metadata"].get("namespace") == ns and _owned_by(r, uid)]
        collision_count = int((sts.get("status") or {}).get("collisionCount") or 0)
        update, collision_count = await self._update_revision(sts, revisions, collision_count)
        by_name = {r["metadata"]["name"]: r for r in revisions}
        by_name[update["metadata"]["name"]] = update
        current_name = (sts.get("status") or {}).get("currentRevision") or ""
        current = by_name.get(current_name, update)

        replicas = int(spec.get("replicas", 1))
        live: dict[int, Obj] = {}
        condemned: list[tuple[int, Obj]] = []
        for pod in pods:
            ordinal = identity.ordinal_of(name, pod["metadata"]["name"])
            if ordinal is not None and ordinal < replicas:
                live[ordinal] = pod
            else:
                condemned.append((-1 if ordinal is None else ordinal, pod))
        condemned.sort(key=lambda item: item[0], reverse=True)

        now = self.clock.utcnow()
        templates = {current["metadata"]["name"]: revision.template_of(current),
                     update["metadata"]["name"]: revision.template_of(update)}
        for action in plan(spec, live, [p for _, p in condemned], current["metadata"]["name"],
                           update["metadata"]["name"], now):
            if isinstance(action, Create):
                await self._create(sts, action.ordinal, templates[action.revision], action.revision)
            elif isinstance(action, Delete):
                await self._delete(sts, action.pod)

        await self._delete_scaled_claims(sts, replicas, {o for o, _ in condemned} | set(live))
        status = compute_status(sts, pods, current["metadata"]["name"], update["metadata"]["name"],
                                collision_count, now)
        if status != (sts.get("status") or {}):
            await self.client.update(STATEFULSETS, {**sts, "status": status}, subresource="status")
        live_revisions = {status["currentRevision"], status["updateRevision"]} | {
            identity.revision_of(p) for p in pods}
        limit = int(spec.get("revisionHistoryLimit", 10))
        for old in revision.history_to_delete(by_name.values(), live_revisions, limit):
            await self._ignore_missing(self.client.delete(REVISIONS, old["metadata"]["name"], ns))
        waits = [w for p in live.values()
                 if (w := available_in(p, int(spec.get("minReadySeconds") or 0), now))]
        return min(waits) if waits else None

    async def _ignore_missing(self, call: Any) -> Obj | None:
        try:
            result: Obj = await call
            return result
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
            return None

    async def _claim_pods(self, sts: Obj) -> list[Obj]:
        """The set's pods: claimed by its selector among pods named like its members (kube's isMemberOf),
        orphans adopted, pods it controls that no longer match released."""
        md = sts["metadata"]
        selector = selector_from_object((sts.get("spec") or {}).get("selector"))
        candidates = [p for p in self.pods.list() if p["metadata"].get("namespace") == md.get("namespace")]

        def member(pod: Obj) -> bool:
            return identity.ordinal_of(md["name"], pod["metadata"]["name"]) is not None

        return await claim_objects(self.client, PODS, sts, selector, candidates, match=member)

    async def _update_revision(self, sts: Obj, revisions: list[Obj], collision_count: int) -> tuple[Obj, int]:
        """The revision of the set's current template: reused (renumbered if older), or created."""
        ns = sts["metadata"].get("namespace")
        data = revision.revision_data(sts)
        latest = revision.next_number(revisions) - 1
        equal = revision.equal_revisions(revisions, data)
        if equal:
            found = equal[-1]
            if revision.number(found) == latest:
                return found, collision_count
            bumped = await self.client.patch(REVISIONS, found["metadata"]["name"], {"revision": latest + 1}, ns)
            return bumped, collision_count
        while True:
            candidate = revision.new_revision(sts, latest + 1, collision_count)
            try:
                return await self.client.create(REVISIONS, candidate, ns), collision_count
            except errors.StatusError as exc:
                if exc.code != 409:
                    raise
            existing = await self.client.get(REVISIONS, candidate["metadata"]["name"], ns)
            if existing.get("data") == data and _owned_by(existing, sts["metadata"]["uid"]):
                return existing, collision_count
            collision_count += 1  # a different revision holds the name: hash again

    async def _create(self, sts: Obj, ordinal: int, template: Obj, revision_name: str) -> None:
        set_name = sts["metadata"]["name"]
        pod = identity.new_pod(sts, template, ordinal, revision_name)
        pod_name = pod["metadata"]["name"]
        for claim in identity.new_claims(sts, ordinal):
            cmd = claim["metadata"]
            existing = self.claims.get(f"{cmd['namespace']}/{cmd['name']}")
            if existing is not None:
                if existing["metadata"].get("deletionTimestamp"):
                    raise errors.StatusError(409, "Conflict", f"pvc {cmd['name']} is being deleted")
                continue
            try:
                await self.client.create(CLAIMS, claim, cmd["namespace"])
            except errors.StatusError as exc:
                if exc.code == 409:
                    continue
                self.recorder.event(sts, "Warning", "FailedCreate", f"create Claim {cmd['name']} for Pod "
                                    f"{pod_name} in StatefulSet {set_name} failed error: {exc.message}")
                raise
            self.recorder.event(sts, "Normal", "SuccessfulCreate",
                                f"create Claim {cmd['name']} Pod {pod_name} in StatefulSet {set_name} success")
        try:
            await self.client.create(PODS, pod, pod["metadata"]["namespace"])
        except errors.StatusError as exc:
            if exc.code != 409:
                self.recorder.event(sts, "Warning", "FailedCreate",
                                    f"create Pod {pod_name} in StatefulSet {set_name} failed error: {exc.message}")
            raise
        self.recorder.event(sts, "Normal", "SuccessfulCreate",
                            f"create Pod {pod_name} in StatefulSet {set_name} successful")

    async def _delete(self, sts: Obj, pod: Obj) -> None:
        pmd = pod["metadata"]
        try:
            await self.client.delete(PODS, pmd["name"], pmd.get("namespace"), preconditions={"uid": pmd["uid"]})
        except errors.StatusError as exc:
            if exc.code == 404:
                return
            raise
        self.recorder.event(sts, "Normal", "SuccessfulDelete",
                            f"delete Pod {pmd['name']} in StatefulSet {sts['metadata']['name']} successful")

    async def _delete_scaled_claims(self, sts: Obj, replicas: int, with_pods: set[int]) -> None:
        """`whenScaled: Delete`: claims of ordinals at or above replicas go once their pod is gone."""
        spec = sts.get("spec") or {}
        if (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenScaled") != "Delete":
            return
        md = sts["metadata"]
        names = {str((t.get("metadata") or {}).get("name", "")) for t in identity.claim_templates(sts)}
        for claim in self.claims.list():
            cmd = claim["metadata"]
            if cmd.get("namespace") != md.get("namespace") or cmd.get("deletionTimestamp"):
                continue
            for template in names:
                prefix = f"{template}-"
                if cmd["name"].startswith(prefix):
                    ordinal = identity.ordinal_of(md["name"], cmd["name"][len(prefix):])
                    if ordinal is not None and ordinal >= replicas and ordinal not in with_pods:
                        await self._ignore_missing(self.client.delete(CLAIMS, cmd["name"], cmd["namespace"]))
                        break
