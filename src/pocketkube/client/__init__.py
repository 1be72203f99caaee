"""The typed client every component below the API server uses: REST calls, informers, work queues.

Controllers, the scheduler and the node agent talk to the API server only through this package, over
HTTPS, exactly as they would to a remote kube-apiserver; so each can also run as its own process.
"""

from pocketkube.client.rest import ApiClient, ClientConfig

__all__ = ["ApiClient", "ClientConfig"]
