"""Revision bookkeeping in annotations (kube's deployment util), pure.

Each ReplicaSet carries `deployment.kubernetes.io/revision`; a new template gets max+1, and an old
ReplicaSet brought back (rollback) is moved to max+1 too, so `kubectl rollout history` lists it last.
The Deployment mirrors its new ReplicaSet's revision. The Deployment's own annotations (e.g.
`kubernetes.io/change-cause`) are copied onto the new ReplicaSet, except the controller's own.
"""

from __future__ import annotations

from pocketkube.api.obj import Obj
from pocketkube.controllers.deployment.rollout import DESIRED_REPLICAS, MAX_REPLICAS

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
_NOT_COPIED = {"kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY, DESIRED_REPLICAS,
               MAX_REPLICAS, "deprecated.deployment.rollback.to"}


def revision_of(obj: Obj) -> int:
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION)
    try:
        return int(value) if value else 0
    except ValueError:
        return 0


def max_revision(rss: list[Obj]) -> int:
    return max((revision_of(rs) for rs in rss), default=0)


def annotations_of(obj: Obj) -> dict[str, str]:
    md = obj.setdefault("metadata", {})
    if not isinstance(md.get("annotations"), dict):
        md["annotations"] = {}
    out: dict[str, str] = md["annotations"]
    return out


def set_new_rs_annotations(deploy: Obj, rs: Obj, new_revision: int, exists: bool, max_surge: int) -> bool:
    """Copy the Deployment's annotations, bump the revision; in place, True when anything changed."""
    changed = False
    target = annotations_of(rs)
    for key, value in ((deploy.get("metadata") or {}).get("annotations") or {}).items():
        if key not in _NOT_COPIED and target.get(key) != value:
            target[key] = value
            changed = True
    old = target.get(REVISION, "")
    try:
        old_int = int(old) if old else 0
    except ValueError:
        return changed
    if old_int < new_revision:
        target[REVISION] = str(new_revision)
        changed = True
        if old:
            history = [h for h in target.get(REVISION_HISTORY, "").split(",") if h]
            target[REVISION_HISTORY] = ",".join(history + [old])
    if not exists and set_replicas_annotations(rs, _replicas(deploy), _replicas(deploy) + max_surge):
        changed = True
    return changed


def _replicas(obj: Obj) -> int:
    return int((obj.get("spec") or {}).get("replicas") or 0)


def set_replicas_annotations(rs: Obj, desired: int, max_replicas: int) -> bool:
    target = annotations_of(rs)
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(max_replicas))):
        if target.get(key) != value:
            target[key] = value
            changed = True
    return changed


def set_deployment_revision(deploy: Obj, revision: str) -> bool:
    target = annotations_of(deploy)
    if target.get(REVISION) == revision:
        return False
    target[REVISION] = revision
    return True


def to_clean_up(old_rss: list[Obj], limit: int | None) -> list[Obj]:
    """Old, empty, settled ReplicaSets beyond revisionHistoryLimit, oldest revision first."""
    if limit is None:
        return []
    alive = [rs for rs in old_rss if not rs["metadata"].get("deletionTimestamp")]
    diff = len(alive) - limit
    if diff <= 0:
        return []
    ordered = sorted(alive, key=lambda rs: (revision_of(rs), rs["metadata"].get("creationTimestamp") or ""))
    out = []
    for rs in ordered[:diff]:
        status = rs.get("status") or {}
        settled = int(status.get("observedGeneration") or 0) >= int(rs["metadata"].get("generation") or 0)
        if _replicas(rs) == 0 and not status.get("replicas") and settled:
            out.append(rs)
    return out
