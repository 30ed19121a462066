"""Building an index from the sources: parse, BM25, embed (reusing unchanged passages' vectors), swap in atomically."""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ingest.model import Clause, DocMeta, Task
from kbase.settings import Settings
from kbase.store.builds import (
    BUILD,
    TMP,
    builder_lock,
    current_name,
    index_root,
    point_current,
    read_json,
    remove_entries,
    write_json,
)
from kbase.store.bundled_vectors import passage_hash, read_vectors
from kbase.store.chroma import (
    drop_server_collections,
    is_store_failure,
    open_vectors,
    server_collection_name,
    server_of,
    store_id,
)
from kbase.store.embeddings import embed_in_batches, embedder_id, embedder_version, make_embeddings
from kbase.store.index import (
    INDEX_FORMAT,
    WINDOW_CHARS,
    Index,
    Passage,
    import_bm25s,
    is_intact,
    last_good_build,
    open_index,
    passage_text,
    passages,
)
from kbase.store.integrity import DamagedBuild, record_files
from kbase.store.sources import load_sources, parse_sources
from kbase.store.vector_cache import VectorCache

log = logging.getLogger(__name__)

BM25_METHOD = "lucene"  # its IDF, log(1 + (N - df + .5) / (df + .5)), stays positive for terms in most clauses
WRITE_BATCH = 1000  # passages per write to Chroma (below its maximum batch size)

Progress = Callable[[str], None]


class BuildFailed(OSError):
    """The new build's vector store could not be written (a full disk, say); the serving build is untouched."""


Tokenize = Callable[[str], list[str]]


def fingerprint(sources: list[tuple[DocMeta, str]], embed_spec: str, parser_version: str) -> str:
    """Changes whenever the sources, their metadata, the embedder, the parser, the passages embedded or this index's
    format change."""
    digest = hashlib.sha256()
    for part in (INDEX_FORMAT, str(WINDOW_CHARS), embedder_id(embed_spec), embedder_version(embed_spec), parser_version):
        digest.update(part.encode("utf-8") + b"\0")
    for meta, text in sources:
        digest.update(meta.model_dump_json().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(text.encode("utf-8")).digest())
    return digest.hexdigest()[:16]


def build_index(settings: Settings, clauses: list[Clause], tasks: list[Task], docs: list[DocMeta],
                fingerprint: str, tokenize: Tokenize, progress: Progress | None = None) -> Path:
    """Build a new index and make it the serving one; returns its directory. Concurrent builders take turns."""
    root = index_root(settings)
    with builder_lock(root):
        return _build(settings, clauses, tasks, docs, fingerprint, tokenize, progress)


def ensure_index(settings: Settings, progress: Progress | None = None, rebuild: bool = False) -> Index:
    """The index of the knowledge base's sources, built first if missing, stale or `rebuild` is asked for. A damaged
    serving build (kbase.store.integrity) gives way to a kept intact build of the same sources, else to a rebuild,
    with one log line saying which."""
    _keep_dictionary(settings)
    sources = load_sources(settings)
    wanted = sources_fingerprint(settings, sources)
    damage = None
    if not rebuild:
        try:
            if index := open_index(settings, wanted):
                return index
        except DamagedBuild as exc:
            damage = exc
    root = index_root(settings)
    with builder_lock(root):
        if not rebuild:
            try:
                if index := open_index(settings, wanted):  # built by another process while we waited
                    return index
            except DamagedBuild as exc:
                damage = exc
            if damage and (kept := last_good_build(settings, wanted)):
                log.warning("%s；改用保留的上一版完好索引 %s。", damage, kept.path.name)
                point_current(root, kept.path.name)
                return kept
        if damage:
            log.warning("%s；正在从源文件重建索引。", damage)
        return build_sources(settings, sources, wanted, progress)


def sources_fingerprint(settings: Settings, sources: list[tuple[DocMeta, str]]) -> str:
    import ingest
    from ingest.structure import PARSER_VERSION
    # Clauses, tokens and the task ledger follow the ingest code and its lexicon data: any edit rebuilds.
    return fingerprint(sources, settings.embeddings, f"{PARSER_VERSION}+{_files_digest(Path(ingest.__file__).parent)}")


@contextmanager
def index_transaction(settings: Settings) -> Iterator[Callable[..., Index]]:
    """Hold the builder lock across a build and whatever the caller commits after it (a library manifest):
    a process killed in between leaves the old sources, and the next reader rebuilds to match them."""
    _keep_dictionary(settings)
    with builder_lock(index_root(settings)):
        yield lambda sources, progress=None: build_sources(settings, sources, sources_fingerprint(settings, sources),
                                                            progress)


def _keep_dictionary(settings: Settings) -> None:
    from ingest.lexicon import keep_dictionary_in
    keep_dictionary_in(Path(settings.data_dir) / "cache")  # the tokenizer of builds and of questions alike


def build_sources(settings: Settings, sources: list[tuple[DocMeta, str]], wanted: str,
                   progress: Progress | None) -> Index:
    from ingest.ledger import extract_tasks
    from ingest.lexicon import tokenize
    from ingest.statute import mark_repealed, with_text_facts

    if progress:
        progress("解析文件…")
    clauses = parse_sources(sources)
    by_doc: dict[str, list[Clause]] = {}
    for clause in clauses:
        by_doc.setdefault(clause.doc, []).append(clause)
    # the 施行 date when the metadata has none, what each text repeals and which texts are repealed
    docs = mark_repealed([with_text_facts(meta, by_doc.get(meta.id, [])) for meta, _ in sources])
    path = _build(settings, clauses, extract_tasks(clauses), docs, wanted, tokenize, progress)
    return Index(path, read_json(path / "meta.json"))


def _build(settings: Settings, clauses: list[Clause], tasks: list[Task], docs: list[DocMeta],
           fingerprint: str, tokenize: Tokenize, progress: Progress | None) -> Path:
    root, embed_spec, server = index_root(settings), settings.embeddings, server_of(settings)
    say = progress or (lambda message: None)
    if not clauses:
        raise ValueError("没有可以编入索引的条款：请检查 manifest.json 与文件内容。")
    embeddings = make_embeddings(embed_spec)  # fails early, before anything is written, if the model cannot run
    started = time.monotonic()
    remove_entries(root, keep=lambda name: name.startswith(BUILD))  # leftovers of killed builds
    name = f"{dt.datetime.now():%Y%m%dT%H%M%S}-{os.getpid()}-{secrets.token_hex(3)}"
    work = root / f"{TMP}{name}"
    work.mkdir()

    write_json(work / "docs.json", [d.model_dump(mode="json") for d in docs])
    write_json(work / "clauses.json", [c.model_dump(mode="json", exclude={"meta"}) for c in clauses])
    write_json(work / "tasks.json", [t.model_dump(mode="json") for t in tasks])
    say(f"建立 BM25 索引（{len(clauses)} 个条款）…")
    _build_bm25(work / "bm25", [tokenize(passage_text(c)) for c in clauses])
    dim = embedded = 0
    remote = None
    if embeddings is not None:
        units = passages(clauses)
        texts = {passage_hash(p.text): p.text for p in units}
        cache = _vector_cache(settings)
        known = _known_vectors(settings, set(texts), cache, say)
        missing = {key: text for key, text in texts.items() if key not in known}
        fresh = embed_in_batches(embeddings, missing, say)
        cache.put(fresh)
        known.update(fresh)
        embedded = len(missing)
        if server is not None:
            remote = {"server": server, "collection": server_collection_name(embed_spec, store_id(root), name)}
        try:
            dim = _write_vectors(work, embed_spec, remote, units, known, settings.vector_search_breadth, say)
        except BaseException as exc:  # noqa: BLE001  Chroma reports a full disk as its own error (or a Rust panic)
            if isinstance(exc, OSError) or not is_store_failure(exc):
                raise
            raise BuildFailed(f"向量库写入失败：{type(exc).__name__}: {str(exc)[:200]}") from exc

    seconds = round(time.monotonic() - started, 2)
    write_json(work / "meta.json", {
        "files": record_files(work),  # what opening checks: a damaged build is never used
        "format": INDEX_FORMAT, "fingerprint": fingerprint,
        "embeddings": embed_spec, "embedder": embedder_id(embed_spec), "embedder_version": embedder_version(embed_spec),
        "dim": dim, **({"chroma": remote} if remote else {}),
        "vectors_cached": embeddings is not None and settings.vector_cache_max_vectors > 0,
        "bm25": BM25_METHOD, "counts": {"docs": len(docs), "clauses": len(clauses), "tasks": len(tasks),
                                        "embedded": embedded},
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "build_seconds": seconds,
    })
    final = root / f"{BUILD}{name}"
    os.rename(work, final)
    previous = _worth_keeping(root)
    point_current(root, final.name)
    remove_entries(root, keep=lambda entry: entry in (final.name, previous))  # readers may still hold the previous one
    if server is not None:
        drop_server_collections(root, server, keep=(final.name, previous))
    say(f"索引已建好：{len(clauses)} 个条款，{len(tasks)} 项任务，用时 {seconds:.1f} 秒。")
    return final


def _worth_keeping(root: Path) -> str | None:
    """The build to keep beside a new one: the serving build when intact (readers may still hold it), else the newest
    intact one kept, so that a damage found later still has a build to fall back on."""
    serving = current_name(root)
    if serving and is_intact(root / serving):
        return serving
    return next((path.name for path in sorted(root.glob(f"{BUILD}*"), reverse=True)
                 if path.name != serving and is_intact(path)), None)


def _build_bm25(path: Path, corpus_tokens: list[list[str]]) -> None:
    retriever = import_bm25s().BM25(method=BM25_METHOD)
    retriever.index(corpus_tokens, show_progress=False)
    retriever.save(str(path))


def _write_vectors(build: Path, embed_spec: str, remote: dict | None, units: list[Passage],
                  vectors: dict[str, list[float]], breadth: int, say: Progress) -> int:
    """Write the passages with their vectors (by text hash) into the build's collection; the vectors' dimension."""
    # no one else uses the store of a build being written: leaving the block closes it before the rename
    with open_vectors(build, embed_spec, remote) as (client, name):
        collection = client.create_collection(name, configuration={"hnsw": {"space": "cosine", "ef_search": breadth}},
                                              embedding_function=None)
        say(f"写入向量库（{len(units)} 个段落）…")
        for start in range(0, len(units), WRITE_BATCH):
            batch = units[start:start + WRITE_BATCH]
            collection.add(ids=[p.id for p in batch], embeddings=[vectors[passage_hash(p.text)] for p in batch],
                           documents=[p.text for p in batch], metadatas=[p.metadata() for p in batch])
    return len(vectors[passage_hash(units[0].text)])


def _known_vectors(settings: Settings, wanted: set[str], cache: VectorCache, say: Progress) -> dict[str, list[float]]:
    """Passage hash -> vector for the passages that need no embedding: the bundled corpus's, the cache's, then the
    serving build's when it was made before the cache (those join the cache)."""
    known = read_vectors(settings.corpus_dir, settings.embeddings)
    if bundled := len(wanted & known.keys()):
        say(f"使用随包附带的 {bundled} 个段落向量…")
    if missing := wanted - known.keys():
        cached = cache.get(missing)
        if cached:
            say(f"沿用缓存中 {len(cached)} 个未变段落的向量…")
        known.update(cached)
    if missing := wanted - known.keys():  # only then is the serving build's store worth opening
        previous = {key: vector for key, vector in _previous_vectors(index_root(settings), settings.embeddings).items()
                    if key in missing}
        if previous:
            say(f"沿用上一版索引中 {len(previous)} 个未变段落的向量…")
            cache.put(previous)
        known.update(previous)
    return known


def _vector_cache(settings: Settings) -> VectorCache:
    return VectorCache(Path(settings.data_dir) / "cache", embedder_id(settings.embeddings),
                       embedder_version(settings.embeddings), settings.vector_cache_max_vectors)


def _previous_vectors(root: Path, embed_spec: str) -> dict[str, list[float]]:
    """Passage hash -> vector, from the serving build when the same model made it; {} when there is nothing to reuse."""
    name = current_name(root)
    if name is None or not is_intact(root / name):  # a damaged build's vectors are not copied into the next one
        return {}
    try:
        meta = read_json(root / name / "meta.json")
    except (OSError, ValueError):
        return {}
    if meta.get("embeddings") != embed_spec or meta.get("embedder_version") != embedder_version(embed_spec):
        return {}
    if meta.get("vectors_cached"):  # what it embedded went into the cache, already asked
        return {}
    try:  # from wherever that build kept them: switching to a server (or back) still reuses them
        # the client is shared with this process's readers of that build, which go on searching meanwhile
        with open_vectors(root / name, embed_spec, meta.get("chroma")) as (client, collection):
            stored = client.get_collection(collection, embedding_function=None).get(include=["documents", "embeddings"])
    except BaseException as exc:  # noqa: BLE001  a damaged or unreachable store only means embedding everything again
        if not is_store_failure(exc):  # (Chroma's PanicException is a BaseException; Ctrl-C is not a store failure)
            raise
        return {}
    vectors = np.asarray(stored["embeddings"], dtype=np.float32).tolist()
    return {passage_hash(text): vector for text, vector in zip(stored["documents"], vectors)}


def _files_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix in (".py", ".json", ".txt")):
        digest.update(file.name.encode("utf-8") + b"\0" + file.read_bytes())
    return digest.hexdigest()[:12]
