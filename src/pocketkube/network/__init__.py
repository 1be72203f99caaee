"""Pod networking: the NetworkPlugin seam and its backends.

`base` defines the seam (NetworkPlugin, PodNetworkRef, PortMapping, PodNetworkStatus, NetworkError);
`cni` drives the real CNI plugins (bridge, host-local, portmap, loopback) with a conflist built by
`config`; `fake` hands out IPs in memory; `testing` holds the conformance checks both pass.
`host` has the host-side helpers (wait for links, remove the bridge and portmap's shared chains) and
`netns` creates named network namespaces for tests and benchmarks.
"""

from pocketkube.network.base import (
    NetworkError,
    NetworkPlugin,
    PodNetworkRef,
    PodNetworkStatus,
    PortMapping,
)

__all__ = ["NetworkError", "NetworkPlugin", "PodNetworkRef", "PodNetworkStatus", "PortMapping"]
