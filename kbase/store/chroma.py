"""Where a build keeps its vectors: its own embedded Chroma store, or a collection on a shared Chroma server.

With POLICYBOT_CHROMA_HOST set, a build keeps its vectors on that server in a collection of its own,
clauses-<embedder>-<store id>-<stamp> (meta.json names it); everything else stays in the build directory.
CURRENT still decides which build serves, and a collection is deleted when its build directory is.

Within a process every user of a store (an Index searching it, a build writing it, a rebuild reading the serving
build's vectors) shares one client, acquired and released: the last release closes it.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kbase.settings import Settings
from kbase.store.builds import BUILD, STAMP, STORE_ID
from kbase.store.embeddings import EmbeddingsUnavailable, embedder_id

if TYPE_CHECKING:  # importing chromadb takes about a second: only where a store is opened
    from chromadb.api import ClientAPI

log = logging.getLogger(__name__)


def collection_name(embed_spec: str) -> str:
    """The clause collection in a build's own embedded store."""
    return f"clauses-{embedder_id(embed_spec)}"


def server_collection_name(embed_spec: str, store_id: str, stamp: str) -> str:
    """A build's collection on a shared Chroma server: unique to the data_dir (store_id) and to the build (stamp)."""
    return f"{collection_name(embed_spec)}-{store_id}-{stamp}"


# A subclass so that retrieval's fallback for an embedder that cannot run (BM25 only, one warning) covers it too.
class VectorStoreUnavailable(EmbeddingsUnavailable):
    """The Chroma server holding a build's vectors cannot be reached, or no longer has the build's collection."""


def server_of(settings: Settings) -> dict | None:
    """The configured Chroma server; None keeps each build's vectors in its own embedded store."""
    return {"host": settings.chroma_host, "port": settings.chroma_port} if settings.chroma_host else None


@dataclass
class _Shared:
    client: ClientAPI
    users: int


_shared: dict[str, _Shared] = {}
_shared_lock = threading.Lock()


def acquire_vectors(build: Path, embed_spec: str, remote: dict | None) -> tuple[ClientAPI, str]:
    """(Chroma client, collection name) of a build's vectors: its own embedded store, or its collection on a server.
    The client is shared within the process; hand it back with release_client()."""
    if remote is None:
        return acquire_client(None, build / "chroma"), collection_name(embed_spec)
    return acquire_client(remote["server"]), remote["collection"]


@contextmanager
def open_vectors(build: Path, embed_spec: str, remote: dict | None) -> Iterator[tuple[ClientAPI, str]]:
    """acquire_vectors() for the length of a with-block: released at its end, closed there if no one else uses it."""
    client, name = acquire_vectors(build, embed_spec, remote)
    try:
        yield client, name
    finally:
        release_client(client)


def acquire_client(server: dict | None, path: Path | None = None) -> ClientAPI:
    """The process's one client of the Chroma server, or without a server of the embedded store at `path`.

    chromadb runs one "system" per store path in a process and stops it when any client of that path closes at the
    wrong moment (it counts users, but opening and closing race); so every user here shares one client per store,
    counted under one lock, and only the last release closes it."""
    import chromadb
    key = f"http://{server['host']}:{server['port']}" if server else str(Path(path).resolve())
    with _shared_lock:
        shared = _shared.get(key)
        if shared is None:
            options = chromadb.Settings(anonymized_telemetry=False)
            client = (chromadb.HttpClient(host=server["host"], port=server["port"], settings=options) if server
                      else chromadb.PersistentClient(path=key, settings=options))
            shared = _shared[key] = _Shared(client, 0)
        shared.users += 1
        return shared.client


def release_client(client: ClientAPI) -> None:
    """Hand back a client of acquire_client(); the last user's release closes it (and frees its files)."""
    with _shared_lock:
        key = next(key for key, shared in _shared.items() if shared.client is client)
        _shared[key].users -= 1
        if _shared[key].users == 0:
            del _shared[key]
            client.close()


def is_store_failure(exc: BaseException) -> bool:
    """Any Exception, or the PanicException that Chroma's Rust core raises on a damaged file ("database disk image
    is malformed"): pyo3 derives it from BaseException, so `except Exception` lets it through."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def unavailable(remote: dict, exc: BaseException) -> VectorStoreUnavailable:
    server = remote["server"]
    return VectorStoreUnavailable(
        f"Chroma 服务器 {server['host']}:{server['port']} 上的向量集合 {remote['collection']} 无法使用（{exc}）")


def store_id(root: Path) -> str:
    """This data_dir's id in collection names, made on first use (only ever called under the builder lock)."""
    path = root / STORE_ID
    try:
        stored = path.read_text(encoding="utf-8").strip()
    except OSError:
        stored = ""
    if re.fullmatch(r"[0-9a-f]{8}", stored):
        return stored
    store_id = secrets.token_hex(4)
    pending = root / f"{STORE_ID}.{os.getpid()}.tmp"
    pending.write_text(store_id + "\n", encoding="utf-8")
    os.replace(pending, path)
    return store_id


def drop_server_collections(root: Path, server: dict, keep: Iterable[str | None]) -> None:
    """Delete this data_dir's collections whose build is not kept: removed builds and killed builds' leftovers."""
    kept = {name.removeprefix(BUILD) for name in keep if name}
    ours = re.compile(rf"clauses-.+-{re.escape(store_id(root))}-({STAMP})")
    client = None
    try:
        client = acquire_client(server)
        for collection in client.list_collections():
            match = ours.fullmatch(collection.name)
            if match and match.group(1) not in kept:
                client.delete_collection(collection.name)
    except Exception as exc:  # noqa: BLE001  the build is done; the next one sweeps again
        log.warning("未能清理 Chroma 服务器上的旧向量集合：%s", exc)
    finally:
        if client is not None:
            release_client(client)
