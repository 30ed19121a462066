"""The reminders' memory in SQLite under the data dir: subscriptions, what each was already sent, done marks.

The schema carries its version in `PRAGMA user_version`; MIGRATIONS[n] takes a file from version n to n + 1, so
an older file is brought up to date on open and a newer one (written by a later policybot) is refused, not changed.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kbase.store.transactions import immediate_transaction

log = logging.getLogger("policybot.reminders")

MIGRATIONS = [
    """
    CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,            -- wecom | dingtalk | …
        target TEXT NOT NULL,             -- where the channel delivers: a user id, a conversation id
        department TEXT NOT NULL,         -- the canonical unit name (市生态环境局)
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (channel, target, department)
    );
    CREATE TABLE sent (
        subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
        doc TEXT NOT NULL, ref TEXT NOT NULL, date TEXT NOT NULL,
        threshold TEXT NOT NULL,          -- 30d | 7d | overdue
        sent_at TEXT NOT NULL,
        PRIMARY KEY (subscription_id, doc, ref, date, threshold)
    );
    CREATE TABLE done (
        doc TEXT NOT NULL, ref TEXT NOT NULL, date TEXT NOT NULL,
        done_by TEXT NOT NULL, channel TEXT NOT NULL, done_at TEXT NOT NULL,
        PRIMARY KEY (doc, ref, date)
    );
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class ReminderStoreError(Exception):
    """The file cannot be used (written by a newer policybot); the message is for people."""


@dataclass(frozen=True)
class Subscription:
    id: int
    channel: str
    target: str
    department: str
    created_by: str
    created_at: str


@dataclass(frozen=True)
class DoneMark:
    doc: str
    ref: str
    date: dt.date
    done_by: str
    channel: str
    done_at: str


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class ReminderStore:
    """One SQLite file shared by every process on the data dir (the server's schedule, `bot.py remind` from cron):
    every write is one transaction, so two passes never both claim the same reminder."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = self._open()
        except sqlite3.OperationalError as exc:  # locked, read-only, a disk error: nothing is wrong with the file
            raise ReminderStoreError(f"无法打开提醒数据库 {path}：{exc}") from exc
        except sqlite3.DatabaseError as exc:  # not a database: the damaged file is kept for inspection, never overwritten
            aside = path.with_name(f"{path.name}.damaged-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}")
            log.error("reminder store %s unreadable (%s); moved to %s and started empty", path, exc, aside)
            path.replace(aside)
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA journal_mode = WAL")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            db.close()
            raise ReminderStoreError(f"提醒数据库 {self.path} 的版本（{version}）比本程序新（{SCHEMA_VERSION}），请升级 policybot。")
        for number in range(version, SCHEMA_VERSION):
            try:  # executescript commits what is pending first, so the transaction is part of the script
                db.executescript(f"BEGIN IMMEDIATE; {MIGRATIONS[number]}; PRAGMA user_version = {number + 1}; COMMIT;")
            except sqlite3.Error:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            log.info("reminder store %s migrated to schema %d", self.path, number + 1)
        return db

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, immediate_transaction(self._db) as db:
            yield db

    def close(self) -> None:
        self._db.close()

    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    # subscriptions

    def subscribe(self, channel: str, target: str, department: str, by: str) -> bool:
        """True when new, False when the target already had it."""
        with self._write() as db:
            cursor = db.execute("INSERT OR IGNORE INTO subscriptions (channel, target, department, created_by, "
                                "created_at) VALUES (?, ?, ?, ?, ?)", (channel, target, department, by, _now()))
            return cursor.rowcount == 1

    def unsubscribe(self, channel: str, target: str, department: str | None = None) -> list[str]:
        """Ends one subscription of the target, or all of them; the departments it ended."""
        with self._write() as db:
            rows = db.execute("SELECT department FROM subscriptions WHERE channel = ? AND target = ? "
                              "AND (? IS NULL OR department = ?)", (channel, target, department, department)).fetchall()
            db.execute("DELETE FROM subscriptions WHERE channel = ? AND target = ? AND (? IS NULL OR department = ?)",
                       (channel, target, department, department))
        return [row[0] for row in rows]

    def subscriptions(self, channel: str | None = None, target: str | None = None) -> list[Subscription]:
        with self._lock:
            rows = self._db.execute("SELECT id, channel, target, department, created_by, created_at FROM subscriptions "
                                    "WHERE (? IS NULL OR channel = ?) AND (? IS NULL OR target = ?) ORDER BY id",
                                    (channel, channel, target, target)).fetchall()
        return [Subscription(*row) for row in rows]

    # what was sent

    def claim(self, subscription_id: int, keys: list[tuple[str, str, dt.date, str]]) -> list[tuple[str, str, dt.date, str]]:
        """Records (doc, ref, date, threshold) as sent to the subscription; the keys no one had claimed before.
        Claimed before delivery, so a pass running beside another (cron and the server) never sends one twice."""
        fresh = []
        with self._write() as db:
            if db.execute("SELECT 1 FROM subscriptions WHERE id = ?", (subscription_id,)).fetchone() is None:
                return []  # unsubscribed meanwhile
            for doc, ref, date, threshold in keys:
                cursor = db.execute("INSERT OR IGNORE INTO sent VALUES (?, ?, ?, ?, ?, ?)",
                                    (subscription_id, doc, ref, date.isoformat(), threshold, _now()))
                if cursor.rowcount == 1:
                    fresh.append((doc, ref, date, threshold))
        return fresh

    def release(self, subscription_id: int, keys: list[tuple[str, str, dt.date, str]]) -> None:
        """Undo a claim whose delivery failed, so the next pass tries again."""
        with self._write() as db:
            db.executemany("DELETE FROM sent WHERE subscription_id = ? AND doc = ? AND ref = ? AND date = ? "
                           "AND threshold = ?", [(subscription_id, d, r, day.isoformat(), t) for d, r, day, t in keys])

    def sent(self, subscription_id: int) -> set[tuple[str, str, dt.date, str]]:
        with self._lock:
            rows = self._db.execute("SELECT doc, ref, date, threshold FROM sent WHERE subscription_id = ?",
                                    (subscription_id,)).fetchall()
        return {(doc, ref, dt.date.fromisoformat(date), threshold) for doc, ref, date, threshold in rows}

    # done marks

    def mark_done(self, doc: str, ref: str, date: dt.date, by: str, channel: str) -> bool:
        """True when newly marked; an existing mark keeps its first author and time."""
        with self._write() as db:
            cursor = db.execute("INSERT OR IGNORE INTO done VALUES (?, ?, ?, ?, ?, ?)",
                                (doc, ref, date.isoformat(), by, channel, _now()))
            return cursor.rowcount == 1

    def done_marks(self) -> dict[tuple[str, str, dt.date], DoneMark]:
        with self._lock:
            rows = self._db.execute("SELECT doc, ref, date, done_by, channel, done_at FROM done").fetchall()
        marks = [DoneMark(doc, ref, dt.date.fromisoformat(date), by, channel, at) for doc, ref, date, by, channel, at in rows]
        return {(m.doc, m.ref, m.date): m for m in marks}
