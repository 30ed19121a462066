"""Hybrid retrieval: BM25 over jieba tokens and dense e5 search, fused by RRF and re-scored by fit to the question."""
from __future__ import annotations

import datetime as dt
import logging
import math
import re
from dataclasses import dataclass

from ingest.lexicon import glossary
from ingest.model import Clause
from ingest.text import squash
from kbase.answering.query import Query
from kbase.model import Audience
from kbase.store.embeddings import EmbeddingsUnavailable
from kbase.store.versions import in_force

# Every plan of the base is about its own city: naming it says nothing about relevance.
_HOME_WORDS = {"开封", "开封市", "我市", "全市", "本市"}
_PENALTY_ASKED = re.compile(r"处罚|罚款|怎么罚|罚多少|法律责任")
_FINE = re.compile(r"罚款")


def bigram_overlap(question: str, text: str) -> float:
    """Share of the question's CJK character pairs that a text contains (word order matters: 全部完成 ≠ 完成全部)."""
    chars = re.sub(r"[^\u4e00-\u9fff]", "", question)
    pairs = {chars[i:i + 2] for i in range(len(chars) - 1)}
    text = squash(text)
    return sum(1 for p in pairs if p in text) / len(pairs) if pairs else 0.0

log = logging.getLogger(__name__)


@dataclass
class Hit:
    clause: Clause
    score: float
    coverage: float
    dense: float = 0.0


def visible_docs(index, audience: Audience, today: dt.date | None = None, history: bool = True) -> set[str]:
    """Documents an audience may see (internal ones are for staff only); without `history`, only the
    version of each document in force on `today`."""
    allowed = {d.id for d in index.docs.values() if audience == "staff" or d.visibility == "public"}
    if today is not None and not history:
        allowed &= in_force((index.docs[d] for d in allowed), today)
    return allowed


class Retriever:
    def __init__(self, index, settings):
        self.index = index
        self.settings = settings
        self._texts = {key: squash(c.text).lower() for key, c in index.clauses.items()}
        self._df: dict[str, int] = {}
        self._warned = False
        self._synonyms: dict[str, list[str]] = {}  # a word in several groups has all of their words
        for group in glossary()["synonyms"]:
            for word in group:
                self._synonyms.setdefault(word.lower(), [word.lower()])
                self._synonyms[word.lower()] += [w.lower() for w in group if w.lower() not in self._synonyms[word.lower()]]

    def idf(self, token: str) -> float:
        if token not in self._df:
            self._df[token] = sum(1 for text in self._texts.values() if token in text)
        n = len(self._texts)
        return math.log(1 + n / (self._df[token] + 0.5))

    def coverage(self, tokens: list[str], text: str) -> float:
        """IDF-weighted share of the question's words (or their synonyms) found in a text."""
        text = squash(text).lower()
        total = found = 0.0
        for token in dict.fromkeys(tokens):
            if len(token) < 2 or token in _HOME_WORDS:
                continue
            weight = self.idf(token)
            total += weight
            if any(alt in text for alt in self._synonyms.get(token, [token])):
                found += weight
        return found / total if total else 0.0

    def search(self, q: Query, audience: Audience, within: set[str] | None = None, k: int = 8,
               today: dt.date | None = None) -> list[Hit]:
        today = today or self.settings.current_date()
        docs = visible_docs(self.index, audience, today, history=q.history)
        current = in_force(self.index.docs.values(), today) if q.history else set()
        fused: dict[str, float] = {}
        dense_sim: dict[str, float] = {}
        lexical = self.index.bm25(q.tokens + q.expanded, self.settings.bm25_k, docs) if q.tokens else []
        dense = [] if self._lexically_settled(q, lexical) else self._dense(q.text, docs)
        for ranking in (lexical, dense):
            for rank, (key, _) in enumerate(ranking):
                fused[key] = fused.get(key, 0.0) + 1.0 / (self.settings.rrf_k + rank + 1)
        dense_sim.update(dense)
        if within:
            fused = {key: score for key, score in fused.items() if key in within}
            for key in within:
                fused.setdefault(key, 1.0 / (self.settings.rrf_k + 50))
        hits = []
        for key, score in fused.items():
            clause = self.index.clauses.get(key)
            if clause is None or clause.doc not in docs:
                continue
            coverage = self.coverage(q.tokens, clause.heading + clause.text)
            fit = self._fit(q, clause, current)
            weight = 0.05 + coverage * coverage
            hits.append(Hit(clause, score * fit * weight, coverage, dense_sim.get(key, 0.0)))
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:k]

    def _lexically_settled(self, q: Query, lexical: list[tuple[str, float]]) -> bool:
        """Every word of the question already found together in one of the top BM25 clauses: the vector
        search (the dearest step) could only reorder near-ties, so it is skipped."""
        top = lexical[: self.settings.dense_skip_top]
        return not q.english and any(
            self.coverage(q.tokens, self.index.clauses[key].heading + self.index.clauses[key].text)
            >= self.settings.dense_skip_coverage for key, _ in top)

    def warm_dense(self) -> None:
        self._dense("预热", set(self.index.docs))

    def _dense(self, text: str, docs: set[str]) -> list[tuple[str, float]]:
        """Vector search, or nothing when the embedder of this index cannot run here (BM25 still answers)."""
        try:
            return self.index.dense(text, self.settings.dense_k, docs)
        except EmbeddingsUnavailable as exc:
            if not self._warned:
                log.warning("向量检索不可用，仅使用关键词检索：%s", exc)
                self._warned = True
            return []

    def _fit(self, q: Query, clause: Clause, current: set[str]) -> float:
        """How well a clause's kind suits the question's kind and document hints."""
        fit = 1.0
        is_law = clause.meta.kind == "law"
        if q.named_docs:
            fit *= 3.0 if clause.doc in q.named_docs else 0.4
        elif q.kind == "law" or (q.law_hint and not q.plan_hint):
            fit *= 1.8 if is_law else 0.6
        elif q.plan_hint or q.kind in ("responsibility", "aggregate"):
            fit *= 1.6 if not is_law else 0.6
        if clause.ref == "序":
            fit *= 0.5
        if q.history and clause.doc not in current:
            fit *= 1.5  # "修正前的规定": the superseded version is what was asked for
        if q.kind == "responsibility" and clause.level == 3 and not is_law:
            fit *= 1.4
        if q.kind in ("target", "deadline") and re.search(r"\d", clause.text):
            fit *= 1.2
        if _PENALTY_ASKED.search(q.text) and _FINE.search(clause.text):
            fit *= 1.3
        return fit
