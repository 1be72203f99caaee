"""The Job controller (completions, parallelism, Indexed, backoffLimit, deadlines, suspend, TTL)."""

from pocketkube.controllers.job.controller import JobController

__all__ = ["JobController"]
