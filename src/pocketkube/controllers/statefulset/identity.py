"""A StatefulSet pod's stable identity: its name `<set>-<ordinal>`, hostname and subdomain, the
identity labels, and its claims `<template>-<set>-<ordinal>` — pure functions over JSON objects.

A pod is built from a revision's template (not always the set's current one: during a partitioned
rollout, pods below the partition are recreated at the current revision), so `new_pod` takes the
template explicitly.
"""

from __future__ import annotations

import copy
import re

from pocketkube.api.obj import Obj
from pocketkube.controllers.base import owner_reference

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")


def pod_name(set_name: str, ordinal: int) -> str:
    return f"{set_name}-{ordinal}"


def ordinal_of(set_name: str, name: str) -> int | None:
    """The ordinal of a pod named `<set>-<n>`; None for any other name."""
    match = _ORDINAL.match(name)
    if match is None or match.group(1) != set_name:
        return None
    return int(match.group(2))


def claim_name(template_name: str, set_name: str, ordinal: int) -> str:
    return f"{template_name}-{set_name}-{ordinal}"


def claim_templates(sts: Obj) -> list[Obj]:
    return [t for t in (sts.get("spec") or {}).get("volumeClaimTemplates") or [] if isinstance(t, dict)]


def new_claims(sts: Obj, ordinal: int) -> list[Obj]:
    """The claims of one ordinal: each template renamed, labelled with the set's selector labels, and
    owned by the set when the retention policy deletes them with it."""
    md = sts["metadata"]
    spec = sts.get("spec") or {}
    match_labels = (spec.get("selector") or {}).get("matchLabels") or {}
    when_deleted = (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenDeleted", "Retain")
    claims = []
    for template in claim_templates(sts):
        tmd = template.get("metadata") or {}
        cmd: Obj = {"name": claim_name(str(tmd.get("name", "")), md["name"], ordinal),
                    "namespace": md.get("namespace"),
                    "labels": {**(tmd.get("labels") or {}), **match_labels}}
        if tmd.get("annotations"):
            cmd["annotations"] = dict(tmd["annotations"])
        if when_deleted == "Delete":
            cmd["ownerReferences"] = [owner_reference(sts)]
        claims.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": cmd,
                       "spec": copy.deepcopy(template.get("spec") or {})})
    return claims


def new_pod(sts: Obj, template: Obj, ordinal: int, revision_name: str) -> Obj:
    """The pod for `ordinal` from `template`, controlled by the set, with its identity and claims."""
    md = sts["metadata"]
    name = pod_name(md["name"], ordinal)
    tmd = template.get("metadata") or {}
    labels = {**(tmd.get("labels") or {}), POD_NAME_LABEL: name, POD_INDEX_LABEL: str(ordinal),
              REVISION_LABEL: revision_name}
    pod_md: Obj = {"name": name, "namespace": md.get("namespace"), "labels": labels,
                   "ownerReferences": [owner_reference(sts)]}
    for key in ("annotations", "finalizers"):
        if tmd.get(key):
            pod_md[key] = copy.deepcopy(tmd[key])
    spec = copy.deepcopy(template.get("spec") or {})
    spec["hostname"] = name
    service = (sts.get("spec") or {}).get("serviceName")
    if service:
        spec["subdomain"] = service
    claims = {str((t.get("metadata") or {}).get("name", "")): claim_name(str((t.get("metadata") or {})
                                                                             .get("name", "")), md["name"], ordinal)
              for t in claim_templates(sts)}
    if claims:
        # A template volume of a claim's name is replaced by the claim, as kube's updateStorage does.
        volumes = [v for v in spec.get("volumes") or [] if v.get("name") not in claims]
        volumes += [{"name": vol, "persistentVolumeClaim": {"claimName": claim}} for vol, claim in claims.items()]
        spec["volumes"] = volumes
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_md, "spec": spec}


def revision_of(pod: Obj) -> str:
    return str(((pod.get("metadata") or {}).get("labels") or {}).get(REVISION_LABEL, ""))
