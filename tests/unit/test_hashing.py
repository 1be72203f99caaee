from __future__ import annotations

from pocketkube.api.hashing import SAFE_ALPHABET, fnv32a, object_hash, safe_encode


def test_fnv32a_known_values_and_safe_text() -> None:
    assert fnv32a(b"") == 0x811C9DC5 and fnv32a(b"a") == 0xE40C292C
    assert set(safe_encode("0123456789")) <= set(SAFE_ALPHABET)
    assert object_hash({"b": 1, "a": 2}) == object_hash({"a": 2, "b": 1})
    assert object_hash({"a": 1}, 1) != object_hash({"a": 1})
