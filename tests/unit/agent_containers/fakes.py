"""A ConfigSources over plain dicts, counting fetches."""

from __future__ import annotations

import base64
from typing import Any


class Sources:
    def __init__(self, configmaps: dict[str, dict[str, Any]] | None = None,
                 secrets: dict[str, dict[str, str]] | None = None) -> None:
        self.configmaps = configmaps or {}
        # Secrets are given decoded; they are served base64 as the API does.
        self.secrets = {name: {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
                        for name, data in (secrets or {}).items()}
        self.calls: list[tuple[str, str, str]] = []

    async def configmap(self, namespace: str, name: str) -> dict[str, Any] | None:
        self.calls.append(("configmap", namespace, name))
        data = self.configmaps.get(name)
        return None if data is None else {"kind": "ConfigMap", "data": data}

    async def secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        self.calls.append(("secret", namespace, name))
        data = self.secrets.get(name)
        return None if data is None else {"kind": "Secret", "data": data}


def make_pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "ns1", "uid": "1234-abcd",
                     "labels": {"app": "web", "tier": "front"}, "annotations": {"note": 'say "hi"'}},
        "spec": {"containers": list(containers) or [{"name": "c"}], "nodeName": "node-1",
                 "serviceAccountName": "default", **spec},
        "status": {"podIP": "10.244.0.5", "podIPs": [{"ip": "10.244.0.5"}, {"ip": "fd00::5"}],
                   "hostIP": "192.168.1.2", "hostIPs": [{"ip": "192.168.1.2"}]},
    }
