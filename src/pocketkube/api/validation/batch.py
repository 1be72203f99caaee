"""batch/v1 validation: Job and CronJob.

A Job's pods must not restart in place (OnFailure or Never), and unless the user manages the
selector, the selector and template labels are the ones `job_prepare_for_create` generated. A Job's
template is immutable, except for scheduling directives while a suspended Job has never started.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from pocketkube.api.defaults.workloads import CONTROLLER_UID_LABEL, JOB_NAME_LABEL
from pocketkube.api.errors import invalid_value, required
from pocketkube.api.validation.common import (
    Errors,
    as_dict,
    child,
    enum,
    immutable,
    non_negative,
    validate_annotations,
    validate_label_selector,
    validate_labels,
)
from pocketkube.api.validation.cron import parse_schedule
from pocketkube.api.validation.workloads import validate_template

JOB_RESTART_POLICIES = ["OnFailure", "Never"]
CRONJOB_NAME_MAX = 52
_MUTABLE_WHILE_SUSPENDED = ("nodeSelector", "affinity", "tolerations", "schedulingGates")


def validate_job_spec(spec: Any, path: str, require_selector: bool) -> Errors:
    spec = as_dict(spec)
    errs: Errors = []
    for field_name in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                       "ttlSecondsAfterFinished", "backoffLimitPerIndex", "maxFailedIndexes"):
        errs += non_negative(spec.get(field_name), child(path, field_name))
    selector = spec.get("selector")
    if selector is None:
        if require_selector:
            errs.append(required(child(path, "selector"), ""))
    else:
        errs += validate_label_selector(selector, child(path, "selector"))
    errs += validate_template(spec.get("template"), selector, child(path, "template"), JOB_RESTART_POLICIES)
    mode = spec.get("completionMode")
    errs += enum(mode, child(path, "completionMode"), ["NonIndexed", "Indexed"], require=False)
    if mode == "Indexed":
        if spec.get("completions") is None:
            errs.append(required(child(path, "completions"), "when completion mode is Indexed"))
        elif isinstance(spec["completions"], int) and spec["completions"] > 100000:
            errs.append(invalid_value(child(path, "completions"), spec["completions"],
                                      "must be less than or equal to 100000 when completion mode is Indexed"))
    elif spec.get("backoffLimitPerIndex") is not None:
        errs.append(required(child(path, "completionMode"), "when backoffLimitPerIndex is specified, "
                             "completionMode must be Indexed"))
    errs += enum(spec.get("podReplacementPolicy"), child(path, "podReplacementPolicy"),
                 ["TerminatingOrFailed", "Failed"], require=False)
    return errs


def _generated_selector(obj: dict[str, Any]) -> Errors:
    """With an automatic selector, it and the template's labels must be the generated ones."""
    meta = as_dict(obj.get("metadata"))
    uid = meta.get("uid")
    spec = as_dict(obj.get("spec"))
    if spec.get("manualSelector") is True or not uid:
        return []
    errs: Errors = []
    labels = as_dict(as_dict(as_dict(spec.get("template")).get("metadata")).get("labels"))
    labels_path = "spec.template.metadata.labels"
    if labels.get(CONTROLLER_UID_LABEL) != uid:
        errs.append(invalid_value(f"{labels_path}[{CONTROLLER_UID_LABEL}]", labels.get(CONTROLLER_UID_LABEL),
                                  f"must be '{uid}'"))
    if labels.get(JOB_NAME_LABEL) != meta.get("name"):
        errs.append(invalid_value(f"{labels_path}[{JOB_NAME_LABEL}]", labels.get(JOB_NAME_LABEL),
                                  f"must be '{meta.get('name')}'"))
    selector = spec.get("selector")
    if selector != {"matchLabels": {CONTROLLER_UID_LABEL: uid}}:
        errs.append(invalid_value("spec.selector", selector, "`selector` not auto-generated"))
    return errs


def validate_job(obj: dict[str, Any]) -> Errors:
    return validate_job_spec(obj.get("spec"), "spec", require_selector=True) + _generated_selector(obj)


def _template_without_scheduling(template: Any) -> Any:
    template = as_dict(template)
    spec = {k: v for k, v in as_dict(template.get("spec")).items() if k not in _MUTABLE_WHILE_SUSPENDED}
    meta = {k: v for k, v in as_dict(template.get("metadata")).items() if k not in ("labels", "annotations")}
    return {**template, "metadata": meta, "spec": spec}


def validate_job_update(new: dict[str, Any], old: dict[str, Any]) -> Errors:
    new_spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    errs: Errors = []
    errs += immutable(new_spec.get("selector"), old_spec.get("selector"), "spec.selector")
    errs += immutable(new_spec.get("completionMode"), old_spec.get("completionMode"), "spec.completionMode")
    errs += immutable(new_spec.get("podFailurePolicy"), old_spec.get("podFailurePolicy"), "spec.podFailurePolicy")
    errs += immutable(new_spec.get("backoffLimitPerIndex"), old_spec.get("backoffLimitPerIndex"),
                      "spec.backoffLimitPerIndex")
    # Indexed Jobs are elastic: completions may change together with parallelism.
    elastic = new_spec.get("completionMode") == "Indexed" and new_spec.get("completions") == new_spec.get(
        "parallelism")
    if not elastic:
        errs += immutable(new_spec.get("completions"), old_spec.get("completions"), "spec.completions")
    new_template, old_template = new_spec.get("template"), old_spec.get("template")
    never_started = old_spec.get("suspend") is True and not as_dict(old.get("status")).get("startTime")
    if never_started:
        new_template = _template_without_scheduling(new_template)
        old_template = _template_without_scheduling(old_template)
    if new_template != old_template:
        errs.append(invalid_value("spec.template", new_spec.get("template"), "field is immutable"))
    return errs


def validate_cron_job(obj: dict[str, Any]) -> Errors:
    meta = as_dict(obj.get("metadata"))
    spec = as_dict(obj.get("spec"))
    errs: Errors = []
    name = meta.get("name") or ""
    if len(name) > CRONJOB_NAME_MAX:
        errs.append(invalid_value("metadata.name", name, f"must be no more than {CRONJOB_NAME_MAX} characters"))
    schedule = spec.get("schedule")
    if not schedule:
        errs.append(required("spec.schedule", ""))
    elif "TZ" in str(schedule):
        errs.append(invalid_value("spec.schedule", schedule,
                                  "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
    else:
        try:
            parse_schedule(str(schedule))
        except ValueError as exc:
            errs.append(invalid_value("spec.schedule", schedule, str(exc)))
    time_zone = spec.get("timeZone")
    if time_zone is not None:
        errs += _time_zone(time_zone)
    errs += enum(spec.get("concurrencyPolicy"), "spec.concurrencyPolicy", ["Allow", "Forbid", "Replace"])
    for field_name in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        errs += non_negative(spec.get(field_name), f"spec.{field_name}")
    job_template = spec.get("jobTemplate")
    if job_template is None:
        errs.append(required("spec.jobTemplate", ""))
    else:
        job_meta = as_dict(as_dict(job_template).get("metadata"))
        errs += validate_labels(job_meta.get("labels"), "spec.jobTemplate.metadata.labels")
        errs += validate_annotations(job_meta.get("annotations"), "spec.jobTemplate.metadata.annotations")
        errs += validate_job_spec(as_dict(job_template).get("spec"), "spec.jobTemplate.spec", require_selector=False)
    return errs


def _time_zone(time_zone: Any) -> Errors:
    text = str(time_zone)
    if not text or text.strip() != text or text.lower() == "local":
        return [invalid_value("spec.timeZone", time_zone, f"unknown time zone {text}")]
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return [invalid_value("spec.timeZone", time_zone, f"unknown time zone {text}")]
    return []
