"""A data dir's index folder: one directory per build, a CURRENT pointer swapped atomically, one builder at a time.

Layout under settings.data_dir/index:
    CURRENT          name of the build that serves (replaced atomically with os.replace)
    .lock            fcntl lock held by the one process that is building
    build-<stamp>/   a complete build: meta.json clauses.json tasks.json docs.json bm25/ chroma/
    tmp-<stamp>/     a build in progress; renamed to build-<stamp> only when complete
    STORE_ID         random id of this data_dir, in its collection names on a shared Chroma server

A build killed at any moment leaves CURRENT naming the previous complete build; the next build removes what it left.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kbase.settings import Settings

CURRENT = "CURRENT"
STORE_ID = "STORE_ID"
BUILD, TMP = "build-", "tmp-"
STAMP = r"\d{8}T\d{6}-\d+-[0-9a-f]{6}"


def index_root(settings: Settings) -> Path:
    return Path(settings.data_dir) / "index"


@contextmanager
def builder_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released by the kernel even when the holder is killed
        yield


def current_name(root: Path) -> str | None:
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return name if name.startswith(BUILD) and (root / name).is_dir() else None


def point_current(root: Path, name: str) -> None:
    pending = root / f"{CURRENT}.{os.getpid()}.tmp"
    with open(pending, "w", encoding="utf-8") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pending, root / CURRENT)


def remove_entries(root: Path, keep: Callable[[str], bool]) -> None:
    """Delete build and temporary entries that `keep` does not want (only ever called under the builder lock)."""
    for entry in root.iterdir():
        leftover = entry.name.startswith((BUILD, TMP)) or entry.name.startswith(f"{CURRENT}.")
        if leftover and not keep(entry.name):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def read_json(path: Path):
    return json.loads(path.read_bytes())


def write_json(path: Path, data: Iterable | dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
