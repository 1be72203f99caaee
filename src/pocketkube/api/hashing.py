"""The hashes Kubernetes names things with: FNV-1a 32 over canonical JSON, and apimachinery's
"safe" alphabet (no vowels, no look-alikes) for hash text that becomes part of a name or label."""

from __future__ import annotations

from typing import Any

import orjson

SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    """rand.SafeEncodeString: each character mapped into the safe alphabet."""
    return "".join(SAFE_ALPHABET[ord(ch) % len(SAFE_ALPHABET)] for ch in text)


def object_hash(value: Any, collision_count: int | None = None) -> str:
    """FNV-1a 32 of an object's canonical JSON (plus a collision count), as safe text."""
    data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    if collision_count:
        data += str(collision_count).encode()
    return safe_encode(str(fnv32a(data)))
