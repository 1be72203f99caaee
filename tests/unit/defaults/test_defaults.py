"""Server-side defaults, checked field by field on manifests users apply."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pocketkube.api.defaults import apply_defaults, default_pull_policy, job_prepare_for_create
from pocketkube.api.validation import validate_create
from tests.unit.validation.manifests import (
    CONFIGMAP,
    CRONJOB,
    DAEMONSET,
    DEPLOYMENT,
    JOB,
    NAMESPACE,
    NGINX_DEPLOYMENT,
    NODE,
    POD,
    REPLICASET,
    SECRET,
    SERVICE,
    STATEFULSET,
    WEB_POD,
    fresh,
)

TEMPLATE_SPEC_DEFAULTS = {
    "dnsPolicy": "ClusterFirst",
    "restartPolicy": "Always",
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
}


@pytest.mark.parametrize("image, policy", [
    ("nginx", "Always"),
    ("nginx:latest", "Always"),
    ("nginx:1.25", "IfNotPresent"),
    ("localhost:5000/app", "Always"),
    ("localhost:5000/app:v1", "IfNotPresent"),
    ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
    ("nginx:latest@sha256:" + "a" * 64, "Always"),
])
def test_image_pull_policy(image: str, policy: str) -> None:
    assert default_pull_policy(image) == policy


def test_pod_defaults() -> None:
    pod = fresh(WEB_POD)
    apply_defaults(POD, pod)
    spec = pod["spec"]
    for field, value in TEMPLATE_SPEC_DEFAULTS.items():
        assert spec[field] == value, field
    assert spec["enableServiceLinks"] is True
    assert spec["priority"] == 0
    assert spec["preemptionPolicy"] == "PreemptLowerPriority"
    assert spec["serviceAccountName"] == "default"
    assert spec["serviceAccount"] == "default"
    assert spec["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
    ]
    init = spec["initContainers"][0]
    assert init["imagePullPolicy"] == "IfNotPresent"
    assert init["terminationMessagePath"] == "/dev/termination-log"
    assert init["terminationMessagePolicy"] == "File"
    assert init["resources"] == {}
    web = spec["containers"][0]
    assert web["imagePullPolicy"] == "Always"
    assert web["ports"] == [{"name": "http", "containerPort": 80, "protocol": "TCP"}]
    assert web["env"][0]["valueFrom"]["fieldRef"] == {"fieldPath": "metadata.name", "apiVersion": "v1"}
    assert web["resources"] == {"limits": {"cpu": "500m", "memory": "128Mi"},
                                "requests": {"cpu": "500m", "memory": "128Mi"}}
    assert web["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "initialDelaySeconds": 3,
        "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3,
    }
    assert web["readinessProbe"]["timeoutSeconds"] == 1
    assert spec["volumes"] == [
        {"name": "cache", "emptyDir": {}},
        {"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}},
        {"name": "host", "hostPath": {"path": "/var/log", "type": ""}},
    ]


def test_pod_keeps_user_values_and_existing_tolerations() -> None:
    pod = fresh(WEB_POD)
    pod["spec"]["restartPolicy"] = "Never"
    pod["spec"]["tolerations"] = [{"operator": "Exists"}]
    pod["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "1"}, "requests": {"cpu": 0.5}}
    apply_defaults(POD, pod)
    assert pod["spec"]["restartPolicy"] == "Never"
    # A toleration of everything already tolerates not-ready and unreachable.
    assert pod["spec"]["tolerations"] == [{"operator": "Exists"}]
    assert pod["spec"]["containers"][0]["resources"] == {"limits": {"cpu": "1"}, "requests": {"cpu": "500m"}}


def test_host_network_ports() -> None:
    pod = fresh(WEB_POD)
    pod["spec"]["hostNetwork"] = True
    apply_defaults(POD, pod)
    assert pod["spec"]["containers"][0]["ports"][0]["hostPort"] == 80


def test_deployment_defaults_include_template() -> None:
    deploy = fresh(NGINX_DEPLOYMENT)
    del deploy["spec"]["replicas"]
    apply_defaults(DEPLOYMENT, deploy)
    spec = deploy["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    template_spec = spec["template"]["spec"]
    for field, value in TEMPLATE_SPEC_DEFAULTS.items():
        assert template_spec[field] == value, field
    # Admission-only and Pod-only fields stay off templates.
    for field in ("enableServiceLinks", "tolerations", "priority", "serviceAccountName"):
        assert field not in template_spec
    assert template_spec["containers"][0] == {
        "name": "nginx", "image": "nginx:1.14.2", "ports": [{"containerPort": 80, "protocol": "TCP"}],
        "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File", "resources": {},
    }


def test_recreate_strategy_gets_no_rolling_update() -> None:
    deploy = fresh(NGINX_DEPLOYMENT)
    deploy["spec"]["strategy"] = {"type": "Recreate"}
    apply_defaults(DEPLOYMENT, deploy)
    assert deploy["spec"]["strategy"] == {"type": "Recreate"}


def _workload(kind: str, restart: str = "Always") -> dict[str, Any]:
    return {
        "metadata": {"name": "w", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "w"}},
            "template": {"metadata": {"labels": {"app": "w"}},
                         "spec": {"restartPolicy": restart, "containers": [{"name": "c", "image": "busybox"}]}},
        },
    }


def test_statefulset_daemonset_replicaset_defaults() -> None:
    sts = _workload("StatefulSet")
    sts["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
    apply_defaults(STATEFULSET, sts)
    assert sts["spec"]["replicas"] == 1
    assert sts["spec"]["podManagementPolicy"] == "OrderedReady"
    assert sts["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert sts["spec"]["revisionHistoryLimit"] == 10
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    claim = sts["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["volumeMode"] == "Filesystem"
    assert claim["kind"] == "PersistentVolumeClaim"
    ds = _workload("DaemonSet")
    apply_defaults(DAEMONSET, ds)
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1,
                                                                                       "maxSurge": 0}}
    assert ds["spec"]["revisionHistoryLimit"] == 10
    assert "replicas" not in ds["spec"]
    rs = _workload("ReplicaSet")
    apply_defaults(REPLICASET, rs)
    assert rs["spec"]["replicas"] == 1
    assert rs["spec"]["template"]["spec"]["schedulerName"] == "default-scheduler"


@pytest.mark.parametrize("given, completions, parallelism", [
    ({}, 1, 1),
    ({"parallelism": 3}, None, 3),
    ({"completions": 5}, 5, 1),
    ({"completions": 5, "parallelism": 2}, 5, 2),
])
def test_job_completions_and_parallelism(given: dict[str, int], completions: int | None, parallelism: int) -> None:
    job = _workload("Job", "Never")
    del job["spec"]["selector"]
    job["spec"].update(given)
    apply_defaults(JOB, job)
    assert job["spec"].get("completions") == completions
    assert job["spec"]["parallelism"] == parallelism
    assert job["spec"]["backoffLimit"] == 6
    assert job["spec"]["completionMode"] == "NonIndexed"
    assert job["spec"]["suspend"] is False
    assert job["spec"]["podReplacementPolicy"] == "TerminatingOrFailed"


def test_job_prepare_for_create_generates_selector_and_labels() -> None:
    job: dict[str, Any] = {"metadata": {"name": "pi", "namespace": "default", "uid": "u-1"},
           "spec": {"template": {"spec": {"restartPolicy": "Never",
                                          "containers": [{"name": "pi", "image": "perl:5.34"}]}}}}
    apply_defaults(JOB, job)
    job_prepare_for_create(job, "u-1")
    labels = {"batch.kubernetes.io/controller-uid": "u-1", "batch.kubernetes.io/job-name": "pi",
              "controller-uid": "u-1", "job-name": "pi"}
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}}
    assert job["spec"]["template"]["metadata"]["labels"] == labels
    assert job["metadata"]["labels"] == labels
    assert validate_create(JOB, job) == []


def test_job_manual_selector_is_left_alone() -> None:
    job = _workload("Job", "Never")
    job["spec"]["manualSelector"] = True
    before = copy.deepcopy(job)
    job_prepare_for_create(job, "u-1")
    assert job == before


def test_cronjob_defaults() -> None:
    cron: dict[str, Any] = {"metadata": {"name": "hello", "namespace": "default"},
            "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [{"name": "hello", "image": "busybox:1.28"}]}}}}}}
    apply_defaults(CRONJOB, cron)
    spec = cron["spec"]
    assert (spec["concurrencyPolicy"], spec["suspend"], spec["successfulJobsHistoryLimit"],
            spec["failedJobsHistoryLimit"]) == ("Allow", False, 3, 1)
    job_spec = spec["jobTemplate"]["spec"]
    assert job_spec["backoffLimit"] == 6
    assert job_spec["template"]["spec"]["terminationGracePeriodSeconds"] == 30
    assert validate_create(CRONJOB, cron) == []


def test_service_defaults() -> None:
    svc: dict[str, Any] = {"metadata": {"name": "my-service", "namespace": "default"},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}, {"name": "b", "port": 81, "targetPort": 8081}]}}
    apply_defaults(SERVICE, svc)
    spec = svc["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["sessionAffinity"] == "None"
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80},
                             {"name": "b", "port": 81, "targetPort": 8081, "protocol": "TCP"}]
    assert spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["ipFamilies"] == ["IPv4"]
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert "externalTrafficPolicy" not in spec
    node_port: dict[str, Any] = {"metadata": {"name": "np", "namespace": "default"}, "spec": {"type": "NodePort", "ports": [{"port": 1}]}}
    apply_defaults(SERVICE, node_port)
    assert node_port["spec"]["externalTrafficPolicy"] == "Cluster"
    external: dict[str, Any] = {"metadata": {"name": "ext"}, "spec": {"type": "ExternalName", "externalName": "example.com"}}
    apply_defaults(SERVICE, external)
    assert "ipFamilyPolicy" not in external["spec"] and "internalTrafficPolicy" not in external["spec"]


def test_secret_namespace_node_defaults() -> None:
    secret: dict[str, Any] = {"metadata": {"name": "s"}, "stringData": {"user": "admin"}, "data": {"a": "Yg=="}}
    apply_defaults(SECRET, secret)
    assert secret == {"metadata": {"name": "s"}, "type": "Opaque", "data": {"a": "Yg==", "user": "YWRtaW4="}}
    ns: dict[str, Any] = {"metadata": {"name": "dev"}}
    apply_defaults(NAMESPACE, ns)
    assert ns == {"metadata": {"name": "dev", "labels": {"kubernetes.io/metadata.name": "dev"}},
                  "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
    node: dict[str, Any] = {"metadata": {"name": "n"}, "status": {"capacity": {"cpu": "4", "memory": "8000000Ki"}}}
    apply_defaults(NODE, node)
    assert node["status"]["allocatable"] == {"cpu": "4", "memory": "8000000Ki"}
    cm: dict[str, Any] = {"metadata": {"name": "c"}, "data": {"k": "v"}}
    apply_defaults(CONFIGMAP, cm)
    assert cm == {"metadata": {"name": "c"}, "data": {"k": "v"}}


def _all_manifests() -> list[tuple[Any, dict[str, Any]]]:
    cron = {"metadata": {"name": "hello", "namespace": "default"},
            "spec": {"schedule": "@hourly", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "hello", "image": "busybox"}]}}}}}}
    sts = _workload("StatefulSet")
    sts["spec"]["serviceName"] = "w"
    return [
        (POD, fresh(WEB_POD)), (DEPLOYMENT, fresh(NGINX_DEPLOYMENT)), (REPLICASET, _workload("ReplicaSet")),
        (STATEFULSET, sts), (DAEMONSET, _workload("DaemonSet")),
        (CRONJOB, cron),
        (SERVICE, {"metadata": {"name": "svc", "namespace": "default"}, "spec": {"ports": [{"port": 80}]}}),
        (SECRET, {"metadata": {"name": "s", "namespace": "default"}, "stringData": {"k": "v"}}),
        (NAMESPACE, {"metadata": {"name": "dev"}}),
        (NODE, {"metadata": {"name": "node-1"}, "status": {"capacity": {"cpu": 2}}}),
    ]


@pytest.mark.parametrize("resource, manifest", _all_manifests(), ids=lambda v: getattr(v, "kind", ""))
def test_defaulting_is_idempotent_and_valid(resource: Any, manifest: dict[str, Any]) -> None:
    apply_defaults(resource, manifest)
    once = copy.deepcopy(manifest)
    apply_defaults(resource, manifest)
    assert manifest == once
    assert validate_create(resource, manifest) == []
