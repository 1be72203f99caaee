from typing import Any

import pytest

from pocketkube.agent.env import (
    CREATE_CONTAINER_CONFIG_ERROR,
    ContainerConfigError,
    field_value,
    resolve_env,
    resource_value,
)

from .fakes import Sources, make_pod


async def env_of(container: dict[str, Any], sources: Sources | None = None, **kw: Any) -> dict[str, str]:
    return await resolve_env(make_pod(container), container, sources or Sources(), **kw)


async def test_env_precedence_and_order() -> None:
    sources = Sources(configmaps={"cm": {"A": "from-cm", "B": "from-cm"}, "cm2": {"B": "cm2"}},
                      secrets={"sec": {"C": "s3cret"}})
    container = {
        "name": "c",
        "envFrom": [{"configMapRef": {"name": "cm"}}, {"configMapRef": {"name": "cm2"}},
                    {"secretRef": {"name": "sec"}, "prefix": "S_"}],
        "env": [{"name": "A", "value": "explicit"}, {"name": "D", "value": "$(A)-$(B)-$(S_C)-$(E)"},
                {"name": "E", "value": "late"}, {"name": "EMPTY"}],
    }
    env = await env_of(container, sources)
    assert env == {"A": "explicit", "B": "cm2", "S_C": "s3cret", "D": "explicit-cm2-s3cret-$(E)",
                   "E": "late", "EMPTY": ""}
    assert list(env) == ["A", "B", "S_C", "D", "E", "EMPTY"]


async def test_env_from_skips_invalid_names_with_warning() -> None:
    warnings: list[str] = []
    sources = Sources(configmaps={"cm": {"ok": "1", "bad=key": "2"}})
    env = await env_of({"name": "c", "envFrom": [{"configMapRef": {"name": "cm"}}]}, sources, warn=warnings.append)
    assert env == {"ok": "1"}
    assert warnings == ["Keys [bad=key] from the EnvFrom configMap ns1/cm were skipped since they are "
                        "considered invalid environment variable names."]


async def test_configmap_fetched_once() -> None:
    sources = Sources(configmaps={"cm": {"k": "v"}})
    container = {"name": "c", "envFrom": [{"configMapRef": {"name": "cm"}}],
                 "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}]}
    assert (await env_of(container, sources))["X"] == "v"
    assert sources.calls == [("configmap", "ns1", "cm")]


@pytest.mark.parametrize(("source", "message"), [
    ({"configMapKeyRef": {"name": "x", "key": "k"}}, 'configmap "x" not found'),
    ({"secretKeyRef": {"name": "x", "key": "k"}}, 'secret "x" not found'),
    ({"configMapKeyRef": {"name": "cm", "key": "k"}}, "couldn't find key k in ConfigMap ns1/cm"),
    ({"secretKeyRef": {"name": "sec", "key": "k"}}, "couldn't find key k in Secret ns1/sec"),
    ({"fieldRef": {"fieldPath": "spec.bogus"}}, "unsupported fieldPath: spec.bogus"),
    ({"fieldRef": {"fieldPath": "metadata.name['x']"}}, 'fieldPath "metadata.name[\'x\']" does not support subscript'),
    ({"resourceFieldRef": {"resource": "limits.gpu"}}, "unsupported container resource : limits.gpu"),
])
async def test_missing_sources_are_config_errors(source: dict[str, Any], message: str) -> None:
    sources = Sources(configmaps={"cm": {"other": "1"}}, secrets={"sec": {"other": "1"}})
    with pytest.raises(ContainerConfigError) as info:
        await env_of({"name": "c", "env": [{"name": "X", "valueFrom": source}]}, sources)
    assert info.value.reason == CREATE_CONTAINER_CONFIG_ERROR
    assert info.value.message == message


@pytest.mark.parametrize("container", [
    {"name": "c", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "x", "key": "k", "optional": True}}}]},
    {"name": "c", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k", "optional": True}}}]},
    {"name": "c", "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "x", "key": "k", "optional": True}}}]},
    {"name": "c", "envFrom": [{"configMapRef": {"name": "x", "optional": True}}]},
    {"name": "c", "envFrom": [{"secretRef": {"name": "x", "optional": True}}]},
])
async def test_optional_missing_defines_nothing(container: dict[str, Any]) -> None:
    assert await env_of(container, Sources(configmaps={"cm": {}})) == {}


async def test_missing_envfrom_configmap_is_error() -> None:
    with pytest.raises(ContainerConfigError, match='configmap "x" not found'):
        await env_of({"name": "c", "envFrom": [{"configMapRef": {"name": "x"}}]})


@pytest.mark.parametrize(("path", "value"), [
    ("metadata.name", "web"),
    ("metadata.namespace", "ns1"),
    ("metadata.uid", "1234-abcd"),
    ("metadata.labels['app']", "web"),
    ("metadata.labels['missing']", ""),
    ("metadata.annotations['note']", 'say "hi"'),
    ("metadata.labels", 'app="web"\ntier="front"'),
    ("metadata.annotations", 'note="say \\"hi\\""'),
    ("spec.nodeName", "node-1"),
    ("spec.serviceAccountName", "default"),
    ("status.podIP", "10.244.0.5"),
    ("status.podIPs", "10.244.0.5,fd00::5"),
    ("status.hostIP", "192.168.1.2"),
    ("status.hostIPs", "192.168.1.2"),
])
def test_field_values(path: str, value: str) -> None:
    assert field_value(make_pod(), path, ["10.244.0.5", "fd00::5"], ["192.168.1.2"]) == value


async def test_field_ref_uses_pod_ips_given() -> None:
    env = await env_of({"name": "c", "env": [{"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]},
                       pod_ips=["10.0.0.9"])
    assert env == {"IP": "10.0.0.9"}


RESOURCES = {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "250m", "memory": "64Mi"}}


@pytest.mark.parametrize(("resources", "resource", "divisor", "value"), [
    (RESOURCES, "limits.cpu", None, "1"),              # 0.5 cores rounded up
    (RESOURCES, "limits.cpu", "1m", "500"),
    (RESOURCES, "requests.cpu", "1m", "250"),
    (RESOURCES, "limits.memory", None, "134217728"),
    (RESOURCES, "limits.memory", "1Mi", "128"),
    (RESOURCES, "requests.memory", "1Mi", "64"),
    (RESOURCES, "requests.memory", "1Gi", "1"),
    ({}, "limits.cpu", None, "4"),                      # node allocatable stands in for no limit
    ({}, "limits.memory", "1Mi", "8192"),
    ({}, "requests.cpu", None, "0"),
    ({}, "requests.memory", None, "0"),
])
def test_resource_values(resources: dict[str, Any], resource: str, divisor: str | None, value: str) -> None:
    selector = {"resource": resource, **({"divisor": divisor} if divisor else {})}
    allocatable = {"cpu": "4", "memory": "8Gi"}
    assert resource_value({"name": "c", "resources": resources}, selector, allocatable) == value
