"""The on-disk shape of the SQLite store (kine-style) and how an existing file is loaded.

One append-only table `log`: each row is one write, and its id is the write's revision. `created`
marks a create, `deleted` a delete tombstone (whose value is the deleted object's last value);
`prev_revision` is the id of the key's previous row (0 for a key's first row), and the unique index
on (name, prev_revision) makes a second write on top of the same row fail: the compare-and-swap
guard on disk. `meta` holds the compacted revision.

WAL with synchronous=NORMAL: a commit is in the WAL file before it returns, so killing the process
loses nothing acknowledged (only an OS crash can lose the last commits). AUTOINCREMENT keeps the
highest id ever used in sqlite_sequence, so revisions never go backwards after compaction deletes
the newest rows and the store is reopened.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from pocketkube.storage._index import LiveIndex
from pocketkube.storage.base import Event, KeyValue

_DDL = """
CREATE TABLE IF NOT EXISTS log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL,
    value BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS log_name_prev ON log (name, prev_revision);
CREATE INDEX IF NOT EXISTS log_name_id ON log (name, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def connect(path: str) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per group commit.
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(_DDL)
    return db


@dataclass
class LoadedState:
    live: LiveIndex
    tombstones: dict[str, int] = field(default_factory=dict)  # deleted key → its tombstone's id
    revision: int = 0
    compacted: int = 0


def load(db: sqlite3.Connection) -> LoadedState:
    """Rebuild the in-memory view from the log: each name's latest row, live or tombstone."""
    state = LoadedState(LiveIndex())
    rows = db.execute(
        "SELECT l.id, l.name, l.deleted, l.create_revision, l.value FROM log l"
        " JOIN (SELECT name, MAX(id) AS id FROM log GROUP BY name) latest ON latest.id = l.id"
    )
    for rev, name, deleted, create_revision, value in rows:
        if deleted:
            state.tombstones[name] = rev
        else:
            state.live.apply(Event("CREATE", KeyValue(name, value, create_revision, rev), None))
    (max_id,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM log").fetchone()
    seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'log'").fetchone()
    state.compacted = read_compacted(db)
    state.revision = max(max_id, seq[0] if seq else 0, state.compacted)
    return state


def read_compacted(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = 'compacted'").fetchone()
    return int(row[0]) if row else 0
