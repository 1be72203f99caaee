"""The Recreate strategy (kube's recreate.go): scale every old ReplicaSet to zero, wait until none of
their pods is left (terminating ones included), and only then create and scale up the new one."""

from __future__ import annotations

from pocketkube.api.obj import Obj
from pocketkube.api.podutil import is_pod_terminal
from pocketkube.controllers.base import controller_of
from pocketkube.controllers.deployment.conditions import is_complete
from pocketkube.controllers.deployment.rollout import replicas
from pocketkube.controllers.deployment.sync import DeploymentSync


def old_pods_running(new_rs: Obj | None, old: list[Obj], pods: list[Obj]) -> bool:
    if any(int((rs.get("status") or {}).get("replicas") or 0) > 0 for rs in old):
        return True
    old_uids = {rs["metadata"]["uid"] for rs in old} - ({new_rs["metadata"]["uid"]} if new_rs else set())
    for pod in pods:
        ref = controller_of(pod)
        if ref is not None and ref.get("uid") in old_uids and not is_pod_terminal(pod):
            return True
    return False


async def rollout_recreate(sync: DeploymentSync) -> float | None:
    new_rs, old = await sync.get_all(create=False)
    scaled = False
    for rs in old:
        if replicas(sync.current(rs)) > 0:
            scaled = await sync.scale_rs(rs, 0) or scaled
    if scaled:
        return await sync.sync_rollout_status(new_rs, old)
    if old_pods_running(new_rs, [sync.current(rs) for rs in old], sync.pods):
        return await sync.sync_rollout_status(new_rs, old)
    if new_rs is None:
        new_rs, old = await sync.get_all(create=True)
        assert new_rs is not None
    if await sync.scale_rs(new_rs, replicas(sync.deploy)):
        return await sync.sync_rollout_status(new_rs, old)
    if is_complete(sync.deploy, sync.deploy.get("status") or {}):
        await sync.cleanup(old)
    return await sync.sync_rollout_status(new_rs, old)
