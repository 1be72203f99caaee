"""Every controller `pocketkube server` runs (kube-controller-manager's job), started together.

One clock is handed to every controller, so a test (or a simulation) moves time for all at once.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from pathlib import Path
from typing import Protocol

from pocketkube.client.rest import ApiClient
from pocketkube.clock import REAL_CLOCK, Clock
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


class MakeController(Protocol):
    def __call__(self, client: ApiClient, *, clock: Clock) -> Controller: ...


CONTROLLERS: tuple[MakeController, ...] = (
    ReplicaSetController, DeploymentController, StatefulSetController, GarbageCollector, NamespaceController,
    JobController, CronJobController, DaemonSetController, PersistentVolumeController, TaintEvictionController)


async def _supervise(make: MakeController, client: ApiClient, clock: Clock) -> None:
    """A controller that fails is logged and started afresh after a pause, never lost."""
    while True:
        controller = make(client, clock=clock)
        try:
            await controller.run()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("controller %s stopped with an error; restarting", controller.name)
            await asyncio.sleep(2.0)


async def run_controllers(client: ApiClient, volumes_root: Path, clock: Clock = REAL_CLOCK) -> None:
    """Run every controller; the local-path provisioner keeps its volumes under `volumes_root`."""
    provisioner: MakeController = partial(LocalPathProvisioner, volumes_root=str(volumes_root))
    makers = [*CONTROLLERS, provisioner]
    await asyncio.gather(*(_supervise(make, client, clock) for make in makers))
