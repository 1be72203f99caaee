"""kill -9 of the server in the middle of writes loses no acknowledged write."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.support.server import ServerProcess, raw_request

pytestmark = pytest.mark.e2e


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "crash")
    server.start()
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(worker: int) -> None:
        i = 0
        while not stop.is_set():
            name = f"w{worker}-{i}"
            body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                               "data": {"i": str(i)}}).encode()
            try:
                code, _ = raw_request(server, "POST", "/api/v1/namespaces/default/configmaps", body)
            except OSError:
                return
            if code == 201:
                with lock:
                    acked.append(name)
            i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    try:
        for t in threads:
            t.start()
        while True:
            with lock:
                if len(acked) >= 300:
                    break
            threading.Event().wait(0.01)
        server.kill()
        stop.set()
        for t in threads:
            t.join(30)
        with lock:
            acknowledged = list(acked)
        server.start()
        code, raw = raw_request(server, "GET", "/api/v1/namespaces/default/configmaps")
        assert code == 200
        present = {item["metadata"]["name"] for item in json.loads(raw)["items"]}
        missing = [name for name in acknowledged if name not in present]
        assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
        assert len(acknowledged) >= 300
    finally:
        stop.set()
        server.stop()
