"""Pod and PodSpec defaults, as kube-apiserver's v1 defaulting (and a few admission plugins) set them.

`default_pod_spec` is shared by Pods and every pod template (Deployment, ReplicaSet, StatefulSet,
DaemonSet, Job, CronJob). `default_pod` adds what only a Pod gets: `enableServiceLinks`, and what
admission plugins add to every Pod users create (DefaultTolerationSeconds, Priority, the
ServiceAccount name). Everything only fills what is absent, so defaulting twice changes nothing.
Quantities are rewritten to their canonical text, as the API server does when it encodes them.
"""

from __future__ import annotations

from typing import Any

from pocketkube.api.obj import Obj
from pocketkube.api.quantity import canonical, is_quantity

DEFAULT_TOLERATION_SECONDS = 300
_NOT_READY = "node.kubernetes.io/not-ready"
_UNREACHABLE = "node.kubernetes.io/unreachable"
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_VOLUME_SOURCES_WITH_MODE = ("configMap", "secret", "downwardAPI", "projected")


def image_tag(image: str) -> str:
    """The tag of an image reference: `latest` when it has neither tag nor digest, "" for a digest only."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.rsplit(":", 1)[1]
    return "" if digest else "latest"


def default_pull_policy(image: str) -> str:
    return "Always" if image_tag(image) == "latest" else "IfNotPresent"


def _canonical_map(resources: Obj | None) -> None:
    if not isinstance(resources, dict):
        return
    for key, value in resources.items():
        if is_quantity(value):
            resources[key] = canonical(value)


def default_resources(resources: Obj) -> None:
    """Limits fill missing requests (per resource), then quantities become canonical."""
    limits = resources.get("limits")
    if isinstance(limits, dict) and limits:
        requests = resources.get("requests")
        if not isinstance(requests, dict):
            requests = resources["requests"] = {}
        for name, value in limits.items():
            requests.setdefault(name, value)
    _canonical_map(resources.get("limits"))
    _canonical_map(resources.get("requests"))


def _default_handler(handler: Obj | None) -> None:
    """httpGet path and scheme, as SetDefaults_HTTPGetAction sets them (probes and lifecycle hooks)."""
    if not isinstance(handler, dict):
        return
    http_get = handler.get("httpGet")
    if isinstance(http_get, dict):
        http_get.setdefault("path", "/")
        http_get.setdefault("scheme", "HTTP")


def default_probe(probe: Obj) -> None:
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    _default_handler(probe)


def _default_field_ref(ref: Obj | None) -> None:
    if isinstance(ref, dict):
        ref.setdefault("apiVersion", "v1")


def _default_resource_field_ref(ref: Obj | None) -> None:
    # divisor is a non-pointer Quantity in Go: its zero value is always written back as "0".
    if isinstance(ref, dict):
        divisor = ref.get("divisor", 0)
        ref["divisor"] = canonical(divisor) if is_quantity(divisor) else divisor


def default_container(container: Obj) -> None:
    if not container.get("imagePullPolicy"):
        container["imagePullPolicy"] = default_pull_policy(str(container.get("image") or ""))
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    for port in container.get("ports") or ():
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for env in container.get("env") or ():
        value_from = env.get("valueFrom") if isinstance(env, dict) else None
        if isinstance(value_from, dict):
            _default_field_ref(value_from.get("fieldRef"))
            _default_resource_field_ref(value_from.get("resourceFieldRef"))
    resources = container.get("resources")
    if isinstance(resources, dict):
        default_resources(resources)
    else:
        container["resources"] = {}
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if isinstance(probe, dict):
            default_probe(probe)
    lifecycle = container.get("lifecycle")
    if isinstance(lifecycle, dict):
        _default_handler(lifecycle.get("postStart"))
        _default_handler(lifecycle.get("preStop"))


def _has_source(volume: Obj) -> bool:
    return any(key != "name" and value is not None for key, value in volume.items())


def default_volume(volume: Obj) -> None:
    if not _has_source(volume):
        volume["emptyDir"] = {}
    for source_name in _VOLUME_SOURCES_WITH_MODE:
        source = volume.get(source_name)
        if isinstance(source, dict):
            source.setdefault("defaultMode", 420)
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict):
        host_path.setdefault("type", "")
    empty_dir = volume.get("emptyDir")
    if isinstance(empty_dir, dict) and is_quantity(empty_dir.get("sizeLimit")):
        empty_dir["sizeLimit"] = canonical(empty_dir["sizeLimit"])
    downward = volume.get("downwardAPI")
    if isinstance(downward, dict):
        _default_downward_items(downward.get("items"))
    projected = volume.get("projected")
    if isinstance(projected, dict):
        for source in projected.get("sources") or ():
            if not isinstance(source, dict):
                continue
            token = source.get("serviceAccountToken")
            if isinstance(token, dict):
                token.setdefault("expirationSeconds", 3600)
            if isinstance(source.get("downwardAPI"), dict):
                _default_downward_items(source["downwardAPI"].get("items"))


def _default_downward_items(items: Any) -> None:
    for item in items or ():
        if isinstance(item, dict):
            _default_field_ref(item.get("fieldRef"))
            _default_resource_field_ref(item.get("resourceFieldRef"))


def default_pod_spec(spec: Obj) -> None:
    """SetDefaults_PodSpec plus the defaults of every container, volume and probe it holds."""
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    spec.setdefault("schedulerName", "default-scheduler")
    for list_name in _CONTAINER_LISTS:
        for container in spec.get(list_name) or ():
            if isinstance(container, dict):
                default_container(container)
                if spec.get("hostNetwork"):
                    # With the host's network the container port *is* the host port.
                    for port in container.get("ports") or ():
                        if isinstance(port, dict) and not port.get("hostPort"):
                            port["hostPort"] = port.get("containerPort")
    for volume in spec.get("volumes") or ():
        if isinstance(volume, dict):
            default_volume(volume)


def default_pod_template(template: Any) -> None:
    if not isinstance(template, dict):
        return
    spec = template.get("spec")
    if isinstance(spec, dict):
        default_pod_spec(spec)


def _tolerates(tolerations: list[Any], key: str) -> bool:
    """Whether some toleration already covers `key:NoExecute` (DefaultTolerationSeconds leaves it)."""
    for toleration in tolerations:
        if not isinstance(toleration, dict):
            continue
        if toleration.get("effect") not in (None, "", "NoExecute"):
            continue
        if toleration.get("key") == key or (not toleration.get("key") and toleration.get("operator") == "Exists"):
            return True
    return False


def default_pod(pod: Obj) -> None:
    """A Pod's defaults: its spec's, `enableServiceLinks`, and what admission adds to every new Pod."""
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return
    default_pod_spec(spec)
    spec.setdefault("enableServiceLinks", True)
    # Admission: Priority (no PriorityClass in pocketkube, so the global default of 0).
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    # Admission: ServiceAccount (v1 mirrors serviceAccountName into the deprecated serviceAccount).
    if not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec.get("serviceAccount") or "default"
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    # Admission: DefaultTolerationSeconds.
    tolerations = spec.get("tolerations")
    if not isinstance(tolerations, list):
        tolerations = []
    added = [
        {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": DEFAULT_TOLERATION_SECONDS}
        for key in (_NOT_READY, _UNREACHABLE)
        if not _tolerates(tolerations, key)
    ]
    if added:
        spec["tolerations"] = tolerations + added
