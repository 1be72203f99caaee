"""API server figures for the SQLite store on this machine.

Prints: cold start to ready, idle RSS, creates/s and gets/s with 8 keep-alive clients (wrk, on the
other core), list latency of 1,000 pods, and watch fan-out to 100 watchers, each with p50/p99.
Bars (issue 2): ≥ 1,000 creates/s, ≥ 3,000 gets/s, cold start ≤ 1 s, idle RSS ≤ 100 MiB.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.server import AgentOptions, ServerProcess, client_ssl_context, raw_request  # noqa: E402

NS = "bench"
LIST_NS = "bench-list"
# A scheduler nobody runs: the pods stay Pending, so the figures are the API's, not the node's.
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "bench-", "labels": {"app": "bench"}},
       "spec": {"schedulerName": "api-bench", "containers": [{"name": "web", "image": "busybox:1.35", "command": ["httpd", "-f"],
                                "ports": [{"containerPort": 80}],
                                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def server_pid(server: ServerProcess) -> int:
    assert server.proc is not None
    return server.proc.pid


def run_wrk(wrk: str, url: str, token: str, script: str, seconds: int = 8) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        out = subprocess.run(
            ["taskset", "-c", "1", wrk, "-t1", "-c8", f"-d{seconds}s", "--latency", "-s", path,
             "-H", f"Authorization: Bearer {token}", url], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(path)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    lat = {}
    for label in ("50%", "99%"):
        m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
        if m:
            value, unit = float(m.group(1)), m.group(2)
            lat[label] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    return {"rate": rate, "p50": lat.get("50%", 0), "p99": lat.get("99%", 0),
            "errors": float(errors.group(1)) if errors else 0.0}


async def list_latency(server: ServerProcess, ctx: ssl.SSLContext) -> list[float]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as session:
        sem = asyncio.Semaphore(8)

        async def create(i: int) -> None:
            pod = json.loads(json.dumps(POD))
            pod["metadata"] = {"name": f"list-{i:04d}", "labels": {"app": "bench"}}
            async with sem, session.post(f"{server.url}/api/v1/namespaces/{LIST_NS}/pods", json=pod) as resp:
                assert resp.status == 201, await resp.text()

        await asyncio.gather(*(create(i) for i in range(1000)))
        samples = []
        for _ in range(30):
            started = time.perf_counter()
            async with session.get(f"{server.url}/api/v1/namespaces/{LIST_NS}/pods") as resp:
                body = await resp.read()
                assert resp.status == 200
            samples.append((time.perf_counter() - started) * 1000)
        assert len(json.loads(body)["items"]) == 1000
        return samples


async def watch_fanout(server: ServerProcess, ctx: ssl.SSLContext, watchers: int = 100,
                       events: int = 200) -> tuple[float, list[float]]:
    """Events/s delivered to all watchers together, and per-event delivery latency (ms)."""
    connector = aiohttp.TCPConnector(ssl=ctx, limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.get(f"{server.url}/api/v1/namespaces/{NS}/configmaps") as resp:
            rv = (await resp.json())["metadata"]["resourceVersion"]
        sent: dict[str, float] = {}
        latencies: list[float] = []
        done = asyncio.Event()
        received = 0

        async def watcher() -> None:
            nonlocal received
            url = f"{server.url}/api/v1/namespaces/{NS}/configmaps?watch=1&resourceVersion={rv}"
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=120)) as resp:
                count = 0
                async for line in resp.content:
                    event = json.loads(line)
                    name = event["object"]["metadata"]["name"]
                    latencies.append((time.perf_counter() - sent.get(name, time.perf_counter())) * 1000)
                    count += 1
                    received += 1
                    if count == events:
                        break
            if received >= watchers * events:
                done.set()

        tasks = [asyncio.create_task(watcher()) for _ in range(watchers)]
        await asyncio.sleep(1.0)
        started = time.perf_counter()
        for i in range(events):
            name = f"fan-{i}"
            sent[name] = time.perf_counter()
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
            async with session.post(f"{server.url}/api/v1/namespaces/{NS}/configmaps", json=body) as resp:
                assert resp.status == 201, await resp.text()
        await asyncio.wait_for(done.wait(), 120)
        elapsed = time.perf_counter() - started
        for task in tasks:
            task.cancel()
        return received / elapsed, latencies


def can_run_pods() -> bool:
    return os.geteuid() == 0 and all(shutil.which(b, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
                                     for b in ("runc", "conmon"))


def main() -> None:
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        # The all-in-one server: API, scheduler and (where this host can run pods) the node agent.
        agent = AgentOptions("pkapibench0", "10.254.202.0/24") if can_run_pods() else None
        server = ServerProcess(Path(tmp) / "data", agent=agent)
        first_start = server.start()
        restarts = []
        for _ in range(3):
            server.stop()
            restarts.append(server.start())
        cold = statistics.median(restarts)
        time.sleep(2)
        idle = rss_mib(server_pid(server))
        token = (server.data_dir / "pki" / "admin.token").read_text().strip()
        ctx = client_ssl_context(server.data_dir)
        for ns in (NS, LIST_NS):
            raw_request(server, "POST", "/api/v1/namespaces", json.dumps(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}).encode())
        body = json.dumps(POD).replace('"', '\\"')
        create = run_wrk(wrk, f"{server.url}/api/v1/namespaces/{NS}/pods", token,
                         f'wrk.method = "POST"\nwrk.body = "{body}"\n'
                         f'wrk.headers["Content-Type"] = "application/json"\n')
        one = json.loads(server.kubectl("get", "pods", "-n", NS, "-o", "json").stdout)["items"][0]
        get = run_wrk(wrk, f"{server.url}/api/v1/namespaces/{NS}/pods/{one['metadata']['name']}", token, "")
        listing = asyncio.run(list_latency(server, ctx))
        rate, latencies = asyncio.run(watch_fanout(server, ctx))
        loaded = rss_mib(server_pid(server))
        server.stop()
        if agent is not None:
            subprocess.run(["ip", "link", "del", agent.bridge], capture_output=True, check=False)
    print(f"server: API + scheduler{' + node agent' if agent else ' (no node agent: not root or no runc)'}")
    print(f"cold start to ready: first {first_start * 1000:.0f} ms, restart {cold * 1000:.0f} ms (bar ≤ 1000 ms)")
    print(f"idle RSS: {idle:.1f} MiB (bar ≤ 100 MiB); after the run: {loaded:.1f} MiB")
    print(f"creates/s (pods, 8 clients): {create['rate']:.0f}  p50 {create['p50']:.2f} ms  "
          f"p99 {create['p99']:.2f} ms  non-2xx {create['errors']:.0f}  (bar ≥ 1000/s)")
    print(f"gets/s (8 clients): {get['rate']:.0f}  p50 {get['p50']:.2f} ms  p99 {get['p99']:.2f} ms  "
          f"non-2xx {get['errors']:.0f}  (bar ≥ 3000/s)")
    print(f"list of 1000 pods: p50 {statistics.median(listing):.1f} ms  p99 {pct(listing, 99):.1f} ms")
    print(f"watch fan-out to 100 watchers: {rate:.0f} events/s delivered  "
          f"latency p50 {pct(latencies, 50):.1f} ms  p99 {pct(latencies, 99):.1f} ms")


if __name__ == "__main__":
    main()
