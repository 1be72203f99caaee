"""The ADD result cache, in libcni's on-disk format, so DEL and a restarted agent can find it.

One JSON file per attachment, `<dir>/results/<network>-<container id>-<ifname>`, holding the result
of the last plugin in the list together with the config and runtime arguments it was made with
(`kind: cniCacheV1`, as libcni writes it). DEL hands the result to each plugin as `prevResult`;
`status` reads the pod IP from it after an agent restart.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

_KIND = "cniCacheV1"


@dataclass(frozen=True)
class CachedAttachment:
    network: str
    container_id: str
    ifname: str
    result: dict[str, Any]
    runtime_config: dict[str, Any]
    cni_args: tuple[tuple[str, str], ...]


class ResultCache:
    def __init__(self, directory: Path) -> None:
        self.dir = directory / "results"

    def path(self, network: str, container_id: str, ifname: str) -> Path:
        return self.dir / f"{network}-{container_id}-{ifname}"

    def save(self, entry: CachedAttachment, config: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        doc = {
            "kind": _KIND,
            "containerId": entry.container_id,
            "config": base64.b64encode(orjson.dumps(config)).decode(),
            "ifName": entry.ifname,
            "networkName": entry.network,
            "cniArgs": [list(kv) for kv in entry.cni_args],
            "capabilityArgs": entry.runtime_config,
            "result": entry.result,
        }
        target = self.path(entry.network, entry.container_id, entry.ifname)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(orjson.dumps(doc))
        # Rename is atomic: a crash leaves the old entry or the new one, never half a file.
        os.replace(tmp, target)

    def load(self, network: str, container_id: str, ifname: str) -> CachedAttachment | None:
        try:
            doc = orjson.loads(self.path(network, container_id, ifname).read_bytes())
        except (FileNotFoundError, orjson.JSONDecodeError):
            return None
        if not isinstance(doc, dict) or doc.get("kind") != _KIND or not isinstance(doc.get("result"), dict):
            return None
        return CachedAttachment(
            network=str(doc.get("networkName", network)),
            container_id=str(doc.get("containerId", container_id)),
            ifname=str(doc.get("ifName", ifname)),
            result=doc["result"],
            runtime_config=doc.get("capabilityArgs") or {},
            cni_args=tuple((str(k), str(v)) for k, v in doc.get("cniArgs") or []),
        )

    def entries(self, network: str, ifname: str) -> list[CachedAttachment]:
        """Every cached attachment of `network` on `ifname` (the agent's view of what it set up)."""
        found: list[CachedAttachment] = []
        if not self.dir.is_dir():
            return found
        prefix, suffix = f"{network}-", f"-{ifname}"
        for path in sorted(self.dir.iterdir()):
            name = path.name
            if name.startswith(prefix) and name.endswith(suffix):
                entry = self.load(network, name[len(prefix):-len(suffix)], ifname)
                if entry is not None:
                    found.append(entry)
        return found

    def delete(self, network: str, container_id: str, ifname: str) -> None:
        self.path(network, container_id, ifname).unlink(missing_ok=True)
