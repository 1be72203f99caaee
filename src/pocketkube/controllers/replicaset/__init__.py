"""The ReplicaSet controller: `ReplicaSetController(client).run()`."""

from pocketkube.controllers.replicaset.controller import ReplicaSetController

__all__ = ["ReplicaSetController"]
