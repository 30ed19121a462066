"""The persistent index: clauses, tasks and documents as JSON, BM25 over jieba tokens, clause embeddings in Chroma.

Layout under settings.data_dir/index:
    CURRENT          name of the build that serves (replaced atomically with os.replace)
    .lock            fcntl lock held by the one process that is building
    build-<stamp>/   a complete build: meta.json clauses.json tasks.json docs.json bm25/ chroma/
    tmp-<stamp>/     a build in progress; renamed to build-<stamp> only when complete
    STORE_ID         random id of this data_dir, in its collection names on a shared Chroma server

A build killed at any moment leaves CURRENT naming the previous complete build; the next build removes what it left.

With POLICYBOT_CHROMA_HOST set, a build keeps its vectors on that Chroma server instead of in chroma/, in a collection
of its own, clauses-<embedder>-<store id>-<stamp> (meta.json names it); everything else stays in the build directory.
CURRENT still decides which build serves, and a collection is deleted when its build directory is.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.model import Clause, DocMeta, Task
from kbase.embeddings import EmbeddingsUnavailable, embedder_id, embedder_version, make_embeddings
from kbase.settings import Settings

log = logging.getLogger(__name__)

INDEX_FORMAT = "1"
BM25_METHOD = "lucene"  # its IDF, log(1 + (N - df + .5) / (df + .5)), stays positive for terms in most clauses
EMBED_BATCH = 32
CURRENT = "CURRENT"
STORE_ID = "STORE_ID"
_BUILD, _TMP = "build-", "tmp-"
_STAMP = r"\d{8}T\d{6}-\d+-[0-9a-f]{6}"

Progress = Callable[[str], None]
Tokenize = Callable[[str], list[str]]


def fingerprint(sources: list[tuple[DocMeta, str]], embed_spec: str, parser_version: str) -> str:
    """Changes whenever the sources, their metadata, the embedder, the parser or this index's format change."""
    digest = hashlib.sha256()
    for part in (INDEX_FORMAT, embedder_id(embed_spec), embedder_version(embed_spec), parser_version):
        digest.update(part.encode("utf-8") + b"\0")
    for meta, text in sources:
        digest.update(meta.model_dump_json().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(text.encode("utf-8")).digest())
    return digest.hexdigest()[:16]


def passage_text(clause: Clause) -> str:
    """What is indexed for a clause: its heading path, then its text (headings the text already opens with are not repeated)."""
    headings = [h for h in clause.path if not clause.text.lstrip().startswith(h)]
    return "\n".join([*headings, clause.text])


def index_root(settings: Settings) -> Path:
    return Path(settings.data_dir) / "index"


def collection_name(embed_spec: str) -> str:
    """The clause collection in a build's own embedded store."""
    return f"clauses-{embedder_id(embed_spec)}"


def server_collection_name(embed_spec: str, store_id: str, stamp: str) -> str:
    """A build's collection on a shared Chroma server: unique to the data_dir (store_id) and to the build (stamp)."""
    return f"{collection_name(embed_spec)}-{store_id}-{stamp}"


# A subclass so that retrieval's fallback for an embedder that cannot run (BM25 only, one warning) covers it too.
class VectorStoreUnavailable(EmbeddingsUnavailable):
    """The Chroma server holding a build's vectors cannot be reached, or no longer has the build's collection."""


class Index:
    """One complete build, read-only. Clauses, tasks and documents load at once; BM25 and Chroma on first use."""

    def __init__(self, path: Path, meta: dict):
        self.path = Path(path)
        self.meta = meta
        self.docs: dict[str, DocMeta] = {d["id"]: DocMeta.model_validate(d) for d in _read_json(self.path / "docs.json")}
        self.clauses: dict[str, Clause] = {}
        for raw in _read_json(self.path / "clauses.json"):
            clause = Clause.model_validate({**raw, "meta": self.docs[raw["doc"]]})
            self.clauses[clause.key] = clause
        self.tasks: list[Task] = [Task.model_validate(t) for t in _read_json(self.path / "tasks.json")]
        self._keys = list(self.clauses)
        self._doc_numbers = {doc: n for n, doc in enumerate(self.docs)}
        # integers, not id strings: np.isin on strings compares one document at a time (clauses x documents)
        self._clause_docs = np.array([self._doc_numbers[c.doc] for c in self.clauses.values()], dtype=np.int32)
        self._lock = threading.Lock()
        self._retriever = None
        self._client = None
        self._collection = None
        self._embeddings = None

    def bm25(self, tokens: list[str], k: int, docs: set[str] | None = None) -> list[tuple[str, float]]:
        """Clause keys by BM25 score (positive scores only), best first; `docs` limits the documents searched."""
        if k <= 0 or not tokens or docs is not None and not docs:
            return []
        retriever = self._bm25()
        token_ids = retriever.get_tokens_ids(list(tokens))
        if not token_ids:
            return []
        mask = None if docs is None else np.isin(
            self._clause_docs, [self._doc_numbers[d] for d in docs if d in self._doc_numbers]).astype(np.float32)
        scores = retriever.get_scores_from_ids(token_ids, weight_mask=mask)
        best = np.argsort(-scores, kind="stable")[:k]
        return [(self._keys[i], float(scores[i])) for i in best if scores[i] > 0]

    def dense(self, query: str, k: int, docs: set[str] | None = None) -> list[tuple[str, float]]:
        """Clause keys by cosine similarity to the query (clipped to [0, 1]), best first; [] without embeddings."""
        if k <= 0 or not query.strip() or docs is not None and not docs:
            return []
        collection = self._chroma()
        if collection is None:
            return []
        where = None if docs is None else {"doc": {"$in": sorted(docs)}}
        vector = self._embeddings.embed_query(query)
        try:
            found = collection.query(query_embeddings=[vector], n_results=min(k, len(self.clauses)), where=where,
                                     include=["distances"])
        except Exception as exc:  # noqa: BLE001  any failure of a remote store; an embedded one raises as before
            if "chroma" not in self.meta:
                raise
            raise _unavailable(self.meta["chroma"], exc) from exc
        return [(key, min(1.0, max(0.0, 1.0 - distance)))
                for key, distance in zip(found["ids"][0], found["distances"][0])]

    def close(self) -> None:
        """Release the Chroma store (a long-running process that swaps indexes should close the old one)."""
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = self._collection = None

    def _bm25(self):
        with self._lock:
            if self._retriever is None:
                import bm25s
                self._retriever = bm25s.BM25.load(str(self.path / "bm25"))
            return self._retriever

    def _chroma(self):
        """The clause collection, opened on first use (importing chromadb takes about a second)."""
        with self._lock:
            if self._collection is None and self.meta.get("embedder") != "none":
                self._embeddings = make_embeddings(self.meta["embeddings"])
                remote = self.meta.get("chroma")
                try:
                    self._client, name = _vector_store(self.path, self.meta["embeddings"], remote)
                    self._collection = self._client.get_collection(name, embedding_function=None)
                except Exception as exc:  # noqa: BLE001  as in dense(); the next search tries again
                    if remote is None:
                        raise
                    if self._client is not None:
                        self._client.close()
                    self._client = None
                    raise _unavailable(remote, exc) from exc
            return self._collection


def open_index(settings: Settings, fingerprint: str | None = None) -> Index | None:
    """The serving build; None when there is none, when `fingerprint` is given and the build's differs (stale), or
    when its vectors are not where the settings keep them (embedded, or which Chroma server)."""
    root = index_root(settings)
    name = _current_name(root)
    if name is None:
        return None
    try:
        meta = _read_json(root / name / "meta.json")
    except (OSError, ValueError):
        return None
    if meta.get("format") != INDEX_FORMAT or fingerprint is not None and meta.get("fingerprint") != fingerprint:
        return None
    if meta.get("embedder") != "none" and meta.get("chroma", {}).get("server") != _server(settings):
        return None
    return Index(root / name, meta)


def build_index(settings: Settings, clauses: list[Clause], tasks: list[Task], docs: list[DocMeta],
                fingerprint: str, tokenize: Tokenize, progress: Progress | None = None) -> Path:
    """Build a new index and make it the serving one; returns its directory. Concurrent builders take turns."""
    root = index_root(settings)
    with _builder_lock(root):
        return _build(settings, clauses, tasks, docs, fingerprint, tokenize, progress)


def ensure_index(settings: Settings, progress: Progress | None = None, rebuild: bool = False) -> Index:
    """The index of the knowledge base's sources, built first if missing, stale or `rebuild` is asked for."""
    from kbase.library import load_sources

    sources = load_sources(settings)
    wanted = sources_fingerprint(settings, sources)
    if not rebuild and (index := open_index(settings, wanted)):
        return index
    with _builder_lock(index_root(settings)):
        if not rebuild and (index := open_index(settings, wanted)):  # built by another process while we waited
            return index
        return _build_sources(settings, sources, wanted, progress)


def sources_fingerprint(settings: Settings, sources: list[tuple[DocMeta, str]]) -> str:
    import ingest
    from ingest.structure import PARSER_VERSION
    # Clauses, tokens and the task ledger follow the ingest code and its lexicon data: any edit rebuilds.
    return fingerprint(sources, settings.embeddings, f"{PARSER_VERSION}+{_files_digest(Path(ingest.__file__).parent)}")


@contextmanager
def index_transaction(settings: Settings) -> Iterator[Callable[..., Index]]:
    """Hold the builder lock across a build and whatever the caller commits after it (a library manifest):
    a process killed in between leaves the old sources, and the next reader rebuilds to match them."""
    with _builder_lock(index_root(settings)):
        yield lambda sources, progress=None: _build_sources(settings, sources, sources_fingerprint(settings, sources),
                                                            progress)


def _build_sources(settings: Settings, sources: list[tuple[DocMeta, str]], wanted: str,
                   progress: Progress | None) -> Index:
    from ingest.ledger import extract_tasks
    from ingest.lexicon import tokenize
    from ingest.structure import parse_document

    if progress:
        progress("解析文件…")
    clauses = [clause for meta, text in sources for clause in parse_document(meta, text)]
    path = _build(settings, clauses, extract_tasks(clauses), [meta for meta, _ in sources], wanted, tokenize, progress)
    return Index(path, _read_json(path / "meta.json"))


def _build(settings: Settings, clauses: list[Clause], tasks: list[Task], docs: list[DocMeta],
           fingerprint: str, tokenize: Tokenize, progress: Progress | None) -> Path:
    root, embed_spec, server = index_root(settings), settings.embeddings, _server(settings)
    say = progress or (lambda message: None)
    if not clauses:
        raise ValueError("没有可以编入索引的条款：请检查 manifest.json 与文件内容。")
    embeddings = make_embeddings(embed_spec)  # fails early, before anything is written, if the model cannot run
    started = time.monotonic()
    _remove(root, keep=lambda name: name.startswith(_BUILD))  # leftovers of killed builds
    name = f"{dt.datetime.now():%Y%m%dT%H%M%S}-{os.getpid()}-{secrets.token_hex(3)}"
    work = root / f"{_TMP}{name}"
    work.mkdir()

    _write_json(work / "docs.json", [d.model_dump(mode="json") for d in docs])
    _write_json(work / "clauses.json", [c.model_dump(mode="json", exclude={"meta"}) for c in clauses])
    _write_json(work / "tasks.json", [t.model_dump(mode="json") for t in tasks])
    texts = [passage_text(c) for c in clauses]

    say(f"建立 BM25 索引（{len(texts)} 个条款）…")
    _build_bm25(work / "bm25", [tokenize(text) for text in texts])
    dim = embedded = 0
    remote = None
    if embeddings is not None:
        known = _previous_vectors(root, embed_spec)
        if reused := sum(text in known for text in texts):
            say(f"沿用上一版索引中 {reused} 个未变条款的向量…")
        if server is not None:
            remote = {"server": server, "collection": server_collection_name(embed_spec, _store_id(root), name)}
        reusing = _Reusing(embeddings, known)
        dim = _build_chroma(work, embed_spec, remote, reusing, clauses, texts, say)
        embedded = reusing.embedded

    seconds = round(time.monotonic() - started, 2)
    _write_json(work / "meta.json", {
        "format": INDEX_FORMAT, "fingerprint": fingerprint,
        "embeddings": embed_spec, "embedder": embedder_id(embed_spec), "embedder_version": embedder_version(embed_spec),
        "dim": dim, **({"chroma": remote} if remote else {}),
        "bm25": BM25_METHOD, "counts": {"docs": len(docs), "clauses": len(clauses), "tasks": len(tasks),
                                        "embedded": embedded},
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "build_seconds": seconds,
    })
    final = root / f"{_BUILD}{name}"
    os.rename(work, final)
    previous = _current_name(root)
    _point_current(root, final.name)
    _remove(root, keep=lambda entry: entry in (final.name, previous))  # readers may still hold the previous one
    if server is not None:
        _drop_server_collections(root, server, keep=(final.name, previous))
    say(f"索引已建好：{len(clauses)} 个条款，{len(tasks)} 项任务，用时 {seconds:.1f} 秒。")
    return final


def _build_bm25(path: Path, corpus_tokens: list[list[str]]) -> None:
    import bm25s
    retriever = bm25s.BM25(method=BM25_METHOD)
    retriever.index(corpus_tokens, show_progress=False)
    retriever.save(str(path))


def _build_chroma(build: Path, embed_spec: str, remote: dict | None, embeddings: Embeddings, clauses: list[Clause],
                  texts: list[str], say: Progress) -> int:
    from langchain_chroma import Chroma
    client, name = _vector_store(build, embed_spec, remote)
    try:
        store = Chroma(collection_name=name, embedding_function=embeddings, client=client,
                       collection_configuration={"hnsw": {"space": "cosine"}})
        for start in range(0, len(clauses), EMBED_BATCH):
            say(f"嵌入 {start}/{len(clauses)} 条款…")
            batch = clauses[start:start + EMBED_BATCH]
            store.add_texts(texts[start:start + EMBED_BATCH], ids=[c.key for c in batch],
                            metadatas=[{"doc": c.doc, "ref": c.ref, "visibility": c.visibility, "kind": c.meta.kind}
                                       for c in batch])
        say(f"嵌入 {len(clauses)}/{len(clauses)} 条款…")
        sample = store.get(ids=[clauses[0].key], include=["embeddings"])["embeddings"]
        return len(sample[0])
    finally:
        client.close()  # the directory is renamed next: nothing may keep it open


class _Reusing(Embeddings):
    """Takes vectors of unchanged passages from the serving build, so a rebuild embeds only what changed."""

    def __init__(self, embeddings: Embeddings, known: dict[str, list[float]]):
        self.embeddings, self.known = embeddings, known
        self.embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = [text for text in dict.fromkeys(texts) if text not in self.known]
        if missing:
            self.known.update(zip(missing, self.embeddings.embed_documents(missing)))
            self.embedded += len(missing)
        return [self.known[text] for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embeddings.embed_query(text)


def _previous_vectors(root: Path, embed_spec: str) -> dict[str, list[float]]:
    """Passage text -> vector, from the serving build when the same model made it; {} when there is nothing to reuse."""
    name = _current_name(root)
    try:
        meta = _read_json(root / name / "meta.json") if name else {}
    except (OSError, ValueError):
        return {}
    if meta.get("embeddings") != embed_spec or meta.get("embedder_version") != embedder_version(embed_spec):
        return {}
    client = None
    try:  # from wherever that build kept them: switching to a server (or back) still reuses them
        client, collection = _vector_store(root / name, embed_spec, meta.get("chroma"))
        stored = client.get_collection(collection, embedding_function=None).get(include=["documents", "embeddings"])
    except Exception:  # noqa: BLE001  a damaged or unreachable store only means embedding everything again
        return {}
    finally:
        if client is not None:
            client.close()
    return dict(zip(stored["documents"], np.asarray(stored["embeddings"], dtype=np.float32).tolist()))


def _server(settings: Settings) -> dict | None:
    """The configured Chroma server; None keeps each build's vectors in its own embedded store."""
    return {"host": settings.chroma_host, "port": settings.chroma_port} if settings.chroma_host else None


def _vector_store(build: Path, embed_spec: str, remote: dict | None):
    """(Chroma client, collection name) of a build's vectors: its own embedded store, or its collection on a server."""
    if remote is None:
        return _chroma_client(None, build / "chroma"), collection_name(embed_spec)
    return _chroma_client(remote["server"]), remote["collection"]


def _chroma_client(server: dict | None, path: Path | None = None):
    """A client of the Chroma server, or without one of the embedded store at `path`; never telemetry."""
    import chromadb
    options = chromadb.Settings(anonymized_telemetry=False)
    if server is None:
        return chromadb.PersistentClient(path=str(path), settings=options)
    return chromadb.HttpClient(host=server["host"], port=server["port"], settings=options)


def _unavailable(remote: dict, exc: Exception) -> VectorStoreUnavailable:
    server = remote["server"]
    return VectorStoreUnavailable(
        f"Chroma 服务器 {server['host']}:{server['port']} 上的向量集合 {remote['collection']} 无法使用（{exc}）")


def _store_id(root: Path) -> str:
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


def _drop_server_collections(root: Path, server: dict, keep: Iterable[str | None]) -> None:
    """Delete this data_dir's collections whose build is not kept: removed builds and killed builds' leftovers."""
    kept = {name.removeprefix(_BUILD) for name in keep if name}
    ours = re.compile(rf"clauses-.+-{re.escape(_store_id(root))}-({_STAMP})")
    client = None
    try:
        client = _chroma_client(server)
        for collection in client.list_collections():
            match = ours.fullmatch(collection.name)
            if match and match.group(1) not in kept:
                client.delete_collection(collection.name)
    except Exception as exc:  # noqa: BLE001  the build is done; the next one sweeps again
        log.warning("未能清理 Chroma 服务器上的旧向量集合：%s", exc)
    finally:
        if client is not None:
            client.close()


@contextmanager
def _builder_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released by the kernel even when the holder is killed
        yield


def _current_name(root: Path) -> str | None:
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return name if name.startswith(_BUILD) and (root / name).is_dir() else None


def _point_current(root: Path, name: str) -> None:
    pending = root / f"{CURRENT}.{os.getpid()}.tmp"
    with open(pending, "w", encoding="utf-8") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pending, root / CURRENT)


def _remove(root: Path, keep: Callable[[str], bool]) -> None:
    """Delete build and temporary entries that `keep` does not want (only ever called under the builder lock)."""
    for entry in root.iterdir():
        leftover = entry.name.startswith((_BUILD, _TMP)) or entry.name.startswith(f"{CURRENT}.")
        if leftover and not keep(entry.name):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _files_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix in (".py", ".json", ".txt")):
        digest.update(file.name.encode("utf-8") + b"\0" + file.read_bytes())
    return digest.hexdigest()[:12]


def _read_json(path: Path):
    return json.loads(path.read_bytes())


def _write_json(path: Path, data: Iterable | dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
