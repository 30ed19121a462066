"""Vectors of the bundled corpus's passages, shipped beside its manifest so that a fresh data dir builds in seconds.

The file holds, for one embedder (its name and version in the file), one float16 vector per passage, keyed by a
hash of the passage's text. A build takes a passage's vector from it when both match and embeds the others as
usual. After changing the bundled documents, the parser or what a passage is (index.passages), regenerate it:

    python -m kbase.store.bundled_vectors

It embeds only the passages the file lacks (delete the file to embed them all) and drops those the corpus no
longer has; tests/store/test_bundled_vectors.py fails while the file is stale.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kbase.settings import BUNDLED_CORPUS
from kbase.store.embeddings import DEFAULT_SPEC, embed_in_batches, embedder_id, embedder_version, make_embeddings
from kbase.store.index import passages
from kbase.store.sources import load_corpus, parse_sources

VECTORS_FILE = "passage-vectors.npz"


def passage_hash(text: str) -> str:
    """The key of a passage's vector: 128 bits of the SHA-256 of its text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def read_vectors(corpus_dir: Path, embed_spec: str) -> dict[str, list[float]]:
    """Passage hash -> vector, from the corpus's file when the same embedder (and version) made it; else {}."""
    try:
        with np.load(Path(corpus_dir) / VECTORS_FILE) as stored:
            made_by = (str(stored["embedder"]), str(stored["embedder_version"]))
            if made_by != (embedder_id(embed_spec), embedder_version(embed_spec)):
                return {}
            return dict(zip(stored["hashes"].astype(str), stored["vectors"].astype(np.float32).tolist()))
    except (OSError, KeyError, ValueError):  # no file, or not one of ours: embed as usual
        return {}


def corpus_passage_texts(corpus_dir: Path) -> dict[str, str]:
    """Passage hash -> text for every passage a build of the corpus embeds (the normal parse path)."""
    return {passage_hash(p.text): p.text for p in passages(parse_sources(load_corpus(corpus_dir)))}


def regenerate(corpus_dir: Path = BUNDLED_CORPUS, embed_spec: str = DEFAULT_SPEC,
               progress: Callable[[str], None] = print) -> tuple[int, int]:
    """Rewrite the corpus's vectors file for exactly its passages; (passages in the file, passages embedded now)."""
    texts = corpus_passage_texts(corpus_dir)
    known = read_vectors(corpus_dir, embed_spec)
    missing = {key: text for key, text in texts.items() if key not in known}
    known.update(embed_in_batches(make_embeddings(embed_spec), missing, progress))
    keys = sorted(texts)
    path = Path(corpus_dir) / VECTORS_FILE
    pending = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(pending, "wb") as handle:
        np.savez_compressed(handle, embedder=np.str_(embedder_id(embed_spec)),
                            embedder_version=np.str_(embedder_version(embed_spec)),
                            hashes=np.array(keys, dtype="S32"),
                            vectors=np.array([known[key] for key in keys], dtype=np.float16))
    os.replace(pending, path)
    return len(keys), len(missing)


if __name__ == "__main__":
    total, embedded = regenerate()
    size = (BUNDLED_CORPUS / VECTORS_FILE).stat().st_size
    print(f"{VECTORS_FILE}: {total} 个段落向量（本次嵌入 {embedded} 个），{size / 1024:.0f} KB")
