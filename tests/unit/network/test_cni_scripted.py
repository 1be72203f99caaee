"""CNIPlugin and invoke() against scripted stand-in plugins: what goes in (env, stdin) and what
comes back (results, errors, the cache), without root or real networking."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from pocketkube.network.base import NetworkError, PodNetworkRef, PortMapping
from pocketkube.network.cni import CNIPlugin
from pocketkube.network.config import NetworkOptions
from pocketkube.network.invoke import CNIError, Invocation, invoke, supported_versions

# A stand-in plugin: logs its env and stdin, then answers per its name and $FAKE_CNI_MODE.
SCRIPT = """#!{python}
import json, os, sys
conf = json.load(sys.stdin)
name = os.path.basename(sys.argv[0])
env = {{k: v for k, v in os.environ.items() if k.startswith("CNI_")}}
with open(os.path.join({log!r}, "calls.jsonl"), "a") as f:
    f.write(json.dumps({{"plugin": name, "env": env, "conf": conf}}) + "\\n")
cmd = env["CNI_COMMAND"]
if cmd == "VERSION":
    print(json.dumps({{"cniVersion": "1.0.0", "supportedVersions": ["0.4.0", "1.0.0"]}}))
elif os.environ.get("FAKE_CNI_FAIL") == name + ":" + cmd:
    print(json.dumps({{"cniVersion": "1.0.0", "code": 11, "msg": "failed to frob", "details": "frob=1"}}))
    sys.exit(1)
elif cmd == "ADD" and name == "bridge":
    print(json.dumps({{"cniVersion": "1.0.0",
        "interfaces": [{{"name": "br"}}, {{"name": "eth0", "sandbox": env["CNI_NETNS"]}}],
        "ips": [{{"interface": 1, "address": "10.9.0.2/24", "gateway": "10.9.0.1"}}]}}))
elif cmd == "ADD" and "prevResult" in conf:
    print(json.dumps(conf["prevResult"]))
elif cmd == "ADD":
    print(json.dumps({{"cniVersion": "1.0.0", "interfaces": [{{"name": "lo", "sandbox": env["CNI_NETNS"]}}],
                      "ips": []}}))
"""


@pytest.fixture()
def fake_plugins(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("bridge", "portmap", "loopback"):
        path = bin_dir / name
        path.write_text(SCRIPT.format(python=sys.executable, log=str(tmp_path)))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def calls(tmp_path: Path) -> list[dict[str, Any]]:
    log = tmp_path / "calls.jsonl"
    return [orjson.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def make(tmp_path: Path, bin_dir: Path) -> CNIPlugin:
    opts = NetworkOptions(network_name="unit", bridge="br", pod_cidr="10.9.0.0/24", cluster_cidr="10.9.0.0/16",
                          state_dir=tmp_path / "state", bin_dirs=(str(tmp_path / "missing"), str(bin_dir)))
    return CNIPlugin(opts)


POD = PodNetworkRef("ns1", "web", "uid-1", "sb1")


async def test_add_chains_prev_result_and_passes_runtime_config(tmp_path: Path, fake_plugins: Path) -> None:
    netns = tmp_path / "netns"
    netns.touch()
    plugin = make(tmp_path, fake_plugins)
    status = await plugin.setup(POD, str(netns), [PortMapping(8080, 80)])
    assert (status.pod_ip, status.gateway) == ("10.9.0.2", "10.9.0.1")
    log = calls(tmp_path)
    assert [(c["plugin"], c["env"]["CNI_COMMAND"], c["env"]["CNI_IFNAME"]) for c in log] == [
        ("loopback", "ADD", "lo"), ("bridge", "ADD", "eth0"), ("portmap", "ADD", "eth0"),
    ]
    bridge, portmap = log[1], log[2]
    assert bridge["env"] == {
        "CNI_COMMAND": "ADD", "CNI_CONTAINERID": "sb1", "CNI_NETNS": str(netns), "CNI_IFNAME": "eth0",
        "CNI_PATH": f"{tmp_path / 'missing'}:{fake_plugins}",
        "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=sb1;"
                    "K8S_POD_UID=uid-1",
    }
    assert (bridge["conf"]["cniVersion"], bridge["conf"]["name"]) == ("1.0.0", "unit")
    assert "prevResult" not in bridge["conf"] and "runtimeConfig" not in bridge["conf"]
    assert portmap["conf"]["prevResult"]["ips"][0]["address"] == "10.9.0.2/24"
    assert portmap["conf"]["runtimeConfig"] == {
        "portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]
    }
    cached = orjson.loads((tmp_path / "state/cache/results/unit-sb1-eth0").read_bytes())
    assert cached["kind"] == "cniCacheV1" and cached["result"]["ips"][0]["address"] == "10.9.0.2/24"

    # A second setup is answered from the cache; a "restarted" plugin reads the status back.
    assert await plugin.setup(POD, str(netns), []) == status
    assert len(calls(tmp_path)) == 3
    assert await make(tmp_path, fake_plugins).status(POD, str(netns)) == status


async def test_del_reverse_order_with_cached_prev_result(tmp_path: Path, fake_plugins: Path) -> None:
    netns = tmp_path / "netns"
    netns.touch()
    plugin = make(tmp_path, fake_plugins)
    await plugin.setup(POD, str(netns), [PortMapping(8080, 80)])
    (tmp_path / "calls.jsonl").unlink()
    await plugin.teardown(POD, str(netns), [])  # the cached port mappings are the ones torn down
    log = calls(tmp_path)
    assert [(c["plugin"], c["env"]["CNI_COMMAND"]) for c in log] == [
        ("portmap", "DEL"), ("bridge", "DEL"), ("loopback", "DEL"),
    ]
    assert log[0]["conf"]["prevResult"]["ips"][0]["address"] == "10.9.0.2/24"
    assert log[0]["conf"]["runtimeConfig"]["portMappings"][0]["hostPort"] == 8080
    assert not (tmp_path / "state/cache/results/unit-sb1-eth0").exists()
    assert await plugin.status(POD, str(netns)) is None

    # netns gone: DEL still runs with an empty CNI_NETNS, and loopback is skipped.
    (tmp_path / "calls.jsonl").unlink()
    netns.unlink()
    await plugin.teardown(POD, str(netns), [])
    log = calls(tmp_path)
    assert [(c["plugin"], c["env"]["CNI_NETNS"]) for c in log] == [("portmap", ""), ("bridge", "")]
    assert "prevResult" not in log[0]["conf"]


async def test_failed_add_raises_plugin_message_and_rolls_back(
    tmp_path: Path, fake_plugins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netns = tmp_path / "netns"
    netns.touch()
    monkeypatch.setenv("FAKE_CNI_FAIL", "portmap:ADD")
    plugin = make(tmp_path, fake_plugins)
    with pytest.raises(CNIError) as info:
        await plugin.setup(POD, str(netns), [])
    assert (info.value.code, info.value.msg, info.value.details) == (11, "failed to frob", "frob=1")
    assert "failed to frob" in str(info.value)
    commands = [(c["plugin"], c["env"]["CNI_COMMAND"]) for c in calls(tmp_path)]
    assert commands[-3:] == [("portmap", "DEL"), ("bridge", "DEL"), ("loopback", "DEL")]
    assert not (tmp_path / "state/cache/results/unit-sb1-eth0").exists()


async def test_failed_del_keeps_cache_for_retry(
    tmp_path: Path, fake_plugins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netns = tmp_path / "netns"
    netns.touch()
    plugin = make(tmp_path, fake_plugins)
    await plugin.setup(POD, str(netns), [])
    monkeypatch.setenv("FAKE_CNI_FAIL", "bridge:DEL")
    with pytest.raises(CNIError, match="failed to frob"):
        await plugin.teardown(POD, str(netns), [])
    assert (tmp_path / "state/cache/results/unit-sb1-eth0").exists()
    monkeypatch.delenv("FAKE_CNI_FAIL")
    await plugin.teardown(POD, str(netns), [])
    assert not (tmp_path / "state/cache/results/unit-sb1-eth0").exists()


async def test_setup_needs_the_netns(tmp_path: Path, fake_plugins: Path) -> None:
    with pytest.raises(NetworkError, match="does not exist"):
        await make(tmp_path, fake_plugins).setup(POD, str(tmp_path / "nope"), [])
    assert calls(tmp_path) == []


async def test_invalid_options_and_missing_plugin(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="not inside cluster CIDR"):
        CNIPlugin(NetworkOptions(pod_cidr="10.1.0.0/24"))
    netns = tmp_path / "netns"
    netns.touch()
    plugin = CNIPlugin(NetworkOptions(state_dir=tmp_path, bin_dirs=(str(tmp_path),)))
    with pytest.raises(NetworkError, match="CNI plugin 'loopback' not found"):
        await plugin.setup(POD, str(netns), [])
    with pytest.raises(NetworkError, match="not found"):
        await plugin.check_plugins()


async def test_version_and_check_plugins(tmp_path: Path, fake_plugins: Path) -> None:
    assert await supported_versions(str(fake_plugins / "bridge")) == ["0.4.0", "1.0.0"]
    await make(tmp_path, fake_plugins).check_plugins()
    opts = NetworkOptions(state_dir=tmp_path, bin_dirs=(str(fake_plugins),), cni_version="1.1.0")
    with pytest.raises(NetworkError, match="not 1.1.0"):
        await CNIPlugin(opts).check_plugins()


async def test_non_json_failure_uses_stderr(tmp_path: Path) -> None:
    path = tmp_path / "broken"
    path.write_text("#!/bin/sh\necho 'segfault in frobnicator' >&2\nexit 3\n")
    path.chmod(0o755)
    with pytest.raises(CNIError) as info:
        await invoke(str(path), "ADD", {}, Invocation("c", "/n", "eth0"))
    assert info.value.details == "segfault in frobnicator" and "exit status 3" in info.value.msg
    os.remove(path)


async def test_attachments_lists_cached_pods(tmp_path: Path, fake_plugins: Path) -> None:
    netns = tmp_path / "netns"
    netns.touch()
    plugin = make(tmp_path, fake_plugins)
    assert plugin.attachments() == []
    other = PodNetworkRef("ns2", "db", "uid-2", "sb2")
    await plugin.setup(POD, str(netns), [])
    await plugin.setup(other, str(netns), [])
    (tmp_path / "state/cache/results/unit-sb3-eth0").write_text("not json")  # ignored, not fatal
    (tmp_path / "state/cache/results/othernet-sb4-eth0").write_text("{}")  # another network's
    assert plugin.attachments() == [POD, other]
    await plugin.teardown(POD, str(netns), [])
    assert plugin.attachments() == [other]
