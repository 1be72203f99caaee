"""StatefulSet controller: pods `<set>-0..N-1` with stable hostnames and claims, ordered or parallel,
rolled out by partition or on delete, with ControllerRevisions. Public surface: StatefulSetController."""

from pocketkube.controllers.statefulset.controller import StatefulSetController

__all__ = ["StatefulSetController"]
