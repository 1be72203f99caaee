"""The Job controller (completions, parallelism, Indexed, backoffLimit, deadlines, suspend, TTL)."""

from pocketkube.controllers.job.controller import JobController
from pocketkube.controllers.job.expectations import Expectations

__all__ = ["Expectations", "JobController"]
