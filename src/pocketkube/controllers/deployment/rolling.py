"""The RollingUpdate strategy (kube's rolling.go): grow the new ReplicaSet within maxSurge, shrink
old ones within maxUnavailable, one step per reconcile; ReplicaSet status changes bring the next."""

from __future__ import annotations

from pocketkube.controllers.deployment.conditions import is_complete
from pocketkube.controllers.deployment.rollout import new_rs_new_replicas, reconcile_old, replicas
from pocketkube.controllers.deployment.sync import DeploymentSync


async def rollout_rolling(sync: DeploymentSync) -> float | None:
    new_rs, old = await sync.get_all(create=True)
    assert new_rs is not None
    want = replicas(sync.deploy)
    if replicas(new_rs) != want:
        size = want if replicas(new_rs) > want else new_rs_new_replicas(
            sync.deploy, [sync.current(rs) for rs in old] + [new_rs], new_rs)
        if await sync.scale_rs(new_rs, size):
            return await sync.sync_rollout_status(new_rs, old)
    scaled = False
    # unhealthy old pods first, then healthy ones within the availability budget
    for plan in reconcile_old(sync.deploy, sync.current(new_rs), [sync.current(rs) for rs in old]):
        for name, size in plan.items():
            scaled = await sync.scale_rs(sync.rss[name], size) or scaled
    if scaled:
        return await sync.sync_rollout_status(new_rs, old)
    if is_complete(sync.deploy, sync.deploy.get("status") or {}):
        await sync.cleanup(old)
    return await sync.sync_rollout_status(new_rs, old)
