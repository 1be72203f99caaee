"""Pod volumes on the host: set up and torn down per pod (`VolumeManager`), mounted into containers
(`container_mounts`, with safe subPath), plus the pod's /etc/hosts and /etc/resolv.conf text.

Public surface: VolumeManager, VolumeError, container_mounts, hosts_file, resolv_conf.
"""

from pocketkube.agent.volumes.dns import hosts_file, resolv_conf
from pocketkube.agent.volumes.manager import VolumeError, VolumeManager
from pocketkube.agent.volumes.subpath import container_mounts

__all__ = ["VolumeError", "VolumeManager", "container_mounts", "hosts_file", "resolv_conf"]
