"""Labels the agent puts on runtime sandboxes and containers, and helpers to read them back.

The runtime is the agent's memory: after a restart (even `kill -9`) everything the agent needs to
re-adopt a pod's containers — whose pod, which spec container, which attempt, under which spec —
is read back from these labels, as the kubelet does with its `io.kubernetes.*` labels and
annotations. Keys the kubelet has keep its names; the rest are `io.pocketkube.*`.

The spec hash plays the kubelet's `io.kubernetes.container.hash` role: a running container whose
hash differs from the hash of its current spec (e.g. the image was updated) is restarted. It is
FNV-1a 32 over the canonical JSON of the container spec, printed in hex.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import orjson

from pocketkube.api.hashing import fnv32a

POD_UID = "io.kubernetes.pod.uid"
POD_NAME = "io.kubernetes.pod.name"
POD_NAMESPACE = "io.kubernetes.pod.namespace"
CONTAINER_NAME = "io.kubernetes.container.name"
CONTAINER_HASH = "io.kubernetes.container.hash"
CONTAINER_RESTART_COUNT = "io.kubernetes.container.restartCount"
TERMINATION_MESSAGE_PATH = "io.kubernetes.container.terminationMessagePath"
TERMINATION_MESSAGE_POLICY = "io.kubernetes.container.terminationMessagePolicy"
CONTAINER_TYPE = "io.pocketkube.container.type"
CONTAINER_IMAGE = "io.pocketkube.container.image"
CONTAINER_IMAGE_ID = "io.pocketkube.container.imageID"
SANDBOX_ATTEMPT = "io.pocketkube.sandbox.attempt"

ContainerType = Literal["init", "regular", "sidecar", "ephemeral"]
CONTAINER_TYPES: tuple[ContainerType, ...] = ("init", "regular", "sidecar", "ephemeral")

DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"
DEFAULT_TERMINATION_MESSAGE_POLICY = "File"


def spec_hash(container: Mapping[str, Any]) -> str:
    """A stable hash of a container spec: equal specs → equal hashes across processes and restarts."""
    return format(fnv32a(orjson.dumps(container, option=orjson.OPT_SORT_KEYS)), "x")


def _pod_labels(pod: Mapping[str, Any]) -> dict[str, str]:
    meta = pod.get("metadata") or {}
    return {
        POD_UID: str(meta.get("uid") or ""),
        POD_NAME: str(meta.get("name") or ""),
        POD_NAMESPACE: str(meta.get("namespace") or "default"),
    }


def sandbox_labels(pod: Mapping[str, Any], attempt: int) -> dict[str, str]:
    """Labels for `SandboxConfig.labels` (attempt: the plan's `sandbox_attempt`)."""
    return {**_pod_labels(pod), SANDBOX_ATTEMPT: str(attempt)}


def container_type(pod: Mapping[str, Any], name: str) -> ContainerType | None:
    """Where `name` lives in the pod spec, or None when the spec has no such container."""
    spec = pod.get("spec") or {}
    for c in spec.get("initContainers") or []:
        if c.get("name") == name:
            return "sidecar" if c.get("restartPolicy") == "Always" else "init"
    if any(c.get("name") == name for c in spec.get("containers") or []):
        return "regular"
    if any(c.get("name") == name for c in spec.get("ephemeralContainers") or []):
        return "ephemeral"
    return None


def container_labels(pod: Mapping[str, Any], container: Mapping[str, Any], ctype: ContainerType,
                     attempt: int, image_id: str = "") -> dict[str, str]:
    """Labels for `ContainerConfig.labels`. `container` is the spec entry; `attempt` the plan's
    restart count for it; `image_id` the resolved image (reported as status.imageID)."""
    return {
        **_pod_labels(pod),
        CONTAINER_NAME: str(container.get("name") or ""),
        CONTAINER_TYPE: ctype,
        CONTAINER_RESTART_COUNT: str(attempt),
        CONTAINER_HASH: spec_hash(container),
        CONTAINER_IMAGE: str(container.get("image") or ""),
        CONTAINER_IMAGE_ID: image_id,
        TERMINATION_MESSAGE_PATH: str(container.get("terminationMessagePath") or DEFAULT_TERMINATION_MESSAGE_PATH),
        TERMINATION_MESSAGE_POLICY: str(container.get("terminationMessagePolicy")
                                        or DEFAULT_TERMINATION_MESSAGE_POLICY),
    }


# ---- reading back ----

def pod_uid(labels: Mapping[str, str]) -> str:
    return labels.get(POD_UID, "")


def pod_key(labels: Mapping[str, str]) -> tuple[str, str]:
    """(namespace, name) of the owning pod."""
    return labels.get(POD_NAMESPACE, ""), labels.get(POD_NAME, "")


def container_name(labels: Mapping[str, str]) -> str:
    return labels.get(CONTAINER_NAME, "")


def container_type_of(labels: Mapping[str, str]) -> ContainerType | None:
    value = labels.get(CONTAINER_TYPE)
    for t in CONTAINER_TYPES:
        if value == t:
            return t
    return None


def _int(labels: Mapping[str, str], key: str) -> int:
    try:
        return int(labels.get(key, "0"))
    except ValueError:
        return 0


def restart_count(labels: Mapping[str, str]) -> int:
    return _int(labels, CONTAINER_RESTART_COUNT)


def sandbox_attempt(labels: Mapping[str, str]) -> int:
    return _int(labels, SANDBOX_ATTEMPT)


def hash_of(labels: Mapping[str, str]) -> str:
    return labels.get(CONTAINER_HASH, "")


def image_of(labels: Mapping[str, str]) -> str:
    return labels.get(CONTAINER_IMAGE, "")


def image_id_of(labels: Mapping[str, str]) -> str:
    return labels.get(CONTAINER_IMAGE_ID, "")


def termination_message_path(labels: Mapping[str, str]) -> str:
    return labels.get(TERMINATION_MESSAGE_PATH, DEFAULT_TERMINATION_MESSAGE_PATH)


def termination_message_policy(labels: Mapping[str, str]) -> str:
    return labels.get(TERMINATION_MESSAGE_POLICY, DEFAULT_TERMINATION_MESSAGE_POLICY)
