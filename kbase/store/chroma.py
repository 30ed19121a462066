"""Where a build keeps its vectors: its own embedded Chroma store, or a collection on a shared Chroma server.

With POLICYBOT_CHROMA_HOST set, a build keeps its vectors on that server in a collection of its own,
clauses-<embedder>-<store id>-<stamp> (meta.json names it); everything else stays in the build directory.
CURRENT still decides which build serves, and a collection is deleted when its build directory is.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from kbase.settings import Settings
from kbase.store.builds import BUILD, STAMP, STORE_ID
from kbase.store.embeddings import EmbeddingsUnavailable, embedder_id

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


def vector_store(build: Path, embed_spec: str, remote: dict | None):
    """(Chroma client, collection name) of a build's vectors: its own embedded store, or its collection on a server."""
    if remote is None:
        return chroma_client(None, build / "chroma"), collection_name(embed_spec)
    return chroma_client(remote["server"]), remote["collection"]


def chroma_client(server: dict | None, path: Path | None = None):
    """A client of the Chroma server, or without one of the embedded store at `path`; never telemetry."""
    import chromadb
    options = chromadb.Settings(anonymized_telemetry=False)
    if server is None:
        return chromadb.PersistentClient(path=str(path), settings=options)
    return chromadb.HttpClient(host=server["host"], port=server["port"], settings=options)


def unavailable(remote: dict, exc: Exception) -> VectorStoreUnavailable:
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
        client = chroma_client(server)
        for collection in client.list_collections():
            match = ours.fullmatch(collection.name)
            if match and match.group(1) not in kept:
                client.delete_collection(collection.name)
    except Exception as exc:  # noqa: BLE001  the build is done; the next one sweeps again
        log.warning("未能清理 Chroma 服务器上的旧向量集合：%s", exc)
    finally:
        if client is not None:
            client.close()
