"""Reads and writes of the `log` table, one function per verb; all synchronous, on the loop thread.

- `append`: insert a committed batch's rows in one transaction (ids = the revisions we assigned).
- `events`: history for watch replay, rebuilt from rows (an update's previous value is the row its
  prev_revision points at; a tombstone carries the last value itself).
- `list_at`: the live keys as of a past revision: each name's latest row with id ≤ R, not deleted.
- `compact`: delete rows superseded at or before R, and tombstones at or before R. Only rows in
  (previous compaction, R] can newly supersede anything, so each run touches only the new rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from pocketkube.storage._index import prefix_end
from pocketkube.storage.base import Event, KeyValue, ListResult

Row = tuple[int, str, int, int, int, int, bytes]  # id, name, created, deleted, create_rev, prev, value


def row_of(event: Event, prev_row: int) -> Row:
    kv = event.kv
    return (kv.mod_revision, kv.key, int(event.type == "CREATE"), int(event.type == "DELETE"),
            kv.create_revision, prev_row, kv.value)


def append(db: sqlite3.Connection, rows: Sequence[Row]) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        db.executemany(
            "INSERT INTO log (id, name, created, deleted, create_revision, prev_revision, value)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _name_range(column: str, prefix: str) -> tuple[str, list[str]]:
    end = prefix_end(prefix)
    if not prefix:
        return "1", []
    if end is None:
        return f"{column} >= ?", [prefix]
    return f"{column} >= ? AND {column} < ?", [prefix, end]


def events(db: sqlite3.Connection, prefix: str, after: int, upto: int, limit: int) -> list[Event]:
    where, args = _name_range("l.name", prefix)
    rows = db.execute(
        "SELECT l.id, l.name, l.created, l.deleted, l.create_revision, l.prev_revision, l.value, p.value"
        " FROM log l LEFT JOIN log p ON p.id = l.prev_revision"
        f" WHERE l.id > ? AND l.id <= ? AND {where} ORDER BY l.id LIMIT ?",
        [after, upto, *args, limit])
    out: list[Event] = []
    for rev, name, created, deleted, create_rev, prev_rev, value, prev_value in rows:
        kv = KeyValue(name, value, create_rev, rev)
        if created:
            out.append(Event("CREATE", kv, None))
        elif deleted:
            out.append(Event("DELETE", kv, KeyValue(name, value, create_rev, prev_rev)))
        else:
            prev = None if prev_value is None else KeyValue(name, prev_value, create_rev, prev_rev)
            out.append(Event("UPDATE", kv, prev))
    return out


def list_at(db: sqlite3.Connection, prefix: str, start_after: str, limit: int, revision: int) -> ListResult:
    where, args = _name_range("name", prefix)
    latest = f"SELECT MAX(id) FROM log WHERE {where} AND name > ? AND id <= ? GROUP BY name"
    params: list[str | int] = [*args, start_after, revision]
    sql = f"SELECT name, value, create_revision, id FROM log WHERE id IN ({latest}) AND deleted = 0 ORDER BY name"
    if limit:
        rows = db.execute(sql + " LIMIT ?", [*params, limit + 1]).fetchall()
    else:
        rows = db.execute(sql, params).fetchall()
    items = [KeyValue(name, value, create_rev, rev) for name, value, create_rev, rev in rows]
    if not limit or len(items) <= limit:
        return ListResult(items, revision, False, 0)
    (total,) = db.execute(f"SELECT COUNT(*) FROM log WHERE id IN ({latest}) AND deleted = 0", params).fetchone()
    return ListResult(items[:limit], revision, True, total - limit)


def compact(db: sqlite3.Connection, previous: int, revision: int) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(
            "DELETE FROM log WHERE id IN (SELECT prev_revision FROM log"
            " WHERE id > ? AND id <= ? AND prev_revision != 0)", (previous, revision))
        db.execute("DELETE FROM log WHERE deleted = 1 AND id > ? AND id <= ?", (previous, revision))
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('compacted', ?)", (revision,))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
