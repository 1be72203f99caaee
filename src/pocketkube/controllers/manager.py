"""Every controller `pocketkube server` runs (kube-controller-manager's job), started together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

from pocketkube.client.rest import ApiClient
from pocketkube.controllers.base import Controller
from pocketkube.controllers.cronjob import CronJobController
from pocketkube.controllers.daemonset import DaemonSetController
from pocketkube.controllers.deployment import DeploymentController
from pocketkube.controllers.gc import GarbageCollector
from pocketkube.controllers.job import JobController
from pocketkube.controllers.namespace import NamespaceController
from pocketkube.controllers.replicaset import ReplicaSetController
from pocketkube.controllers.statefulset import StatefulSetController
from pocketkube.controllers.tainteviction import TaintEvictionController
from pocketkube.controllers.volumes import LocalPathProvisioner, PersistentVolumeController

log = logging.getLogger(__name__)


CONTROLLERS: tuple[Callable[[ApiClient], Controller], ...] = (
    ReplicaSetController, DeploymentController, StatefulSetController, GarbageCollector, NamespaceController,
    JobController, CronJobController, DaemonSetController, PersistentVolumeController, TaintEvictionController)


async def _supervise(make: Callable[[ApiClient], Controller], client: ApiClient) -> None:
    """A controller that fails is logged and started afresh after a pause, never lost."""
    while True:
        controller = make(client)
        try:
            await controller.run()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("controller %s stopped with an error; restarting", controller.name)
            await asyncio.sleep(2.0)


async def run_controllers(client: ApiClient, volumes_root: Path) -> None:
    """Run every controller; the local-path provisioner keeps its volumes under `volumes_root`."""
    provisioner: Callable[[ApiClient], Controller] = partial(LocalPathProvisioner, volumes_root=str(volumes_root))
    makers = [*CONTROLLERS, provisioner]
    await asyncio.gather(*(_supervise(make, client) for make in makers))
