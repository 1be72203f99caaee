"""Lookups over the generated message table (schema_data): which message a body is, and its fields.

The table holds facts only (numbers, JSON names, kinds, flags); this module turns them into the
indexes the decoder and encoder walk, built once per message on first use.
"""

from __future__ import annotations

import functools

from pocketkube.api.protobuf.schema_data import DELETE_OPTIONS, KINDS, MESSAGES, Field

MAGIC = b"k8s\x00"
MEDIA_TYPE = "application/vnd.kubernetes.protobuf"

REPEATED, POINTER, INLINE, REQUIRED = 1, 2, 4, 8

# Numeric kinds that a packed repeated field may carry.
PACKABLE = frozenset({"int32", "int64", "bool", "double"})


def message_for(api_version: str, kind: str) -> str | None:
    """The message of a (apiVersion, kind); DeleteOptions is accepted under every group version,
    as kube-apiserver registers it in each one."""
    if kind == "DeleteOptions":
        return DELETE_OPTIONS
    return KINDS.get((api_version, kind))


def fields(message: str) -> tuple[Field, ...]:
    return MESSAGES[message]


@functools.cache
def by_number(message: str) -> dict[int, Field]:
    return {field[0]: field for field in MESSAGES[message]}
