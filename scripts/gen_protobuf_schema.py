#!/usr/bin/env python3
"""Generate src/pocketkube/api/protobuf/schema_data.py: field facts of Kubernetes' protobuf messages.

Source of the facts: every client-go binary (kubectl included) carries the gzipped, compiled
`FileDescriptorProto` of each `k8s.io/api/*/generated.proto` it links, with gogo-protobuf's field
options kept. From those we read, per message field: number, name, proto type, label, and the
gogo `nullable` option (absent or true = the Go field is a pointer, so an explicit zero matters).
The pinned OpenAPI definitions (pocketkube.api.schema) add what the descriptors lack: which fields
Go's JSON writes even when zero (`required`, i.e. no `omitempty`) and which embedded Go structs are
inlined into their parent's JSON (`json:",inline"`: the field's name is not a JSON property).

Usage: .venv/bin/python scripts/gen_protobuf_schema.py [/path/to/kubectl [output.py]]
(default: kubectl 1.33 of the Google Cloud SDK; its descriptors match the pinned 1.33 OpenAPI).
"""

from __future__ import annotations

import re
import sys
import zlib
from pathlib import Path
from typing import Any

from pocketkube.api import schema
from pocketkube.api.protobuf import wire
from pocketkube.api.resources import RESOURCES

DEFAULT_BINARY = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"
OUTPUT = Path(__file__).resolve().parent.parent / "src/pocketkube/api/protobuf/schema_data.py"

# Request bodies of kinds that are not stored resources.
REQUEST_ONLY = [
    ("autoscaling/v1", "Scale"),
    ("policy/v1", "Eviction"),
    ("v1", "Binding"),
    ("authentication.k8s.io/v1", "TokenRequest"),
]
DELETE_OPTIONS = "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions"

# Messages whose JSON form is not an object of their fields.
SPECIAL = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time": "time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime": "microtime",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1": "rawjson",
    "k8s.io.apimachinery.pkg.runtime.RawExtension": "rawjson",
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "quantity",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "intorstring",
}
SCALARS = {1: "double", 3: "int64", 5: "int32", 8: "bool", 9: "string", 12: "bytes"}
MESSAGE, REPEATED_LABEL = 11, 3
GOGO_NULLABLE, GOGO_CUSTOMNAME = 65001, 65004
FLAG_REPEATED, FLAG_POINTER, FLAG_INLINE, FLAG_REQUIRED = 1, 2, 4, 8


def descriptors(binary: Path) -> list[bytes]:
    """The gzipped FileDescriptorProtos of k8s.io packages found in a Go binary."""
    data = binary.read_bytes()
    found = []
    for match in re.finditer(rb"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff", data):
        try:
            out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[match.start():match.start() + 4_000_000])
        except zlib.error:
            continue
        if out[:1] == b"\n" and out[2:2 + out[1]].startswith(b"k8s.io/"):
            found.append(out)
    return found


def _fields(data: bytes) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for number, _, value in wire.iter_fields(data):
        out.setdefault(number, []).append(value)
    return out


def parse(files: list[bytes]) -> dict[str, dict[str, Any]]:
    """Full message name → {"fields": [...], "map_entry": bool}."""
    messages: dict[str, dict[str, Any]] = {}

    def message(prefix: str, raw: bytes) -> None:
        f = _fields(raw)
        name = f"{prefix}.{f[1][0].decode()}"
        options = _fields(f[7][0]) if 7 in f else {}
        fields = []
        for field_raw in f.get(2, []):
            d = _fields(field_raw)
            opts = _fields(d[8][0]) if 8 in d else {}
            fields.append({
                "name": d[1][0].decode(), "number": d[3][0], "label": d[4][0], "type": d[5][0],
                "type_name": d[6][0].decode().lstrip(".") if 6 in d else "",
                "nullable": opts.get(GOGO_NULLABLE, [1])[0] != 0,
                "customname": opts[GOGO_CUSTOMNAME][0].decode() if GOGO_CUSTOMNAME in opts else "",
            })
        messages[name] = {"fields": fields, "map_entry": bool(options.get(7, [0])[0])}
        for nested in f.get(3, []):
            message(name, nested)

    for raw in files:
        f = _fields(raw)
        package = f[2][0].decode()
        for raw_message in f.get(4, []):
            message(package, raw_message)
    return messages


def short(name: str) -> str:
    for prefix in ("k8s.io.api.", "k8s.io.apimachinery.pkg.apis.", "k8s.io.apimachinery.pkg."):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def proto_name(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    package = group.split(".")[0] if group else "core"
    return f"k8s.io.api.{package}.{version}.{kind}"


def openapi(name: str) -> dict[str, Any]:
    return schema.definitions().get("io.k8s." + name.removeprefix("k8s.io."), {})


def value_kind(field: dict[str, Any]) -> str:
    if field["type"] == MESSAGE:
        return SPECIAL.get(field["type_name"], "message")
    return SCALARS[field["type"]]


def build(messages: dict[str, dict[str, Any]], roots: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    pending = list(roots)
    problems = []
    # Structs that exist only to be inlined (VolumeSource, ProbeHandler) have no OpenAPI definition
    # of their own: their JSON properties are their parent's.
    inlined_into: dict[str, str] = {}
    while pending:
        name = pending.pop()
        if short(name) in out:
            continue
        definition = openapi(name) or openapi(inlined_into.get(name, ""))
        properties = definition.get("properties", {})
        required = set(definition.get("required", ()))
        rows = []
        for field in sorted(messages[name]["fields"], key=lambda f: f["number"]):
            kind = value_kind(field)
            ref = ""
            flags = 0
            type_name = field["type_name"]
            if kind == "message" and messages[type_name]["map_entry"]:
                key, value = sorted(messages[type_name]["fields"], key=lambda f: f["number"])
                assert SCALARS.get(key["type"]) == "string", (name, field)
                kind = "map"
                ref = value_kind(value)
                if ref == "message":
                    ref = short(value["type_name"])
                    pending.append(value["type_name"])
            elif kind == "message":
                ref = short(type_name)
                pending.append(type_name)
                embedded = field["customname"] == type_name.rsplit(".", 1)[1]
                if embedded and properties and field["name"] not in properties:
                    flags |= FLAG_INLINE
                    inlined_into[type_name] = name
            if field["label"] == REPEATED_LABEL and kind != "map":
                flags |= FLAG_REPEATED
            if field["nullable"] and kind != "map" and not flags & FLAG_REPEATED:
                flags |= FLAG_POINTER
            json_name = field["name"]
            if properties and not flags & FLAG_INLINE and json_name not in properties:
                # A few proto names differ from the JSON name in case only (BoundObjectReference.uID).
                matches = [p for p in properties if p.lower() == json_name.lower()]
                if len(matches) != 1:
                    problems.append(f"{name}.{json_name}: not a JSON property")
                json_name = matches[0] if matches else json_name
            if json_name in required:
                flags |= FLAG_REQUIRED
            rows.append((field["number"], json_name, kind, ref, flags))
        out[short(name)] = rows
    for problem in problems:
        print("warning:", problem, file=sys.stderr)
    return out


def render(messages: dict[str, list[tuple[Any, ...]]], kinds: dict[tuple[str, str], str]) -> str:
    lines = [
        '"""Generated by scripts/gen_protobuf_schema.py from the protobuf descriptors compiled into',
        "kubectl 1.33 and the pinned 1.33 OpenAPI definitions. Do not edit.",
        "",
        "MESSAGES: message name → fields as (number, JSON name, kind, ref, flags). kind is a scalar",
        "(string bytes bool int32 int64 double), a special JSON form (time microtime duration quantity",
        "intorstring rawjson), `message` (ref = message name) or `map` (string keys; ref = value kind",
        "or message name). flags: 1 repeated, 2 pointer (nullable: a zero value is explicit), 4 inline",
        "(an embedded Go struct whose fields join the parent's JSON), 8 required (JSON has no omitempty).",
        "KINDS: (apiVersion, kind) of a request body → message name.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "Field = tuple[int, str, str, str, int]",
        "",
        "MESSAGES: dict[str, tuple[Field, ...]] = {",
    ]
    for name in sorted(messages):
        rows = ", ".join(repr(row) for row in messages[name])
        lines.append(f"    {name!r}: ({rows}{',' if len(messages[name]) == 1 else ''}),")
    lines.append("}")
    lines.append("")
    lines.append("KINDS: dict[tuple[str, str], str] = {")
    for key in sorted(kinds):
        lines.append(f"    {key!r}: {kinds[key]!r},")
    lines.append("}")
    lines.append("")
    lines.append(f"DELETE_OPTIONS = {short(DELETE_OPTIONS)!r}")
    lines.append("")
    return "\n".join(_wrap(line) for line in lines)


def _wrap(line: str) -> str:
    """Break a long generated line after tuple boundaries, to stay inside the linter's width."""
    if len(line) <= 110:
        return line
    parts = line.split("), (")
    out, current = [], ""
    for i, part in enumerate(parts):
        piece = part + ("), (" if i < len(parts) - 1 else "")
        if current and len(current) + len(piece) > 106:
            out.append(current.rstrip())
            current = "        "
        current += piece
    out.append(current)
    return "\n".join(out)


def main() -> None:
    binary = Path(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_BINARY)
    messages = parse(descriptors(binary))
    kinds: dict[tuple[str, str], str] = {}
    for res in RESOURCES:
        kinds[(res.api_version, res.kind)] = proto_name(res.api_version, res.kind)
    for api_version, kind in REQUEST_ONLY:
        kinds[(api_version, kind)] = proto_name(api_version, kind)
    for name in kinds.values():
        assert name in messages, name
    table = build(messages, [*kinds.values(), DELETE_OPTIONS])
    # The decoder knows the JSON form of the SPECIAL messages only; a new one must be taught to it.
    unknown = {short(name) for name in messages if name.startswith("k8s.io.apimachinery.pkg.")} & {
        ref for rows in table.values() for (_, _, kind, ref, _) in rows if kind in ("message", "map")}
    allowed = {"meta.v1.ObjectMeta", "meta.v1.OwnerReference", "meta.v1.ManagedFieldsEntry", "meta.v1.LabelSelector",
               "meta.v1.LabelSelectorRequirement", "meta.v1.Condition", "meta.v1.DeleteOptions",
               "meta.v1.Preconditions"}
    assert unknown <= allowed, unknown - allowed
    output = Path(sys.argv[2]) if len(sys.argv) > 2 else OUTPUT
    output.write_text(render(table, {k: short(v) for k, v in kinds.items()}))
    print(f"wrote {output}: {len(table)} messages, {sum(len(v) for v in table.values())} fields")


if __name__ == "__main__":
    main()
