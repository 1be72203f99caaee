"""The pure pieces: prefix ranges, the compare-and-swap rule, LiveIndex pagination."""

from __future__ import annotations

import pytest

from pocketkube.storage._index import LiveIndex, plan_write, prefix_end
from pocketkube.storage.base import ConflictError, Event, KeyExistsError, KeyNotFoundError, KeyValue


@pytest.mark.parametrize(("prefix", "end"), [
    ("", None), ("/a/", "/a0"), ("/registry/pods/default/", "/registry/pods/default0"), ("a\U0010ffff", None),
])
def test_prefix_end(prefix: str, end: str | None) -> None:
    assert prefix_end(prefix) == end


CUR = KeyValue("/k", b"old", 3, 7)


@pytest.mark.parametrize(("op", "expected", "current", "result"), [
    ("create", 0, None, Event("CREATE", KeyValue("/k", b"new", 9, 9), None)),
    ("create", 0, CUR, KeyExistsError),
    ("update", 0, None, KeyNotFoundError),
    ("update", 7, None, KeyNotFoundError),
    ("update", 0, CUR, Event("UPDATE", KeyValue("/k", b"new", 3, 9), CUR)),
    ("update", 7, CUR, Event("UPDATE", KeyValue("/k", b"new", 3, 9), CUR)),
    ("update", 6, CUR, ConflictError),
    ("delete", 0, None, KeyNotFoundError),
    ("delete", 7, CUR, Event("DELETE", KeyValue("/k", b"old", 3, 9), CUR)),
    ("delete", 8, CUR, ConflictError),
])
def test_plan_write(op: str, expected: int, current: KeyValue | None, result: object) -> None:
    if isinstance(result, Event):
        assert plan_write(op, "/k", b"new", expected, current, 9) == result  # type: ignore[arg-type]
    else:
        with pytest.raises(result):  # type: ignore[call-overload]
            plan_write(op, "/k", b"new", expected, current, 9)  # type: ignore[arg-type]


def test_live_index_ranges() -> None:
    index = LiveIndex()
    keys = ["/a/1", "/a/2", "/a/3", "/a0", "/a2/1", "/b/1"]
    for rev, key in enumerate(reversed(keys), 1):
        index.apply(Event("CREATE", KeyValue(key, b"", rev, rev), None))
    index.apply(Event("DELETE", KeyValue("/a/2", b"", 1, 9), None))
    index.apply(Event("DELETE", KeyValue("/never", b"", 1, 10), None))  # deleting a missing key is a no-op
    assert [kv.key for kv in index.items()] == ["/a/1", "/a/3", "/a0", "/a2/1", "/b/1"]
    assert index.count("/a/") == 2 and index.count("") == 5 and len(index) == 5
    page = index.list("/a/", "", 1, 42)
    assert ([kv.key for kv in page.items], page.more, page.remaining, page.revision) == (["/a/1"], True, 1, 42)
    page = index.list("", "/a0", 2, 42)
    assert ([kv.key for kv in page.items], page.more, page.remaining) == (["/a2/1", "/b/1"], False, 0)
    assert index.list("/a/", "/z", 0, 1).items == []
