"""Bad input gets the right Kubernetes Status error, and the server keeps serving."""

from __future__ import annotations

import json

import pytest

from tests.support.server import ServerProcess, raw_request

pytestmark = pytest.mark.e2e

CM_PATH = "/api/v1/namespaces/default/configmaps"


def status_of(server: ServerProcess, method: str, path: str, body: bytes | None = None,
              content_type: str = "application/json", **kw: object) -> tuple[int, dict]:
    code, raw = raw_request(server, method, path, body, content_type, **kw)  # type: ignore[arg-type]
    return code, json.loads(raw)


def assert_status(result: tuple[int, dict], code: int, reason: str) -> dict:
    got_code, body = result
    assert got_code == code, body
    assert body["kind"] == "Status" and body["status"] == "Failure"
    assert body["code"] == code and body["reason"] == reason, body
    return body


def test_unauthenticated_gets_401(server: ServerProcess) -> None:
    assert_status(status_of(server, "GET", CM_PATH, authenticated=False), 401, "Unauthorized")
    code, _ = raw_request(server, "GET", "/readyz", authenticated=False)
    assert code == 200


def test_malformed_json_and_yaml(server: ServerProcess) -> None:
    assert_status(status_of(server, "POST", CM_PATH, b'{"apiVersion": "v1", "kind": '), 400, "BadRequest")
    assert_status(status_of(server, "POST", CM_PATH, b"kind: [unclosed", "application/yaml"), 400, "BadRequest")
    assert_status(status_of(server, "POST", CM_PATH, b"[1, 2]"), 400, "BadRequest")


def test_unknown_kind_and_resource(server: ServerProcess) -> None:
    assert_status(status_of(server, "GET", "/api/v1/namespaces/default/widgets"), 404, "NotFound")
    assert_status(status_of(server, "GET", "/apis/example.com/v1/widgets"), 404, "NotFound")
    body = json.dumps({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}).encode()
    assert_status(status_of(server, "POST", CM_PATH, body), 400, "BadRequest")


def test_invalid_name_is_422_with_field_path(server: ServerProcess) -> None:
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}}).encode()
    status = assert_status(status_of(server, "POST", CM_PATH, body), 422, "Invalid")
    assert status["details"]["causes"][0]["field"] == "metadata.name"
    assert status["details"]["kind"] == "ConfigMap"


def test_invalid_pod_reports_each_field(server: ServerProcess) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad"},
           "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "a"}]}}
    status = assert_status(status_of(server, "POST", "/api/v1/namespaces/default/pods",
                                     json.dumps(pod).encode()), 422, "Invalid")
    fields = {c["field"] for c in status["details"]["causes"]}
    assert "spec.containers[1].name" in fields and "spec.containers[1].image" in fields


def test_oversized_body_is_413(server: ServerProcess) -> None:
    big = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"},
                      "data": {"k": "x" * (4 * 1024 * 1024)}}).encode()
    code, raw = raw_request(server, "POST", CM_PATH, big)
    assert code == 413


def test_conflict_on_stale_resource_version(server: ServerProcess) -> None:
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cas"}}).encode()
    code, created = status_of(server, "POST", CM_PATH, body)
    assert code == 201
    stale = dict(created)
    stale["data"] = {"x": "1"}
    code, _ = status_of(server, "PUT", f"{CM_PATH}/cas", json.dumps(stale).encode())
    assert code == 200
    stale["data"] = {"x": "2"}
    assert_status(status_of(server, "PUT", f"{CM_PATH}/cas", json.dumps(stale).encode()), 409, "Conflict")


def test_unsupported_patch_type_is_415(server: ServerProcess) -> None:
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p415"}}).encode()
    status_of(server, "POST", CM_PATH, body)
    assert_status(status_of(server, "PATCH", f"{CM_PATH}/p415", b"{}", "text/plain"), 415,
                  "UnsupportedMediaType")


def test_server_still_serves_after_bad_input(server: ServerProcess) -> None:
    code, body = status_of(server, "GET", "/api/v1/namespaces/default/configmaps")
    assert code == 200 and body["kind"] == "ConfigMapList"
