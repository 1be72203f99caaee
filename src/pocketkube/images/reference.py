"""Docker-style image references: parse, validate and normalise (pure).

The grammar is the one of distribution/reference: `[domain/]path[:tag][@digest]`. The first path
component is a domain when it has a `.` or `:`, is `localhost`, or has an upper-case letter; without
one the domain is `docker.io`, and a one-component Docker Hub path gets `library/`. A reference with
neither tag nor digest gets `:latest`. So `busybox` → `docker.io/library/busybox:latest`, and the
normalised form is what the store keys refs by.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pocketkube.images.base import InvalidReference

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
DEFAULT_TAG = "latest"
OFFICIAL_PREFIX = "library/"

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
_HEX_ID = re.compile(r"(?:sha256:)?([a-f0-9]{1,64})")
NAME_MAX = 255


@dataclass(frozen=True)
class Reference:
    domain: str
    path: str
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        """`docker.io/library/busybox`: the repository, without tag or digest."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self) -> str:
        """The short form Docker prints: `busybox`, `user/app`, `quay.io/x/y`."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        return self.path.removeprefix(OFFICIAL_PREFIX) if self.path.count("/") == 1 else self.path

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and (any(c in first for c in ".:") or first == "localhost" or first.lower() != first):
        return first, rest
    return DEFAULT_DOMAIN, name


def parse_reference(text: str) -> Reference:
    """Parse and normalise `text`; raise InvalidReference for what Docker would refuse."""
    if not text or text != text.strip():
        raise InvalidReference(f"invalid reference format: {text!r}")
    remainder, _, digest = text.partition("@")
    if digest and not _DIGEST.fullmatch(digest):
        raise InvalidReference(f"invalid reference format: bad digest in {text!r}")
    tag = ""
    colon = remainder.rfind(":")
    if colon > remainder.rfind("/"):
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise InvalidReference(f"invalid reference format: bad tag in {text!r}")
    domain, path = _split_domain(remainder)
    if domain == LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if not _DOMAIN.fullmatch(domain):
        raise InvalidReference(f"invalid reference format: bad domain in {text!r}")
    if not path or not all(_COMPONENT.fullmatch(part) for part in path.split("/")):
        if path.lower() != path:
            raise InvalidReference(f"invalid reference format: repository name must be lowercase: {text!r}")
        raise InvalidReference(f"invalid reference format: {text!r}")
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_PREFIX + path
    if len(f"{domain}/{path}") > NAME_MAX:
        raise InvalidReference(f"repository name must not be more than {NAME_MAX} characters: {text!r}")
    if not tag and not digest:
        tag = DEFAULT_TAG
    return Reference(domain=domain, path=path, tag=tag, digest=digest)


def normalize(text: str) -> str:
    """`busybox` → `docker.io/library/busybox:latest`."""
    return str(parse_reference(text))


def id_prefix(text: str) -> str | None:
    """The hex an image-id argument names (`sha256:ab…`, `ab12…`), or None if it is not one."""
    match = _HEX_ID.fullmatch(text)
    return match.group(1) if match else None
