"""A built index, read-only: clauses, tasks and documents as JSON, BM25 over jieba tokens, clause vectors in Chroma."""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ingest.model import Clause, DocMeta, Task
from kbase.settings import Settings
from kbase.store.builds import BUILD, current_name, index_root, read_json
from kbase.store.chroma import (
    VectorStoreUnavailable,
    acquire_vectors,
    is_store_failure,
    release_client,
    server_of,
    unavailable,
)
from kbase.store.embeddings import make_embeddings
from kbase.store.integrity import DamagedBuild, mark_damaged, verify_files
from kbase.store.memory_vectors import MAX_PASSAGES, MemoryVectors

if TYPE_CHECKING:
    from chromadb import Collection

log = logging.getLogger(__name__)

INDEX_FORMAT = "5"  # 2: passages carry their clause key in metadata; 3: long clauses also in sentence windows; 4: ef_search set;
# 5: meta.json records every file's size and sha256
WINDOW_CHARS = 80  # a clause longer than this is also embedded in windows of sentences (or phrases) this long
_COMMA_PIECE = re.compile(r"[^,，]+[,，]?")
WINDOW_MARK = "#"  # clause keys and refs never hold it
PASSAGES_PER_CLAUSE = 3  # vector results asked for each clause wanted: several windows of one clause may come first


def passage_text(clause: Clause) -> str:
    """What is indexed for a clause: its heading path, then its text (headings the text already opens with are not repeated)."""
    headings = [h for h in clause.path if not clause.text.lstrip().startswith(h)]
    return "\n".join([*headings, clause.text])


def import_bm25s():
    """bm25s, its logger left to the application's level (importing bm25s sets it to DEBUG: its "Building index
    from tokens" would reach a newcomer's terminal)."""
    import bm25s
    logging.getLogger("bm25s").setLevel(logging.NOTSET)
    return bm25s


@dataclass(frozen=True)
class Passage:
    """One embedded unit of a build: its id in the vector store, the clause it belongs to, the text embedded."""

    id: str
    clause: Clause
    text: str

    def metadata(self) -> dict:
        c = self.clause
        return {"clause": c.key, "doc": c.doc, "ref": c.ref, "visibility": c.visibility, "kind": c.meta.kind}


def passages(clauses: list[Clause]) -> list[Passage]:
    """What a build embeds: each clause whole, and a long clause also in windows of a few sentences, so that one
    target among the ten of 二、主要目标 is found by its own words rather than drowned in the clause's vector."""
    found = []
    for clause in clauses:
        found.append(Passage(clause.key, clause, passage_text(clause)))
        if len(clause.text) > WINDOW_CHARS:
            for n, window in enumerate(_windows(clause.sentences), 1):
                found.append(Passage(f"{clause.key}{WINDOW_MARK}{n}", clause, f"{clause.heading}\n{window}"))
    return found


def _by_clause(passages: list[tuple[str, float]], k: int) -> list[tuple[str, float]]:
    """The k best clauses of passages ranked best first (a clause scores as its closest passage), similarity
    clipped to [0, 1]."""
    best: dict[str, float] = {}
    for passage_id, similarity in passages:
        best.setdefault(clause_of(passage_id), min(1.0, max(0.0, similarity)))
    return list(best.items())[:k]


def clause_of(passage_id: str) -> str:
    """The key of the clause a passage belongs to (a window's id is its clause's key and #n)."""
    return passage_id.partition(WINDOW_MARK)[0]


def _windows(sentences: list[str]) -> list[str]:
    """Consecutive pieces joined up to about WINDOW_CHARS characters each; a longer sentence is cut after its commas
    (a plan lists its targets in one sentence, comma after comma)."""
    pieces = [piece for sentence in sentences
              for piece in ([sentence] if len(sentence) <= WINDOW_CHARS else _COMMA_PIECE.findall(sentence))]
    windows, current = [], ""
    for piece in pieces:
        if current and len(current) + len(piece) > WINDOW_CHARS:
            windows.append(current)
            current = ""
        current += piece
    return [*windows, current] if current else windows


class Index:
    """One complete build, read-only. Clauses, tasks and documents load at once; BM25 and Chroma on first use."""

    def __init__(self, path: Path, meta: dict):
        self.path = Path(path)
        self.meta = meta
        self.docs: dict[str, DocMeta] = {d["id"]: DocMeta.model_validate(d) for d in read_json(self.path / "docs.json")}
        # a city added texts of its own: the learned decision answers more strictly on such a base
        self.extended = any(meta.origin == "added" for meta in self.docs.values())
        self.clauses: dict[str, Clause] = {}
        for raw in read_json(self.path / "clauses.json"):
            clause = Clause.model_validate({**raw, "meta": self.docs[raw["doc"]]})
            self.clauses[clause.key] = clause
        self.tasks: list[Task] = [Task.model_validate(t) for t in read_json(self.path / "tasks.json")]
        self._keys = list(self.clauses)
        self._doc_numbers = {doc: n for n, doc in enumerate(self.docs)}
        # integers, not id strings: np.isin on strings compares one document at a time (clauses x documents)
        self._clause_docs = np.array([self._doc_numbers[c.doc] for c in self.clauses.values()], dtype=np.int32)
        self._lock = threading.Lock()
        self._retriever = None
        self._client = None
        self._collection = None
        self._embeddings = None
        self._memory: MemoryVectors | None = None  # a copy of the vectors, once keep_vectors_in_memory() made it
        self._searches = 0  # vector searches running now: the store is released only when none is
        self._passages: int | None = None
        self._closed = False
        self.damage: str | None = None  # set when the build's vector store failed while in use

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

    def vocabulary(self) -> list[str]:
        """The words BM25 knows: every search token of the documents."""
        return list(self._bm25().vocab_dict)

    def dense(self, query: str, k: int, docs: set[str] | None = None) -> list[tuple[str, float]]:
        """Clause keys by cosine similarity to the query (clipped to [0, 1]), best first; [] without embeddings."""
        if k <= 0 or not query.strip() or docs is not None and not docs:
            return []
        everything = docs is None or docs >= self.docs.keys()
        if self._memory is not None:
            numbers = None if everything else [self._doc_numbers[d] for d in docs if d in self._doc_numbers]
            found = self._memory.search(self._embeddings.embed_query(query), k * PASSAGES_PER_CLAUSE, numbers)
            return _by_clause(found, k)
        with self._vectors() as collection:
            if collection is None:
                return []
            # a metadata filter makes Chroma's search several times slower: only when some documents are left out
            where = None if everything else {"doc": {"$in": sorted(docs)}}
            vector = self._embeddings.embed_query(query)
            try:
                found = collection.query(query_embeddings=[vector],  # no metadata: fetching it triples the time
                                         n_results=min(k * PASSAGES_PER_CLAUSE, self._passage_count(collection)),
                                         where=where, include=["distances"])
            except BaseException as exc:  # noqa: BLE001  chromadb's PanicException is a BaseException
                raise self._store_failed(exc) from exc
        return _by_clause([(i, 1.0 - distance) for i, distance in zip(found["ids"][0], found["distances"][0])], k)

    def keep_vectors_in_memory(self) -> bool:
        """Copy every passage vector into memory (for a long-running process's warm-up), so that searches skip the
        store; False when the build has no vectors or too many."""
        with self._vectors() as collection:
            if collection is None:
                return False
            try:
                if self._passage_count(collection) > MAX_PASSAGES:
                    return False
                stored = collection.get(include=["embeddings"])
            except BaseException as exc:  # noqa: BLE001  as in dense()
                raise self._store_failed(exc) from exc
        numbers = [self._doc_numbers[self.clauses[clause_of(i)].doc] for i in stored["ids"]]
        self._memory = MemoryVectors(stored["ids"], stored["embeddings"], numbers)
        # One matrix-vector product a question: OpenBLAS's second thread, woken for it right after e5's threads,
        # made it 11 ms instead of 0.02 on a busy machine (profile in the README). The process needs no other BLAS.
        from threadpoolctl import threadpool_limits
        threadpool_limits(1, user_api="blas")
        return True

    def _passage_count(self, collection) -> int:
        if self._passages is None:  # a build never changes: count its passages once
            self._passages = collection.count()
        return self._passages

    def close(self) -> None:
        """Release the Chroma store once no search uses it (a process that swaps indexes closes the old one while
        other threads may still be answering from it); a search after this opens it again for its own length."""
        with self._lock:
            self._closed = True
            if not self._searches:
                self._release()

    def _bm25(self):
        with self._lock:
            if self._retriever is None:
                self._retriever = import_bm25s().BM25.load(str(self.path / "bm25"))
            return self._retriever

    @contextmanager
    def _vectors(self) -> Iterator[Collection | None]:
        """The passage collection for one search, opened on first use (importing chromadb takes about a second);
        None without embeddings."""
        with self._lock:
            collection = self._open_vectors()
            self._searches += 1
        try:
            yield collection
        finally:
            with self._lock:
                self._searches -= 1
                if self._closed and not self._searches:
                    self._release()

    def _open_vectors(self) -> Collection | None:
        if self._collection is None and self.meta.get("embedder") != "none":
            self._embeddings = make_embeddings(self.meta["embeddings"])
            remote = self.meta.get("chroma")
            try:
                self._client, name = acquire_vectors(self.path, self.meta["embeddings"], remote)
                self._collection = self._client.get_collection(name, embedding_function=None)
            except BaseException as exc:  # noqa: BLE001  as in dense(); the next search tries again
                self._release()
                raise self._store_failed(exc) from exc
        return self._collection

    def _store_failed(self, exc: BaseException) -> BaseException:
        """What a failed Chroma call raises: VectorStoreUnavailable (retrieval then answers from BM25 alone), and for
        the build's own store a damage noted in the build, so that the next process rebuilds it; Ctrl-C stays."""
        if not is_store_failure(exc):
            return exc
        if remote := self.meta.get("chroma"):
            return unavailable(remote, exc)
        if self.damage is None:
            self.damage = f"向量库读取失败：{type(exc).__name__}: {str(exc)[:160]}"
            log.info("索引 %s 的%s", self.path.name, self.damage)  # retrieval says it once, as a warning
            mark_damaged(self.path, self.damage)
        return VectorStoreUnavailable(self.damage)

    def _release(self) -> None:
        if self._client is not None:
            release_client(self._client)
        self._client = self._collection = None


def open_index(settings: Settings, fingerprint: str | None = None) -> Index | None:
    """The serving build; None when there is none, when `fingerprint` is given and the build's differs (stale), or
    when its vectors are not where the settings keep them (embedded, or which Chroma server). Raises DamagedBuild
    when its files are not those it wrote."""
    root = index_root(settings)
    name = current_name(root)
    if name is None:
        return None
    try:
        meta = read_json(root / name / "meta.json")
    except (OSError, ValueError):
        raise DamagedBuild(f"索引 {name} 的 meta.json 无法读取") from None
    if not isinstance(meta, dict) or meta.get("format") != INDEX_FORMAT or \
            fingerprint is not None and meta.get("fingerprint") != fingerprint:
        return None
    if not _vectors_where_settings_keep_them(meta, settings):
        return None
    return open_build(root / name, meta)


def serving_damage(settings: Settings) -> DamagedBuild | None:
    """What is wrong with the serving build's files, without loading it; None when intact or when there is none."""
    root = index_root(settings)
    if (name := current_name(root)) is None:
        return None
    try:
        verify_files(root / name, read_json(root / name / "meta.json").get("files"))
    except DamagedBuild as damage:
        return damage
    except (OSError, ValueError, AttributeError):
        return DamagedBuild(f"索引 {name} 的 meta.json 无法读取")
    return None


def open_build(path: Path, meta: dict) -> Index:
    """A build checked file by file (kbase.store.integrity) and loaded; DamagedBuild when it cannot be used."""
    verify_files(path, meta.get("files"))
    try:
        return Index(path, meta)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # checked a moment ago: changed since, or never whole
        raise DamagedBuild(f"索引 {path.name} 无法读取（{type(exc).__name__}）") from None


def kept_builds(settings: Settings) -> list[tuple[Path, dict]]:
    """The builds other than the serving one (a build keeps its predecessor), newest first, with their meta."""
    root = index_root(settings)
    serving = current_name(root)
    found = []
    for path in sorted(root.glob(f"{BUILD}*"), reverse=True) if root.is_dir() else []:
        try:
            meta = read_json(path / "meta.json")
        except (OSError, ValueError):
            continue
        if path.name != serving and isinstance(meta, dict) and meta.get("format") == INDEX_FORMAT \
                and _vectors_where_settings_keep_them(meta, settings):
            found.append((path, meta))
    return found


def last_good_build(settings: Settings, fingerprint: str | None = None) -> Index | None:
    """The newest kept build that passes its checks (with `fingerprint`, only one of the same sources); None if none."""
    for path, meta in kept_builds(settings):
        if fingerprint is None or meta.get("fingerprint") == fingerprint:
            try:
                return open_build(path, meta)
            except DamagedBuild:
                continue
    return None


def intact_builds(settings: Settings) -> list[Path]:
    """The builds that pass their checks, the serving one first, then the kept ones newest first."""
    root = index_root(settings)
    serving = current_name(root)
    names = [serving] if serving else []
    names += sorted((p.name for p in root.glob(f"{BUILD}*") if p.name != serving), reverse=True) if root.is_dir() else []
    return [root / name for name in names if is_intact(root / name)]


def is_intact(path: Path) -> bool:
    try:
        verify_files(path, read_json(path / "meta.json").get("files"))
    except (DamagedBuild, OSError, ValueError, AttributeError):
        return False
    return True


def _vectors_where_settings_keep_them(meta: dict, settings: Settings) -> bool:
    return meta.get("embedder") == "none" or meta.get("chroma", {}).get("server") == server_of(settings)
