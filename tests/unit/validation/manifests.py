"""Manifests users apply, shared by the defaulting and validation tests."""

from __future__ import annotations

import copy
from typing import Any

from pocketkube.api.resources import ResourceInfo, lookup_kind


def resource(kind: str, group: str = "", version: str = "v1") -> ResourceInfo:
    info = lookup_kind(group, version, kind)
    assert info is not None, kind
    return info


POD = resource("Pod")
DEPLOYMENT = resource("Deployment", "apps")
REPLICASET = resource("ReplicaSet", "apps")
STATEFULSET = resource("StatefulSet", "apps")
DAEMONSET = resource("DaemonSet", "apps")
JOB = resource("Job", "batch")
CRONJOB = resource("CronJob", "batch")
SERVICE = resource("Service")
SECRET = resource("Secret")
CONFIGMAP = resource("ConfigMap")
NAMESPACE = resource("Namespace")
NODE = resource("Node")
LEASE = resource("Lease", "coordination.k8s.io")

NGINX_DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "nginx-deployment", "namespace": "default", "labels": {"app": "nginx"}},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "nginx"}},
        "template": {
            "metadata": {"labels": {"app": "nginx"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2", "ports": [{"containerPort": 80}]}]},
        },
    },
}

WEB_POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
    "spec": {
        "initContainers": [
            {"name": "init-myservice", "image": "busybox:1.28",
             "command": ["sh", "-c", "until nslookup myservice; do sleep 2; done"]},
        ],
        "containers": [
            {
                "name": "web",
                "image": "nginx",
                "ports": [{"name": "http", "containerPort": 80}],
                "env": [
                    {"name": "MY_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "GREETING", "value": "hello"},
                ],
                "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}},
                "livenessProbe": {"httpGet": {"port": 80}, "initialDelaySeconds": 3},
                "readinessProbe": {"tcpSocket": {"port": "http"}},
                "volumeMounts": [
                    {"name": "cache", "mountPath": "/cache"},
                    {"name": "config", "mountPath": "/etc/config"},
                ],
            },
        ],
        "volumes": [
            {"name": "cache"},
            {"name": "config", "configMap": {"name": "web-config"}},
            {"name": "host", "hostPath": {"path": "/var/log"}},
        ],
    },
}


def fresh(manifest: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(manifest)
