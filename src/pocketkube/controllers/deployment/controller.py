"""The Deployment controller: claim ReplicaSets, then pause/scale/roll out by strategy (syncDeployment)."""

from __future__ import annotations

import logging

from pocketkube.api import resources
from pocketkube.api.obj import Obj
from pocketkube.api.selectors import selector_from_object
from pocketkube.client import ApiClient
from pocketkube.client.informer import Handlers
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.controllers.base import Controller, controller_of
from pocketkube.controllers.common.ownership import claim_objects, labels_of
from pocketkube.controllers.deployment import conditions as cond
from pocketkube.controllers.deployment.recreate import rollout_recreate
from pocketkube.controllers.deployment.rolling import rollout_rolling
from pocketkube.controllers.deployment.rollout import is_scaling_event
from pocketkube.controllers.deployment.sync import DEPLOYMENTS, REPLICASETS, DeploymentSync

log = logging.getLogger(__name__)

PODS = resources.require("", "v1", "pods")


class DeploymentController(Controller):
    name = "deployment-controller"
    workers = 4

    def __init__(self, client: ApiClient, clock: Clock = REAL_CLOCK):
        super().__init__(client, clock)
        self.deployments = self.informer(DEPLOYMENTS, self.own())
        owned = self.watch_owned("Deployment")
        self.replicasets = self.informer(REPLICASETS, Handlers(
            on_add=self._rs_added, on_update=owned.on_update, on_delete=owned.on_delete))
        # pods matter only to Recreate, which waits until the old ones are gone
        self.pods = self.informer(PODS, Handlers(on_delete=self._pod_deleted))

    def _rs_added(self, rs: Obj) -> None:
        if controller_of(rs) is not None:
            self.enqueue_owner(rs, "Deployment")
            return
        ns, labels = rs["metadata"].get("namespace"), labels_of(rs)
        for deploy in self.deployments.list():
            if deploy["metadata"].get("namespace") == ns and \
                    selector_from_object((deploy.get("spec") or {}).get("selector")).matches(labels):
                self.enqueue(deploy)

    def _pod_deleted(self, pod: Obj) -> None:
        ref = controller_of(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.replicasets.get(f"{pod['metadata'].get('namespace')}/{ref['name']}")
        if rs is not None:
            self.enqueue_owner(rs, "Deployment")

    async def reconcile(self, key: str) -> float | None:
        deploy = self.deployments.get(key)
        if deploy is None:
            return None
        spec = deploy.get("spec") or {}
        selector_spec = spec.get("selector") or {}
        if not selector_spec.get("matchLabels") and not selector_spec.get("matchExpressions"):
            self.recorder.event(deploy, "Warning", "SelectingAll",
                                "This deployment is selecting all pods. A non-empty selector is required.")
            return None
        rss = await self._claim(deploy)
        uids = {rs["metadata"]["uid"] for rs in rss}
        pods = [p for p in self.pods.list() if (controller_of(p) or {}).get("uid") in uids]
        sync = DeploymentSync(self.client, self.recorder, deploy, rss, pods, self.clock)
        if deploy["metadata"].get("deletionTimestamp"):
            new_rs, old = await sync.get_all(create=False)
            await sync.sync_status(new_rs, old)
            return None
        paused = cond.paused_condition(sync.deploy, self.clock.utcnow())
        if paused is not None:
            cond.set_condition(sync.deploy.setdefault("status", {}), paused)
            await sync.write_status()
        if spec.get("paused"):
            return await sync.sync()
        if is_scaling_event(sync.deploy, rss):
            return await sync.sync()
        if (spec.get("strategy") or {}).get("type") == "Recreate":
            return await rollout_recreate(sync)
        return await rollout_rolling(sync)

    async def _claim(self, deploy: Obj) -> list[Obj]:
        ns = deploy["metadata"].get("namespace")
        selector = selector_from_object((deploy.get("spec") or {}).get("selector"))
        candidates = [rs for rs in self.replicasets.list() if rs["metadata"].get("namespace") == ns]
        return await claim_objects(self.client, REPLICASETS, deploy, selector, candidates)
