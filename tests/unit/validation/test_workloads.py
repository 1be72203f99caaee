"""Deployment, ReplicaSet, StatefulSet, DaemonSet, Job and CronJob validation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pocketkube.api.defaults import job_prepare_for_create
from pocketkube.api.validation import validate_create, validate_update
from tests.unit.validation.helpers import Mutation, defaulted, errors_after, pairs
from tests.unit.validation.manifests import (
    CRONJOB,
    DAEMONSET,
    DEPLOYMENT,
    JOB,
    NGINX_DEPLOYMENT,
    STATEFULSET,
    fresh,
)


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]


def _tspec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]


DEPLOYMENT_CASES: list[tuple[str, Mutation, list[tuple[str, str]]]] = [
    ("valid", lambda d: None, []),
    ("no selector", lambda d: _spec(d).pop("selector"), [("Required", "spec.selector")]),
    ("selector does not match", lambda d: _spec(d)["selector"]["matchLabels"].update(app="web"),
     [("Invalid", "spec.template.metadata.labels")]),
    ("empty selector", lambda d: _spec(d).update(selector={}), [("Invalid", "spec.selector")]),
    ("negative replicas", lambda d: _spec(d).update(replicas=-1), [("Invalid", "spec.replicas")]),
    ("restartPolicy Never", lambda d: _tspec(d).update(restartPolicy="Never"),
     [("NotSupported", "spec.template.spec.restartPolicy")]),
    ("invalid template container", lambda d: _tspec(d)["containers"][0].pop("image"),
     [("Required", "spec.template.spec.containers[0].image")]),
    ("Recreate with rollingUpdate", lambda d: _spec(d)["strategy"].update(type="Recreate"),
     [("Forbidden", "spec.strategy.rollingUpdate")]),
    ("both zero", lambda d: _spec(d)["strategy"].update(rollingUpdate={"maxSurge": 0, "maxUnavailable": "0%"}),
     [("Invalid", "spec.strategy.rollingUpdate.maxUnavailable")]),
    ("bad percent", lambda d: _spec(d)["strategy"]["rollingUpdate"].update(maxSurge="25 percent"),
     [("Invalid", "spec.strategy.rollingUpdate.maxSurge")]),
    ("over 100%", lambda d: _spec(d)["strategy"]["rollingUpdate"].update(maxUnavailable="150%"),
     [("Invalid", "spec.strategy.rollingUpdate.maxUnavailable")]),
    ("unknown strategy", lambda d: _spec(d).update(strategy={"type": "BlueGreen"}),
     [("NotSupported", "spec.strategy.type")]),
    ("deadline below minReady", lambda d: _spec(d).update(minReadySeconds=700),
     [("Invalid", "spec.progressDeadlineSeconds")]),
    ("bad label in matchExpressions", lambda d: _spec(d)["selector"].update(
        matchExpressions=[{"key": "tier", "operator": "In"}]),
     [("Required", "spec.selector.matchExpressions[0].values"), ("Invalid", "spec.template.metadata.labels")]),
]


@pytest.mark.parametrize("mutate, expected", [c[1:] for c in DEPLOYMENT_CASES], ids=[c[0] for c in DEPLOYMENT_CASES])
def test_deployment_create(mutate: Mutation, expected: list[tuple[str, str]]) -> None:
    assert pairs(errors_after(DEPLOYMENT, fresh(NGINX_DEPLOYMENT), mutate)) == expected


def test_selector_mismatch_message() -> None:
    errs = errors_after(DEPLOYMENT, fresh(NGINX_DEPLOYMENT), lambda d: _spec(d)["selector"]["matchLabels"].update(
        app="web"))
    assert str(errs[0]) == ('spec.template.metadata.labels: Invalid value: {"app":"nginx"}: '
                            "`selector` does not match template `labels`")


def test_deployment_update() -> None:
    old = defaulted(DEPLOYMENT, fresh(NGINX_DEPLOYMENT))
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 5
    _tspec(new)["containers"][0]["image"] = "nginx:1.27"
    assert validate_update(DEPLOYMENT, new, old) == []
    new["spec"]["selector"] = {"matchLabels": {"app": "nginx", "tier": "web"}}
    new["spec"]["template"]["metadata"]["labels"]["tier"] = "web"
    errs = validate_update(DEPLOYMENT, new, old)
    assert pairs(errs) == [("Invalid", "spec.selector")]
    assert str(errs[0]).endswith("field is immutable")


def _sts() -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "default"},
            "spec": {"serviceName": "nginx", "selector": {"matchLabels": {"app": "nginx"}},
                     "template": {"metadata": {"labels": {"app": "nginx"}},
                                  "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "www"},
                                               "spec": {"accessModes": ["ReadWriteOnce"],
                                                        "resources": {"requests": {"storage": "1Gi"}}}}]}}


STS_CASES: list[tuple[str, Mutation, list[tuple[str, str]]]] = [
    ("valid", lambda s: None, []),
    ("name with dots", lambda s: s["metadata"].update(name="web.v1"), [("Invalid", "metadata.name")]),
    ("policy", lambda s: _spec(s).update(podManagementPolicy="Random"), [("NotSupported", "spec.podManagementPolicy")]),
    ("OnDelete with rollingUpdate", lambda s: _spec(s)["updateStrategy"].update(type="OnDelete"),
     [("Invalid", "spec.updateStrategy.rollingUpdate")]),
    ("negative partition", lambda s: _spec(s)["updateStrategy"]["rollingUpdate"].update(partition=-1),
     [("Invalid", "spec.updateStrategy.rollingUpdate.partition")]),
    ("claim without access modes", lambda s: _spec(s)["volumeClaimTemplates"][0]["spec"].pop("accessModes"),
     [("Required", "spec.volumeClaimTemplates[0].spec.accessModes")]),
]


@pytest.mark.parametrize("mutate, expected", [c[1:] for c in STS_CASES], ids=[c[0] for c in STS_CASES])
def test_statefulset_create(mutate: Mutation, expected: list[tuple[str, str]]) -> None:
    assert pairs(errors_after(STATEFULSET, _sts(), mutate)) == expected


def test_statefulset_update() -> None:
    old = defaulted(STATEFULSET, _sts())
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 3
    new["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = 2
    assert validate_update(STATEFULSET, new, old) == []
    new["spec"]["serviceName"] = "other"
    errs = validate_update(STATEFULSET, new, old)
    assert pairs(errs) == [("Forbidden", "spec")]
    assert "updates to statefulset spec for fields other than 'replicas'" in str(errs[0])


def test_daemonset() -> None:
    ds = {"metadata": {"name": "agent", "namespace": "kube-system"},
          "spec": {"selector": {"matchLabels": {"name": "agent"}},
                   "template": {"metadata": {"labels": {"name": "agent"}},
                                "spec": {"containers": [{"name": "a", "image": "agent:1"}]}}}}
    assert errors_after(DAEMONSET, copy.deepcopy(ds), lambda d: None) == []
    errs = errors_after(DAEMONSET, copy.deepcopy(ds), lambda d: _spec(d)["updateStrategy"].update(type="Rolling"))
    assert pairs(errs) == [("NotSupported", "spec.updateStrategy.type")]


def _job() -> dict[str, Any]:
    job = {"metadata": {"name": "pi", "namespace": "default", "uid": "uid-1"},
           "spec": {"template": {"spec": {"restartPolicy": "Never",
                                          "containers": [{"name": "pi", "image": "perl:5.34.0",
                                                          "command": ["perl", "-e", "print 1"]}]}}}}
    defaulted(JOB, job)
    job_prepare_for_create(job, "uid-1")
    return job


JOB_CASES: list[tuple[str, Mutation, list[tuple[str, str]]]] = [
    ("valid", lambda j: None, []),
    ("restartPolicy Always", lambda j: _tspec(j).update(restartPolicy="Always"),
     [("NotSupported", "spec.template.spec.restartPolicy")]),
    ("negative parallelism", lambda j: _spec(j).update(parallelism=-1), [("Invalid", "spec.parallelism")]),
    ("Indexed without completions", lambda j: _spec(j).update(completionMode="Indexed", completions=None),
     [("Required", "spec.completions")]),
    ("bad completionMode", lambda j: _spec(j).update(completionMode="Some"), [("NotSupported", "spec.completionMode")]),
    ("user selector without manualSelector", lambda j: _spec(j)["selector"]["matchLabels"].update(app="x"),
     [("Invalid", "spec.template.metadata.labels"), ("Invalid", "spec.selector")]),
]


@pytest.mark.parametrize("mutate, expected", [c[1:] for c in JOB_CASES], ids=[c[0] for c in JOB_CASES])
def test_job_create(mutate: Mutation, expected: list[tuple[str, str]]) -> None:
    job = _job()
    mutate(job)
    assert pairs(validate_create(JOB, job)) == expected


def test_job_update() -> None:
    old = _job()
    new = copy.deepcopy(old)
    new["spec"]["parallelism"] = 4
    new["spec"]["suspend"] = True
    assert validate_update(JOB, new, old) == []
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:5.36"
    assert pairs(validate_update(JOB, new, old)) == [("Invalid", "spec.template")]
    # A suspended Job that never started may change its scheduling directives.
    old["spec"]["suspend"] = True
    newer = copy.deepcopy(old)
    newer["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    assert validate_update(JOB, newer, old) == []
    newer["spec"]["completions"] = 3
    assert pairs(validate_update(JOB, newer, old)) == [("Invalid", "spec.completions")]


def _cron() -> dict[str, Any]:
    return {"metadata": {"name": "hello", "namespace": "default"},
            "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [{"name": "hello", "image": "busybox:1.28"}]}}}}}}


CRON_CASES: list[tuple[str, Mutation, list[tuple[str, str]], str]] = [
    ("valid", lambda c: None, [], ""),
    ("no schedule", lambda c: _spec(c).pop("schedule"), [("Required", "spec.schedule")], ""),
    ("four fields", lambda c: _spec(c).update(schedule="* * * *"), [("Invalid", "spec.schedule")],
     "expected exactly 5 fields, found 4: [* * * *]"),
    ("minute out of range", lambda c: _spec(c).update(schedule="61 * * * *"), [("Invalid", "spec.schedule")],
     "end of range (61) above maximum (59): 61"),
    ("TZ in schedule", lambda c: _spec(c).update(schedule="TZ=UTC * * * * *"), [("Invalid", "spec.schedule")],
     "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"),
    ("bad time zone", lambda c: _spec(c).update(timeZone="Mars/Olympus"), [("Invalid", "spec.timeZone")],
     "unknown time zone Mars/Olympus"),
    ("good time zone", lambda c: _spec(c).update(timeZone="Etc/UTC"), [], ""),
    ("concurrency", lambda c: _spec(c).update(concurrencyPolicy="Sometimes"),
     [("NotSupported", "spec.concurrencyPolicy")], ""),
    ("name too long", lambda c: c["metadata"].update(name="c" * 53), [("Invalid", "metadata.name")],
     "must be no more than 52 characters"),
    ("template restartPolicy", lambda c: _spec(c)["jobTemplate"]["spec"]["template"]["spec"].update(
        restartPolicy="Always"), [("NotSupported", "spec.jobTemplate.spec.template.spec.restartPolicy")], ""),
]


@pytest.mark.parametrize("mutate, expected, message", [c[1:] for c in CRON_CASES], ids=[c[0] for c in CRON_CASES])
def test_cronjob_create(mutate: Mutation, expected: list[tuple[str, str]], message: str) -> None:
    errs = errors_after(CRONJOB, _cron(), mutate)
    assert pairs(errs) == expected
    if message:
        assert str(errs[0]).endswith(message)


def test_statefulset_containers_may_mount_their_claim_templates() -> None:
    from pocketkube.api import resources
    from pocketkube.api.defaults import apply_defaults
    from pocketkube.api.validation import validate_create

    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web", "namespace": "default"},
           "spec": {"serviceName": "web", "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                        {"name": "c", "image": "busybox:1.35", "volumeMounts": [{"name": "www", "mountPath": "/d"}]}]}},
                    "volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {
                        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}
    resource = resources.require("apps", "v1", "statefulsets")
    apply_defaults(resource, sts)
    assert validate_create(resource, sts) == []
    sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["name"] = "nope"
    assert [e.field for e in validate_create(resource, sts)] == ["spec.template.spec.containers[0].volumeMounts[0].name"]
