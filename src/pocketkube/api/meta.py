"""Object metadata helpers: timestamps, uids, generated names, and the fields the server owns."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

from pocketkube.api.hashing import SAFE_ALPHABET
from pocketkube.api.obj import Obj

MAX_GENERATED_NAME_PREFIX = 58  # 63 - 5 random characters


def now() -> datetime:
    return datetime.now(UTC)


def rfc3339(t: datetime) -> str:
    """Kubernetes' metav1.Time JSON form: seconds precision, `Z`."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro(t: datetime) -> str:
    """metav1.MicroTime JSON form (leases, events.k8s.io)."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def new_uid() -> str:
    return str(uuid.uuid4())


def generate_name(prefix: str) -> str:
    return prefix[:MAX_GENERATED_NAME_PREFIX] + "".join(secrets.choice(SAFE_ALPHABET) for _ in range(5))


def metadata(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    return meta


def name_of(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def namespace_of(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")


# Set by the server on create and kept by it across updates: clients cannot change them.
SYSTEM_FIELDS = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                 "generation", "selfLink")


def is_being_deleted(obj: Obj) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def owner_refs(obj: Obj) -> list[Obj]:
    return list((obj.get("metadata") or {}).get("ownerReferences") or [])
