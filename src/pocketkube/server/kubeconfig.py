"""The admin kubeconfig: the CA, the server address and the admin client certificate, inline."""

from __future__ import annotations

import base64

import yaml

from pocketkube.server.pki import Pki


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def client_host(host: str) -> str:
    """Where clients connect for a listen host (a wildcard listens on loopback too)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def admin_kubeconfig(pki: Pki, host: str, port: int, name: str = "pocketkube") -> str:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {
            "server": f"https://{client_host(host)}:{port}",
            "certificate-authority-data": _b64(pki.ca_cert.read_bytes()),
        }}],
        "users": [{"name": f"{name}-admin", "user": {
            "client-certificate-data": _b64(pki.admin_cert.read_bytes()),
            "client-key-data": _b64(pki.admin_key.read_bytes()),
        }}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": f"{name}-admin",
                                                "namespace": "default"}}],
        "current-context": name,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)
