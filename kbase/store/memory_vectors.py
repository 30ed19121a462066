"""A build's passage vectors held in memory: a long-running process searches them with one matrix product, which
takes a tenth of a millisecond where a Chroma query takes two. The vectors stay in Chroma; this is their copy."""
from __future__ import annotations

import numpy as np

MAX_PASSAGES = 200_000  # beyond this (300 MB of float32) a process keeps querying the store instead


class MemoryVectors:
    """Exact cosine search over the passages of one build (whose vectors never change)."""

    def __init__(self, ids: list[str], vectors, doc_numbers: list[int]):
        matrix = np.asarray(vectors, dtype=np.float32)
        self.ids = ids
        self.matrix = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        self.docs = np.asarray(doc_numbers, dtype=np.int32)
        self._masks: dict[tuple[int, ...], np.ndarray] = {}  # an audience's documents are the same set question after question

    def search(self, vector, n: int, doc_numbers: list[int] | None = None) -> list[tuple[str, float]]:
        """The n passages closest to `vector` (passage id, cosine similarity), best first; `doc_numbers` limits the
        documents searched."""
        query = np.asarray(vector, dtype=np.float32)
        sims = self.matrix @ (query / max(float(np.linalg.norm(query)), 1e-12))
        if doc_numbers is not None:
            sims = np.where(self._mask(doc_numbers), sims, -np.inf)
        n = min(n, int(np.isfinite(sims).sum()))
        if n <= 0:
            return []
        top = np.argpartition(-sims, n - 1)[:n]
        return [(self.ids[i], float(sims[i])) for i in top[np.argsort(-sims[top], kind="stable")]]

    def _mask(self, doc_numbers: list[int]) -> np.ndarray:
        key = tuple(sorted(doc_numbers))
        if key not in self._masks:
            if len(self._masks) >= 64:  # a bound: dates can change which documents are in force
                self._masks.clear()
            self._masks[key] = np.isin(self.docs, key)
        return self._masks[key]
