"""Pod status: generated from the runtime (`podstatus`), written to the API once per real change
(`manager`)."""

from pocketkube.agent.status.manager import StatusManager
from pocketkube.agent.status.podstatus import generate_pod_status

__all__ = ["StatusManager", "generate_pod_status"]
