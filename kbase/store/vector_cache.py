"""Passage vectors kept by (embedder, its version, a hash of the text) in data_dir/cache/vectors.sqlite3.

A build embeds only the passages this cache, the bundled vectors and the serving build lack, so adding a document
embeds only its own passages, and one removed and added again embeds none: the cache outlives the builds that
removed it. A vector comes back exactly as the embedder gave it (float32 bytes), so reuse never changes an answer.
The file is bounded (Settings.vector_cache_max_vectors): the vectors used least recently go first. A damaged file
is set aside and started afresh: the cache only ever saves work.
"""
from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np

CACHE_FILE = "vectors.sqlite3"
LOOKUP_CHUNK = 500  # hashes per SELECT (below SQLite's bound on host parameters)

log = logging.getLogger(__name__)

_SCHEMA = """CREATE TABLE IF NOT EXISTS vectors (
    embedder TEXT NOT NULL, version TEXT NOT NULL, hash TEXT NOT NULL,
    vector BLOB NOT NULL, used REAL NOT NULL, PRIMARY KEY (embedder, version, hash)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS vectors_used ON vectors (used)"""


class VectorCache:
    """Vectors of one embedder (name and version) by passage hash; every method fails soft (logs, returns nothing)."""

    def __init__(self, cache_dir: Path, embedder: str, version: str, max_vectors: int):
        self.path = Path(cache_dir) / CACHE_FILE
        self.key = (embedder, version)
        self.max_vectors = max_vectors

    def get(self, hashes: Iterable[str]) -> dict[str, list[float]]:
        """Hash -> vector for the hashes the cache holds; marks them used now."""
        wanted = sorted(set(hashes))
        if not wanted or self.max_vectors <= 0:
            return {}
        found: dict[str, list[float]] = {}
        try:
            with self._connect() as db:
                for start in range(0, len(wanted), LOOKUP_CHUNK):
                    chunk = wanted[start:start + LOOKUP_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    rows = db.execute(f"SELECT hash, vector FROM vectors WHERE embedder = ? AND version = ? "
                                      f"AND hash IN ({marks})", (*self.key, *chunk)).fetchall()
                    found.update((text_hash, np.frombuffer(blob, dtype=np.float32).tolist()) for text_hash, blob in rows)
                    db.execute(f"UPDATE vectors SET used = ? WHERE embedder = ? AND version = ? AND hash IN ({marks})",
                               (time.time(), *self.key, *chunk))
        except sqlite3.Error as exc:
            self._set_aside(exc)
            return {}
        return found

    def put(self, vectors: dict[str, list[float]]) -> None:
        """Keep these vectors, then drop the least recently used beyond the bound."""
        if not vectors or self.max_vectors <= 0:
            return
        now = time.time()
        rows = [(*self.key, text_hash, np.asarray(vector, dtype=np.float32).tobytes(), now)
                for text_hash, vector in vectors.items()]
        try:
            with self._connect() as db:
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?)", rows)
                excess = db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] - self.max_vectors
                if excess > 0:
                    db.execute("DELETE FROM vectors WHERE (embedder, version, hash) IN "
                               "(SELECT embedder, version, hash FROM vectors ORDER BY used LIMIT ?)", (excess,))
        except sqlite3.Error as exc:
            self._set_aside(exc)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One transaction (committed, or rolled back on an error), then the file is closed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as db, db:
            db.executescript(_SCHEMA)
            yield db

    def _set_aside(self, exc: sqlite3.Error) -> None:
        if isinstance(exc, sqlite3.OperationalError):  # locked, read-only or full: the file itself is fine
            log.warning("vector cache %s not usable now (%s): passages are embedded instead", self.path, exc)
            return
        damaged = self.path.with_name(f"{self.path.name}.damaged")
        log.warning("vector cache %s unusable (%s): set aside as %s, passages are embedded instead",
                    self.path, exc, damaged.name)
        try:
            self.path.replace(damaged)
        except OSError:
            pass
