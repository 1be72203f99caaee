"""Persistent volumes: the PV controller that binds claims to volumes (`PersistentVolumeController`)
and the built-in local-path provisioner with its default StorageClass (`LocalPathProvisioner`)."""

from pocketkube.controllers.volumes.binder import PersistentVolumeController
from pocketkube.controllers.volumes.local_path import CLASS_NAME, DEFAULT_VOLUMES_ROOT, PROVISIONER
from pocketkube.controllers.volumes.provisioner import LocalPathProvisioner

__all__ = ["CLASS_NAME", "DEFAULT_VOLUMES_ROOT", "PROVISIONER", "LocalPathProvisioner",
           "PersistentVolumeController"]
