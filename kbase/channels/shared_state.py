"""Per-client limits and follow-up sessions shared by the processes of one server (`bot.py serve --workers N`):
a small SQLite file under the data dir, the same interface as channels/limits.py and channels/conversations.py.

Each call is one short transaction (WAL, so readers never wait for the writer); wall-clock time, which every
process shares. Two turns of one session in two workers at the same moment both run and the later one's context is
kept (in one process such turns wait for each other): a client asks one question at a time, so this is rare.
"""
from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Hashable
from pathlib import Path

from kbase.answering.session import Session
from kbase.channels.limits import WINDOW_SECONDS
from kbase.store.transactions import immediate_transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS asked (bucket TEXT NOT NULL, client TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS asked_by_client ON asked (bucket, client, at);
CREATE INDEX IF NOT EXISTS asked_by_time ON asked (at);
CREATE TABLE IF NOT EXISTS sessions (key TEXT PRIMARY KEY, clause_keys TEXT NOT NULL, kind TEXT,
                                     updated_at REAL NOT NULL, used REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_by_use ON sessions (used);
"""


class SharedStore:
    """One SQLite file; a connection per thread (sqlite3 connections stay in the thread that made them)."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.clock = clock
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection().executescript(SCHEMA)  # its own transaction, as every worker starts

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # limits and follow-ups: losing the last second on power loss is fine
        return db

    def _transaction(self):
        return immediate_transaction(self._connection())


class SharedLimiter:
    """QuestionLimiter's take() and allow() over a SharedStore: at most `per_minute` per client in any sliding minute."""

    def __init__(self, store: SharedStore, per_minute: int, bucket: str):
        self.store, self.per_minute, self.bucket = store, per_minute, bucket

    def allow(self, user_id: Hashable) -> bool:
        return self.take(user_id) == 0

    def take(self, user_id: Hashable) -> float:
        if self.per_minute <= 0:
            return 0.0
        now, client = self.store.clock(), str(user_id)
        with self.store._transaction() as db:
            db.execute("DELETE FROM asked WHERE at <= ?", (now - WINDOW_SECONDS,))
            count, oldest = db.execute("SELECT count(*), min(at) FROM asked WHERE bucket = ? AND client = ?",
                                       (self.bucket, client)).fetchone()
            if count >= self.per_minute:
                return WINDOW_SECONDS - (now - oldest)
            db.execute("INSERT INTO asked VALUES (?, ?, ?)", (self.bucket, client, now))
        return 0.0


class SharedConversations:
    """Conversations' turn() over a SharedStore: the session's context read before the turn, written after it."""

    def __init__(self, store: SharedStore, ttl: float, max_open: int):
        self.store, self.ttl, self.max_open = store, ttl, max_open

    def __len__(self) -> int:
        with self.store._transaction() as db:
            return db.execute("SELECT count(*) FROM sessions").fetchone()[0]

    @contextlib.asynccontextmanager
    async def turn(self, *key: Hashable) -> AsyncIterator[Session]:
        name = json.dumps([str(part) for part in key], ensure_ascii=False)
        now = self.store.clock()
        with self.store._transaction() as db:
            db.execute("DELETE FROM sessions WHERE used < ?", (now - self.ttl,))
            row = db.execute("SELECT clause_keys, kind, updated_at FROM sessions WHERE key = ?", (name,)).fetchone()
        session = Session(ttl_seconds=self.ttl, clock=self.store.clock)
        if row:
            session.clause_keys, session.kind, session.updated_at = json.loads(row[0]), row[1], row[2]
        yield session
        with self.store._transaction() as db:
            db.execute("INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?)",
                       (name, json.dumps(session.clause_keys, ensure_ascii=False), session.kind, session.updated_at,
                        self.store.clock()))
            # beyond max_open the least recently used go, so clients cannot fill the disk with sessions
            db.execute("DELETE FROM sessions WHERE key IN (SELECT key FROM sessions ORDER BY used DESC LIMIT -1 "
                       "OFFSET ?)", (self.max_open,))
