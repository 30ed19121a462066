"""Whether a build is still what was written: every file's size and sha256 recorded in meta.json, checked on open.

Our own files (clauses, tasks, documents, BM25) must match size and hash exactly. Chroma rewrites its own files
whenever a store is opened (a row in its SQLite file; the HNSW files take in what its log still held), so those are
held to their recorded size as a lower bound (a cut-short file fails), and the SQLite file also to SQLite's own
`PRAGMA quick_check`; damage inside them that neither sees shows when Chroma reads it, and Index marks the build
damaged then (DAMAGED below). Costs: see the README (Integrity).
"""
from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from pathlib import Path

log = logging.getLogger(__name__)

META = "meta.json"
DAMAGED = "DAMAGED"  # written into a build found damaged while in use, so that no later process opens it
CHROMA_DIR, CHROMA_SQLITE = "chroma/", "chroma/chroma.sqlite3"
_SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")  # SQLite's own, present only while a store is open


class DamagedBuild(Exception):
    """A build whose files are missing, cut short or changed; str(error) says which, in Chinese."""


def record_files(build: Path) -> dict[str, dict]:
    """{path within the build: {"size", "sha256"}} of every file the build wrote (meta.json aside)."""
    return {name: {"size": path.stat().st_size, "sha256": _sha256(path)} for name, path in _files(build).items()}


def verify_files(build: Path, recorded: dict[str, dict] | None) -> None:
    """Raise DamagedBuild unless every recorded file is there with its size and hash (SQLite: size and quick_check)."""
    if not recorded:
        raise DamagedBuild(f"索引 {build.name} 没有文件校验记录（不完整或来自旧版本）")
    if (marker := build / DAMAGED).exists():
        raise DamagedBuild(f"索引 {build.name} 使用中发现损坏（{marker.read_text(encoding='utf-8', errors='replace')}）")
    started = time.monotonic()
    for name, expected in recorded.items():
        path = build / name
        try:
            size = path.stat().st_size
        except OSError:
            raise DamagedBuild(f"索引 {build.name} 缺少文件 {name}") from None
        if name.startswith(CHROMA_DIR):
            if size < expected["size"]:
                raise DamagedBuild(f"索引 {build.name} 的文件 {name} 大小不对（{size} 字节，应不少于 {expected['size']}）")
            if name == CHROMA_SQLITE:
                _quick_check(build, path)
        elif size != expected["size"]:
            raise DamagedBuild(f"索引 {build.name} 的文件 {name} 大小不对（{size} 字节，应为 {expected['size']}）")
        elif _sha256(path) != expected["sha256"]:
            raise DamagedBuild(f"索引 {build.name} 的文件 {name} 内容已被改动（校验和不符）")
    log.debug("verified %s: %d files in %.0f ms", build.name, len(recorded), (time.monotonic() - started) * 1000)


def mark_damaged(build: Path, reason: str) -> None:
    """Leave a note in the build that it is damaged; best effort (a read-only data dir keeps it unmarked)."""
    try:
        (build / DAMAGED).write_text(reason, encoding="utf-8")
    except OSError as exc:
        log.debug("could not mark %s damaged: %s", build.name, exc)


def _quick_check(build: Path, path: Path) -> None:
    try:
        with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
            found = [row[0] for row in db.execute("PRAGMA quick_check")]
        db.close()
    except sqlite3.Error as exc:
        raise DamagedBuild(f"索引 {build.name} 的向量库无法读取（{exc}）") from None
    if found != ["ok"]:
        raise DamagedBuild(f"索引 {build.name} 的向量库已损坏（{'; '.join(found[:2])}）")


def _files(build: Path) -> dict[str, Path]:
    return {path.relative_to(build).as_posix(): path for path in sorted(build.rglob("*"))
            if path.is_file() and path.name not in (META, DAMAGED) and not path.name.endswith(_SQLITE_SIDE_FILES)}


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
