"""What a configMap, secret, downwardAPI or projected volume should contain (pure).

Each builder takes the volume source and the objects it names, and returns the payload the atomic
writer puts on disk: relative path → (bytes, mode). The error texts are the kubelet's; the volume
manager prefixes them with `MountVolume.SetUp failed for volume "<name>" : `.

A `None` object means "not found": an error unless the source is `optional`, in which case the
volume holds nothing from it. serviceAccountToken and clusterTrustBundle projections are skipped:
there is no token issuer yet, and writing a placeholder token would only mislead.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from pocketkube.agent.env import ContainerConfigError, Json, metadata_value, resource_value

DEFAULT_MODE = 0o644  # 420, the API's defaultMode for configMap, secret, downwardAPI, projected

Payload = dict[str, tuple[bytes, int]]


class PayloadSourceError(Exception):
    """The payload cannot be built; the message is the kubelet's."""


def _mode(item: Json, default_mode: int) -> int:
    mode = item.get("mode")
    return int(mode) if mode is not None else default_mode


def _key_payload(data: Mapping[str, bytes], items: Sequence[Json], default_mode: int, optional: bool,
                 missing_key: str) -> Payload:
    if not items:
        return {key: (value, default_mode) for key, value in data.items()}
    payload: Payload = {}
    for item in items:
        key = str(item.get("key", ""))
        if key not in data:
            if optional:
                continue
            raise PayloadSourceError(f"{missing_key}: {key}")
        payload[str(item.get("path", key))] = (data[key], _mode(item, default_mode))
    return payload


def configmap_data(obj: Json) -> dict[str, bytes]:
    data = {k: str(v).encode() for k, v in (obj.get("data") or {}).items()}
    data.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
    return data


def secret_data(obj: Json) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}


def configmap_payload(source: Json, obj: Json | None, default_mode: int | None = None) -> Payload:
    name, optional = str(source.get("name", "")), bool(source.get("optional"))
    mode = default_mode if default_mode is not None else int(source.get("defaultMode", DEFAULT_MODE))
    if obj is None:
        if optional:
            return {}
        raise PayloadSourceError(f'configmap "{name}" not found')
    return _key_payload(configmap_data(obj), source.get("items") or [], mode, optional,
                        "configmap references non-existent config key")


def secret_payload(source: Json, obj: Json | None, default_mode: int | None = None) -> Payload:
    # A secret volume names its object `secretName`; a projected secret source uses `name`.
    name = str(source.get("secretName", source.get("name", "")))
    optional = bool(source.get("optional"))
    mode = default_mode if default_mode is not None else int(source.get("defaultMode", DEFAULT_MODE))
    if obj is None:
        if optional:
            return {}
        raise PayloadSourceError(f'secret "{name}" not found')
    return _key_payload(secret_data(obj), source.get("items") or [], mode, optional,
                        "references non-existent secret key")


def _find_container(pod: Json, name: str) -> Json | None:
    spec = pod.get("spec") or {}
    for container in list(spec.get("containers") or []) + list(spec.get("initContainers") or []):
        if container.get("name") == name:
            return container
    return None


def downward_payload(pod: Json, items: Sequence[Json], default_mode: int,
                     allocatable: Mapping[str, Any]) -> Payload:
    payload: Payload = {}
    for item in items:
        path = str(item.get("path", ""))
        try:
            if item.get("fieldRef") is not None:
                value = metadata_value(pod, str(item["fieldRef"].get("fieldPath", "")))
            elif item.get("resourceFieldRef") is not None:
                selector = item["resourceFieldRef"]
                container = _find_container(pod, str(selector.get("containerName", "")))
                if container is None:
                    raise PayloadSourceError(f"container {selector.get('containerName', '')} not found")
                value = resource_value(container, selector, allocatable)
            else:
                continue
        except ContainerConfigError as err:
            raise PayloadSourceError(err.message) from None
        payload[path] = (value.encode(), _mode(item, default_mode))
    return payload


def projected_payload(pod: Json, source: Json, objects: Mapping[tuple[str, str], Json | None],
                      allocatable: Mapping[str, Any]) -> Payload:
    """`objects` maps ("configmap" | "secret", name) to what the API returned for it."""
    default_mode = int(source.get("defaultMode", DEFAULT_MODE))
    payload: Payload = {}
    for projection in source.get("sources") or []:
        if projection.get("configMap") is not None:
            cm = projection["configMap"]
            payload.update(configmap_payload(cm, objects.get(("configmap", str(cm.get("name", "")))), default_mode))
        elif projection.get("secret") is not None:
            sec = projection["secret"]
            payload.update(secret_payload(sec, objects.get(("secret", str(sec.get("name", "")))), default_mode))
        elif projection.get("downwardAPI") is not None:
            payload.update(downward_payload(pod, projection["downwardAPI"].get("items") or [], default_mode,
                                            allocatable))
    return payload


def referenced_objects(volume: Json) -> list[tuple[str, str]]:
    """The ("configmap" | "secret", name) pairs a volume reads, in order."""
    if volume.get("configMap") is not None:
        return [("configmap", str(volume["configMap"].get("name", "")))]
    if volume.get("secret") is not None:
        return [("secret", str(volume["secret"].get("secretName", "")))]
    refs = []
    for projection in (volume.get("projected") or {}).get("sources") or []:
        if projection.get("configMap") is not None:
            refs.append(("configmap", str(projection["configMap"].get("name", ""))))
        elif projection.get("secret") is not None:
            refs.append(("secret", str(projection["secret"].get("name", ""))))
    return refs
