"""The DaemonSet controller: node eligibility, rollout arithmetic, and the controller."""

from pocketkube.controllers.daemonset.controller import DaemonSetController

__all__ = ["DaemonSetController"]
