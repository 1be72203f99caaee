"""The SQLite backend (`sqlite:///abs/path/state.db`): a kine-style revision log, see store.py."""

from pocketkube.storage.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore"]
