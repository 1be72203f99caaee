"""The namespace controller: empties a Terminating namespace, then finalizes it."""

from pocketkube.controllers.namespace.controller import NamespaceController, namespaced_resources

__all__ = ["NamespaceController", "namespaced_resources"]
