"""The garbage collector: cascading deletion through ownerReferences (kube's garbagecollector)."""

from pocketkube.controllers.gc.collector import GarbageCollector
from pocketkube.controllers.gc.plan import OwnerState, plan_dependent

__all__ = ["GarbageCollector", "OwnerState", "plan_dependent"]
