"""The taint-eviction controller: pods on nodes with NoExecute taints they don't tolerate are deleted."""

from pocketkube.controllers.tainteviction.controller import TaintEvictionController

__all__ = ["TaintEvictionController"]
