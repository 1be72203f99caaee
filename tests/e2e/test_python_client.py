"""The official `kubernetes` Python client, unchanged, against pocketkube."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e


@pytest.fixture()
def api(server: ServerProcess) -> Iterator[client.ApiClient]:
    api_client = config.new_client_from_config(config_file=str(server.kubeconfig))
    yield api_client
    api_client.close()


def cm(name: str, labels: dict[str, str] | None = None) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels), data={"k": name})


def test_crud(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    created = core.create_namespaced_config_map("default", cm("py-crud"))
    assert created.metadata.uid
    read = core.read_namespaced_config_map("py-crud", "default")
    read.data["k"] = "changed"
    replaced = core.replace_namespaced_config_map("py-crud", "default", read)
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    patched = core.patch_namespaced_config_map("py-crud", "default", {"metadata": {"labels": {"p": "1"}}})
    assert patched.metadata.labels == {"p": "1"}
    core.delete_namespaced_config_map("py-crud", "default")
    with pytest.raises(ApiException) as info:
        core.read_namespaced_config_map("py-crud", "default")
    assert info.value.status == 404


def test_deployment_crud_and_scale(api: client.ApiClient) -> None:
    apps = client.AppsV1Api(api)
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "py-deploy"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "py"}},
                     "template": {"metadata": {"labels": {"app": "py"}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}]}}}}
    created = apps.create_namespaced_deployment("default", body)
    assert created.spec.strategy.type == "RollingUpdate"
    assert created.spec.template.spec.restart_policy == "Always"
    scale = apps.read_namespaced_deployment_scale("py-deploy", "default")
    assert scale.spec.replicas == 2 and scale.status.selector == "app=py"
    apps.patch_namespaced_deployment_scale("py-deploy", "default", {"spec": {"replicas": 5}})
    assert apps.read_namespaced_deployment("py-deploy", "default").spec.replicas == 5
    apps.delete_namespaced_deployment("py-deploy", "default")


def test_list_with_selectors_and_pagination(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="paging")))
    for i in range(25):
        core.create_namespaced_config_map("paging", cm(f"item-{i:02d}", {"parity": "even" if i % 2 == 0 else "odd"}))
    odd = core.list_namespaced_config_map("paging", label_selector="parity=odd")
    assert len(odd.items) == 12
    named = core.list_namespaced_config_map("paging", field_selector="metadata.name=item-03")
    assert [i.metadata.name for i in named.items] == ["item-03"]
    names: list[str] = []
    token = None
    pages = 0
    while True:
        page = core.list_namespaced_config_map("paging", limit=10, _continue=token)
        pages += 1
        names += [i.metadata.name for i in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == 25 - len(names)
    assert pages == 3 and names == sorted(f"item-{i:02d}" for i in range(25))
    even_pages = core.list_namespaced_config_map("paging", label_selector="parity=even", limit=5)
    assert len(even_pages.items) == 5 and even_pages.metadata._continue


def test_watch_resumes_after_restart(server: ServerProcess, tmp_path: Path) -> None:
    api_client = config.new_client_from_config(config_file=str(server.kubeconfig))
    core = client.CoreV1Api(api_client)
    start = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", cm("before-restart"))
    server.stop()
    server.start()
    api_client = config.new_client_from_config(config_file=str(server.kubeconfig))
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map("default", cm("after-restart"))
    seen: list[tuple[str, str]] = []
    stream = watch.Watch()

    def stop_later() -> None:
        stream.stop()

    timer = threading.Timer(10, stop_later)
    timer.start()
    try:
        for event in stream.stream(core.list_namespaced_config_map, "default", resource_version=start,
                                   timeout_seconds=10):
            name = event["object"].metadata.name
            if name in ("before-restart", "after-restart"):
                seen.append((event["type"], name))
            if len(seen) == 2:
                stream.stop()
    finally:
        timer.cancel()
    assert seen == [("ADDED", "before-restart"), ("ADDED", "after-restart")]
