"""The CronJob controller and its cron arithmetic."""

from pocketkube.controllers.cronjob.controller import CronJobController, job_name, to_prune
from pocketkube.controllers.cronjob.schedule import most_recent, next_time, prev_time

__all__ = ["CronJobController", "job_name", "most_recent", "next_time", "prev_time", "to_prune"]
