"""ConfigMaps and Secrets for env and volumes, and the claims and volumes behind persistentVolumeClaim
volumes, read from the API as the pod's node agent."""

from __future__ import annotations

from typing import Any

from pocketkube.api import errors, resources
from pocketkube.client.rest import ApiClient

CONFIGMAPS = resources.require("", "v1", "configmaps")
SECRETS = resources.require("", "v1", "secrets")
CLAIMS = resources.require("", "v1", "persistentvolumeclaims")
VOLUMES = resources.require("", "v1", "persistentvolumes")


class ApiSources:
    def __init__(self, client: ApiClient):
        self.client = client

    async def _get(self, resource: resources.ResourceInfo, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return await self.client.get(resource, name, namespace)
        except errors.StatusError as exc:
            if exc.code == 404:
                return None
            raise

    async def configmap(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self._get(CONFIGMAPS, namespace, name)

    async def secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self._get(SECRETS, namespace, name)

    async def persistent_volume_claim(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self._get(CLAIMS, namespace, name)

    async def persistent_volume(self, name: str) -> dict[str, Any] | None:
        try:
            return await self.client.get(VOLUMES, name)
        except errors.StatusError as exc:
            if exc.code == 404:
                return None
            raise
