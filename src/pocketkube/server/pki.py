"""The cluster's certificates, made once on first start and kept in the data dir.

A CA signs the serving certificate (for 127.0.0.1, localhost and the listen address) and an admin
client certificate in group system:masters; an admin bearer token is written beside them for
clients that prefer tokens. Existing files are reused, so kubeconfigs stay valid across restarts.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = datetime.timedelta(days=3650)


@dataclass(frozen=True)
class Pki:
    dir: Path

    @property
    def ca_cert(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.dir / "ca.key"

    @property
    def serving_cert(self) -> Path:
        return self.dir / "apiserver.crt"

    @property
    def serving_key(self) -> Path:
        return self.dir / "apiserver.key"

    @property
    def admin_cert(self) -> Path:
        return self.dir / "admin.crt"

    @property
    def admin_key(self) -> Path:
        return self.dir / "admin.key"

    @property
    def token_file(self) -> Path:
        return self.dir / "admin.token"

    def token(self) -> str:
        return self.token_file.read_text().strip()


def _write(path: Path, data: bytes, private: bool) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _issue(subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
           issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool = False, server_names: list[str] | None = None,
           client: bool = False) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + _VALIDITY)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
            decipher_only=False), critical=True)
    else:
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH] if client else [ExtendedKeyUsageOID.SERVER_AUTH]
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if server_names:
        alt: list[x509.GeneralName] = []
        for name in server_names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alt.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _cert_names(path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {str(v) for v in san.get_values_for_type(x509.IPAddress)} | set(san.get_values_for_type(x509.DNSName))


def ensure_pki(directory: Path, hosts: list[str]) -> Pki:
    """Create what is missing; re-issue the serving certificate if it lacks a listen host."""
    pki = Pki(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not pki.ca_cert.exists() or not pki.ca_key.exists():
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("pocketkube-ca")
        _write(pki.ca_key, _key_pem(ca_key), True)
        _write(pki.ca_cert, _issue(ca_name, ca_key, ca_name, ca_key, ca=True)
               .public_bytes(serialization.Encoding.PEM), False)
        for stale in (pki.serving_cert, pki.admin_cert):
            stale.unlink(missing_ok=True)
    ca_key_loaded = serialization.load_pem_private_key(pki.ca_key.read_bytes(), None)
    assert isinstance(ca_key_loaded, ec.EllipticCurvePrivateKey)
    ca_subject = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes()).subject
    names = sorted({"127.0.0.1", "localhost", "::1", "kubernetes", "kubernetes.default", *hosts})
    if not pki.serving_cert.exists() or not set(names) <= _cert_names(pki.serving_cert):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issue(_name("pocketkube-apiserver"), key, ca_subject, ca_key_loaded, server_names=names)
        _write(pki.serving_key, _key_pem(key), True)
        _write(pki.serving_cert, cert.public_bytes(serialization.Encoding.PEM), False)
    if not pki.admin_cert.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issue(_name("admin", "system:masters"), key, ca_subject, ca_key_loaded, client=True)
        _write(pki.admin_key, _key_pem(key), True)
        _write(pki.admin_cert, cert.public_bytes(serialization.Encoding.PEM), False)
    if not pki.token_file.exists():
        _write(pki.token_file, secrets.token_urlsafe(32).encode() + b"\n", True)
    return pki
