"""A container's environment as the kubelet builds it: `$(VAR)` expansion, envFrom, env, valueFrom.

`expand` is the kubelet's `third_party/forked/golang/expansion` to the letter: `$$` is an escaped
`$`, `$(NAME)` is replaced when the mapping knows NAME and left as written otherwise, an unclosed
`$(` and a `$` before any other character stay as they are. The same expansion serves command,
args, env values and (with a stricter mapping) `subPathExpr`.

`resolve_env` follows `makeEnvironmentVariables`: every envFrom source first (prefix added, later
sources overwrite earlier keys), then `env` in order, each value expanded against what has been
defined so far. The image's Env is not visible to expansion (the kubelet never sees it; the runtime
merges it later), which is why `$(PATH)` in a command stays literal unless the pod defines PATH.
The result keeps first-definition order so that the runtime config is deterministic (the kubelet
itself hands the runtime a Go map).

Field and resource selectors (`field_value`, `resource_value`) are shared with the downwardAPI
volume. A missing non-optional ConfigMap, Secret or key raises `ContainerConfigError` with the
kubelet's message, which the pod worker reports as waiting reason `CreateContainerConfigError`.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from pocketkube.api.obj import Obj
from pocketkube.api.quantity import parse_quantity

CREATE_CONTAINER_CONFIG_ERROR = "CreateContainerConfigError"
CREATE_CONTAINER_ERROR = "CreateContainerError"

Json = Obj  # a pod or container spec, as decoded JSON


class ContainerConfigError(Exception):
    """A container that cannot be configured; `reason` is the waiting reason the kubelet reports
    (CreateContainerConfigError for spec/config problems, CreateContainerError for what the runtime
    side refuses), `message` the text for status and the `Failed` event (`Error: <message>`)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def config_error(message: str) -> ContainerConfigError:
    return ContainerConfigError(CREATE_CONTAINER_CONFIG_ERROR, message)


class ConfigSources(Protocol):
    """Where ConfigMaps and Secrets come from (the lead implements it over the API client).

    Each returns the whole object as JSON (`data`, `binaryData`; a Secret's `data` base64 as on the
    wire) or None when it does not exist."""

    async def configmap(self, namespace: str, name: str) -> Json | None: ...

    async def secret(self, namespace: str, name: str) -> Json | None: ...


# --- $(VAR) expansion -------------------------------------------------------------------------

def expand(text: str, mapping: Callable[[str], str]) -> str:
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            read, is_var, advance = _read_variable(text[cursor + 1:])
            out.append(mapping(read) if is_var else read)
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    out.append(text[checkpoint:])
    return "".join(out)


def _read_variable(rest: str) -> tuple[str, bool, int]:
    """(text, is a variable name, characters consumed after the `$`)."""
    if rest[0] == "$":
        return "$", False, 1
    if rest[0] == "(":
        close = rest.find(")", 1)
        if close != -1:
            return rest[1:close], True, close + 1
        return "$(", False, 1  # incomplete reference: keep it and scan on after the "("
    return "$" + rest[0], False, 1


def mapping_for(*contexts: Mapping[str, str]) -> Callable[[str], str]:
    """The kubelet's MappingFuncFor: first context that knows the name wins; unknown names are
    written back as `$(NAME)`."""

    def lookup(name: str) -> str:
        for context in contexts:
            if name in context:
                return context[name]
        return f"$({name})"

    return lookup


# --- field and resource selectors --------------------------------------------------------------

def format_map(values: Mapping[str, str]) -> str:
    """`k="v"` lines in key order, as fieldpath.FormatMap renders labels/annotations."""
    return "\n".join(f"{key}={_go_quote(values[key])}" for key in sorted(values))


def _go_quote(value: str) -> str:
    """Go's %q for the strings labels and annotations hold."""
    out = ['"']
    for char in value:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def split_subscript(path: str) -> tuple[str, str] | None:
    """`metadata.labels['k']` → ("metadata.labels", "k")."""
    if not path.endswith("']"):
        return None
    head, sep, key = path[:-2].partition("['")
    if not sep or not head:
        return None
    return head, key


def metadata_value(pod: Json, path: str) -> str:
    """ExtractFieldPathAsString for the metadata paths (env and downwardAPI volumes)."""
    meta = pod.get("metadata") or {}
    sub = split_subscript(path)
    if sub is not None:
        head, key = sub
        if head == "metadata.annotations":
            return str((meta.get("annotations") or {}).get(key, ""))
        if head == "metadata.labels":
            return str((meta.get("labels") or {}).get(key, ""))
        raise config_error(f'fieldPath "{path}" does not support subscript')
    simple = {"metadata.name": "name", "metadata.namespace": "namespace", "metadata.uid": "uid"}
    if path in simple:
        return str(meta.get(simple[path], ""))
    if path == "metadata.annotations":
        return format_map(meta.get("annotations") or {})
    if path == "metadata.labels":
        return format_map(meta.get("labels") or {})
    raise config_error(f"unsupported fieldPath: {path}")


def field_value(pod: Json, path: str, pod_ips: Sequence[str], host_ips: Sequence[str]) -> str:
    """podFieldSelectorRuntimeValue: the status/spec paths the kubelet answers itself, else metadata."""
    spec = pod.get("spec") or {}
    if path == "spec.nodeName":
        return str(spec.get("nodeName", ""))
    if path == "spec.serviceAccountName":
        return str(spec.get("serviceAccountName", ""))
    if path == "status.podIP":
        return pod_ips[0] if pod_ips else ""
    if path == "status.podIPs":
        return ",".join(pod_ips)
    if path == "status.hostIP":
        return host_ips[0] if host_ips else ""
    if path == "status.hostIPs":
        return ",".join(host_ips)
    return metadata_value(pod, path)


def _quantity(value: Any) -> Any:
    return parse_quantity(value) if value is not None else None


def resource_value(container: Json, selector: Json, allocatable: Mapping[str, Any]) -> str:
    """ExtractContainerResourceValue after defaultPodLimitsForDownwardAPI: an unset limit reads as
    the node's allocatable; the value is divided by `divisor` (default 1) and rounded up."""
    resource = str(selector.get("resource", ""))
    divisor = parse_quantity(selector.get("divisor") or "1")
    if divisor == 0:
        divisor = parse_quantity("1")
    resources = container.get("resources") or {}
    kind, _, name = resource.partition(".")
    if kind not in ("limits", "requests") or name not in ("cpu", "memory", "ephemeral-storage"):
        raise config_error(f"unsupported container resource : {resource}")
    amount = _quantity((resources.get(kind) or {}).get(name))
    if amount is None and kind == "limits":
        amount = _quantity(allocatable.get(name))
    if amount is None:
        amount = 0
    if name == "cpu":
        # MilliValue on both sides, as the kubelet computes it.
        return str(math.ceil(math.ceil(amount * 1000) / math.ceil(divisor * 1000)))
    return str(math.ceil(math.ceil(amount) / math.ceil(divisor)))


# --- env resolution ------------------------------------------------------------------------------

# RelaxedEnvironmentVariableValidation (on by default since 1.32): printable ASCII except '='.
_ENV_NAME = re.compile(r"^[\x20-\x3c\x3e-\x7e]+$")


def is_env_var_name(name: str) -> bool:
    return bool(_ENV_NAME.match(name))


def decode_secret(secret: Json) -> dict[str, str]:
    return {key: base64.b64decode(value).decode("utf-8", "surrogateescape")
            for key, value in (secret.get("data") or {}).items()}


class _Objects:
    """Per-call cache so a ConfigMap named twice is fetched once, as the kubelet's maps do."""

    def __init__(self, sources: ConfigSources, namespace: str) -> None:
        self.sources = sources
        self.namespace = namespace
        self.configmaps: dict[str, dict[str, str] | None] = {}
        self.secrets: dict[str, dict[str, str] | None] = {}

    async def configmap(self, name: str) -> dict[str, str] | None:
        if name not in self.configmaps:
            obj = await self.sources.configmap(self.namespace, name)
            self.configmaps[name] = None if obj is None else dict(obj.get("data") or {})
        return self.configmaps[name]

    async def secret(self, name: str) -> dict[str, str] | None:
        if name not in self.secrets:
            obj = await self.sources.secret(self.namespace, name)
            self.secrets[name] = None if obj is None else decode_secret(obj)
        return self.secrets[name]


async def resolve_env(
    pod: Json,
    container: Json,
    sources: ConfigSources,
    *,
    pod_ips: Sequence[str] = (),
    host_ips: Sequence[str] = (),
    allocatable: Mapping[str, Any] | None = None,
    warn: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """The kubelet's part of a container's environment, in first-definition order.

    `warn` receives the InvalidEnvironmentVariableNames event message for envFrom keys skipped."""
    namespace = str((pod.get("metadata") or {}).get("namespace") or "default")
    objects = _Objects(sources, namespace)
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = str(source.get("prefix") or "")
        if source.get("configMapRef") is not None:
            ref, what = source["configMapRef"], "configMap"
            data = await objects.configmap(ref.get("name", ""))
            missing = f'configmap "{ref.get("name", "")}" not found'
        elif source.get("secretRef") is not None:
            ref, what = source["secretRef"], "secret"
            data = await objects.secret(ref.get("name", ""))
            missing = f'secret "{ref.get("name", "")}" not found'
        else:
            continue
        if data is None:
            if ref.get("optional"):
                continue
            raise config_error(missing)
        invalid = []
        for key, value in data.items():
            name = prefix + key
            if not is_env_var_name(name):
                invalid.append(name)
                continue
            env[name] = value
        if invalid and warn is not None:
            warn(f"Keys [{', '.join(sorted(invalid))}] from the EnvFrom {what} {namespace}/{ref.get('name', '')} "
                 "were skipped since they are considered invalid environment variable names.")

    for var in container.get("env") or []:
        name = str(var.get("name", ""))
        value = var.get("value")
        source = var.get("valueFrom")
        if value:
            env[name] = expand(str(value), mapping_for(env))
            continue
        if not source:
            env[name] = ""
            continue
        resolved = await _value_from(pod, container, source, objects, pod_ips, host_ips, allocatable or {})
        if resolved is not None:
            env[name] = resolved
    return env


async def _value_from(pod: Json, container: Json, source: Json, objects: _Objects, pod_ips: Sequence[str],
                      host_ips: Sequence[str], allocatable: Mapping[str, Any]) -> str | None:
    """One valueFrom; None means "optional and absent: define nothing"."""
    if source.get("fieldRef") is not None:
        return field_value(pod, str(source["fieldRef"].get("fieldPath", "")), pod_ips, host_ips)
    if source.get("resourceFieldRef") is not None:
        return resource_value(container, source["resourceFieldRef"], allocatable)
    for field, kind, title in (("configMapKeyRef", "configmap", "ConfigMap"), ("secretKeyRef", "secret", "Secret")):
        ref = source.get(field)
        if ref is None:
            continue
        name, key, optional = str(ref.get("name", "")), str(ref.get("key", "")), bool(ref.get("optional"))
        data = await (objects.configmap(name) if kind == "configmap" else objects.secret(name))
        if data is None:
            if optional:
                return None
            raise config_error(f'{kind} "{name}" not found')
        if key not in data:
            if optional:
                return None
            raise config_error(f"couldn't find key {key} in {title} {objects.namespace}/{name}")
        return data[key]
    return None
