"""The agent's HTTPS endpoint (the kubelet's port 10250): container logs for `kubectl logs`.

The API server proxies pods/log here. Callers must present a client certificate signed by the
cluster CA; the serving certificate is the agent's own (as kube-apiserver, the API server does not
verify kubelet serving certificates unless configured to).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pocketkube.agent.logs import LogOptions, stream_log
from pocketkube.api import meta


@dataclass(frozen=True)
class LogTarget:
    path: Path
    running: asyncio.Event  # set while the container runs; a follow ends when it is cleared


class LogSource(Protocol):
    async def find_log(self, namespace: str, pod: str, container: str, previous: bool) -> LogTarget | None: ...


def _int(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise web.HTTPBadRequest(text=f"invalid integer: {value}") from None


def log_options(query: object) -> LogOptions:
    q = query  # a MultiDictProxy
    get = q.get  # type: ignore[attr-defined]
    since_time = get("sinceTime")
    return LogOptions(
        follow=get("follow", "") in ("true", "1"), previous=get("previous", "") in ("true", "1"),
        tail_lines=_int(get("tailLines")), since_seconds=_int(get("sinceSeconds")),
        since_time=meta.parse_time(since_time) if since_time else None,
        timestamps=get("timestamps", "") in ("true", "1"), limit_bytes=_int(get("limitBytes")))


def make_app(source: LogSource) -> web.Application:
    async def container_logs(request: web.Request) -> web.StreamResponse:
        ns, pod, container = (request.match_info[k] for k in ("namespace", "pod", "container"))
        opts = log_options(request.query)
        target = await source.find_log(ns, pod, container, opts.previous)
        if target is None:
            what = "previous terminated container" if opts.previous else "container"
            raise web.HTTPNotFound(text=f'{what} "{container}" in pod "{pod}" not found')
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        async for chunk in stream_log(target.path, opts, meta.now(), target.running):
            await response.write(chunk)
        return response

    app = web.Application()
    app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", container_logs)
    app.router.add_get("/healthz", lambda _r: _ok())
    return app


async def _ok() -> web.Response:
    return web.Response(text="ok")


def ensure_serving_cert(directory: Path, names: list[str]) -> tuple[Path, Path]:
    """A self-signed serving certificate for the agent, made once."""
    cert_path, key_path = directory / "kubelet.crt", directory / "kubelet.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else "pocketkube-agent")])
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .sign(key, hashes.SHA256()))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def server_ssl_context(cert: Path, key: Path, client_ca_pem: bytes) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cadata=client_ca_pem.decode())
    ctx.load_cert_chain(str(cert), str(key))
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx
