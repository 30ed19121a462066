"""Hybrid retrieval: BM25 over jieba tokens and dense e5 search, fused by RRF and re-scored by fit to the question."""
from __future__ import annotations

import datetime as dt
import logging
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from ingest.lexicon import places, vocabulary_forms, word_class
from ingest.model import Clause
from ingest.text import squash
from kbase.answering.query import Concept, Query, elsewhere, is_home, title_place
from kbase.model import Audience
from kbase.store.embeddings import EmbeddingsUnavailable
from kbase.store.versions import in_force

# Every plan of the base is about its own city: naming it says nothing about relevance.
_HOME_WORDS = {*places()["home"], *(f"{city}市" for city in places()["home"]), *places()["our_city"]}
_LAW_KINDS = ("law", "penalty", "definition", "effective")
# jieba's tags for nouns, abbreviations and time words: 公积金, 社保, 明天 — a day is never what a policy text is about
_NOUN_CLASSES = {"n", "nz", "nr", "nt", "nw", "j", "vn"}  # not t: 周末, 六月, 过去 are when, not what
_QUANTITY = re.compile(r"\d+(?:\.\d+)?\s*(?:%|％|万|亿|微克|毫克|个百分点|个|条|座|家|辆|吨|公里|亩|千瓦|平方)")
_PENALTY_ASKED = re.compile(r"处罚|罚款|怎么罚|罚多少|法律责任")
_FINE = re.compile(r"罚款")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WATER_PLACE = re.compile(r"[\u4e00-\u9fff]{2,4}(?:河|湖|渠|池|水库)")  # a named river or lake: 惠济河, 龙亭湖


@lru_cache(maxsize=4096)
def abbreviation(word: str) -> re.Pattern:
    """A pattern that finds the full form a shortened word stands for: 主干道 in 主要干道, 发改委 in 发展改革委员会
    (its characters in order, a few apart); never matches for words shorter than three characters."""
    if len(word) < 3:
        return re.compile(r"(?!)")
    return re.compile(".{0,2}".join(map(re.escape, word)))


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
    dense_rank: int | None = None  # where the vector search ranked the clause (None: not among its results)
    dense_ran: bool = False  # whether the vector search took part (it cannot where the index has no vectors)
    lexical_rank: int | None = None  # where BM25 ranked the clause (None: not among its results)


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
        self._texts = {key: self.comparable(c.text) for key, c in index.clauses.items()}
        self._headed: dict[str, str] = {}  # clause key -> its heading and text in comparison form, made on first use
        self._df: dict[str, int] = {}
        self._warned = False
        # what a concept weighs and whether it is unknown depend on the index alone: worked out once per concept
        self.weight = lru_cache(maxsize=8192)(self._weight)
        self._unknown_topic = lru_cache(maxsize=8192)(self._is_unknown_topic)

    def _count(self, token: str) -> int:
        if token not in self._df:
            self._df[token] = sum(1 for text in self._texts.values() if token in text)
        return self._df[token]

    def count_known_words(self) -> None:
        """Document frequencies of every word BM25 knows and every form the vocabulary offers, worked out now (about
        half a second) rather than at a question's first sight of them: for a long-running process's warm-up."""
        for word in [*self.index.vocabulary(), *vocabulary_forms()]:
            self._count(word)

    def idf(self, token: str) -> float:
        return math.log(1 + len(self._texts) / (self._count(token) + 0.5))

    def unknown_topics(self, concepts: list[Concept]) -> list[str]:
        """Nouns of a question that no document uses in any form (公积金, 奖金, 局长): what such a question asks
        about is most likely not in the knowledge base, however well its other words match. A word the vocabulary
        knows is a topic of the domain, even where these documents happen not to use it."""
        return [c.word for c in concepts if self._unknown_topic(c)]

    def _is_unknown_topic(self, c: Concept) -> bool:
        return (len(c.word) >= 2 and c.word not in _HOME_WORDS and len(c.forms) == 1
                and word_class(c.word) in _NOUN_CLASSES and not any(self._count(form) for form in c.forms)
                and not any(self._count(form) for part in c.parts for form in part)
                and not any(abbreviation(c.word).search(text) for text in self._texts.values()))

    def _weight(self, concept: Concept) -> float:
        """How much finding a concept tells: the IDF of its commonest form in the documents (村里 weighs as little
        as 农村); a thing the documents never name in any form weighs the most, and any other word they never use
        (a verb, a filler, a slip of the keyboard) little."""
        present = [form for form in concept.forms if self._count(form)]
        if present:
            return min(map(self.idf, present))
        if word_class(concept.word) in _NOUN_CLASSES or not _CJK.search(concept.word):
            return self.idf(concept.word)
        return self.settings.absent_word_weight

    def coverage(self, concepts: list[Concept], text: str) -> float:
        """IDF-weighted share of the question's concepts found in a text; a long word none of whose forms is there
        counts by the share of its shorter words that are (偷偷排: 偷排 -> 逃避监管)."""
        return self._covered(self.weighed(concepts), self.comparable(text))

    @staticmethod
    def comparable(text: str) -> str:
        """A text in the form coverage compares concepts' forms with."""
        return squash(text).lower()

    def headed(self, clause: Clause) -> str:
        """A clause's heading and text in comparable form, made once per clause."""
        if clause.key not in self._headed:
            self._headed[clause.key] = self.comparable(clause.heading + clause.text)
        return self._headed[clause.key]

    def weighed(self, concepts: list[Concept]) -> list[tuple[Concept, float]]:
        """The concepts that count, with their weights (worked out once for the many texts a question meets)."""
        return [(c, self.weight(c)) for c in dict.fromkeys(concepts)
                if not (len(c.word) < 2 and len(c.forms) < 2) and c.word not in _HOME_WORDS]

    def _covered(self, weighed: list[tuple[Concept, float]], text: str, law: bool = False) -> float:
        """The share found; a question that names too little (这种做法罚多少) is measured against what a question
        naming one thing would weigh, so that its few words cannot make a share on their own. A law applies to every
        river and lake of its area: one the question names (去惠济河电鱼) counts for a law's article only where found
        (`law`)."""
        total = found = 0.0
        for concept, weight in weighed:
            if any(form in text for form in concept.forms):
                total += weight
                found += weight
                continue
            if law and len(concept.forms) == 1 and _WATER_PLACE.fullmatch(concept.word):
                continue
            total += weight
            if concept.parts:
                found += weight * sum(any(f in text for f in part) for part in concept.parts) / len(concept.parts)
            elif len(concept.word) >= 3 and abbreviation(concept.word).search(text):
                found += 0.8 * weight
        return found / max(total, self.settings.min_question_weight) if total else 0.0

    def search(self, q: Query, audience: Audience, within: set[str] | None = None, k: int = 8,
               today: dt.date | None = None) -> list[Hit]:
        today = today or self.settings.current_date()
        docs = visible_docs(self.index, audience, today, history=q.history)
        current = in_force(self.index.docs.values(), today) if q.history else set()
        fused: dict[str, float] = {}
        dense_sim: dict[str, float] = {}
        lexical = self.index.bm25(q.tokens + q.expanded, self.settings.bm25_k, docs) if q.tokens else []
        dense = self._dense(q.text, docs)
        for ranking in (lexical, dense):
            for rank, (key, _) in enumerate(ranking):
                fused[key] = fused.get(key, 0.0) + 1.0 / (self.settings.rrf_k + rank + 1)
        dense_sim.update(dense)
        dense_rank = {key: rank for rank, (key, _) in enumerate(dense)}
        lexical_rank = {key: rank for rank, (key, _) in enumerate(lexical)}
        if within:
            fused = {key: score for key, score in fused.items() if key in within}
            for key in within:
                fused.setdefault(key, 1.0 / (self.settings.rrf_k + 50))
        hits, weighed = [], self.weighed(q.concepts)
        dated = q.kind in ("deadline", "target")  # 包公湖清淤什么时候开工: a place's own project, not a law's rule
        for key, score in fused.items():
            clause = self.index.clauses.get(key)
            if clause is None or clause.doc not in docs or not self._applies_in(q.other_city, clause):
                continue
            coverage = self._covered(weighed, self.headed(clause), law=clause.meta.is_statute and not dated)
            fit = self._fit(q, clause, current)
            weight = 0.05 + coverage * coverage
            hits.append(Hit(clause, score * fit * weight, coverage, dense_sim.get(key, 0.0), dense_rank.get(key),
                            bool(dense), lexical_rank.get(key)))
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:k]

    @staticmethod
    def _applies_in(city: str | None, clause: Clause) -> bool:
        """Asked about another city (上海垃圾分类罚多少), only national laws and that city's own texts apply."""
        if city is None:
            return True
        place = title_place(clause.meta.title)
        return place is None or place[0] == city

    def warm_dense(self) -> None:
        """Open the vector store and copy its vectors into memory (a long-running process's warm-up)."""
        self._dense("预热", set(self.index.docs))
        try:
            self.index.keep_vectors_in_memory()
        except EmbeddingsUnavailable:  # a store that cannot be reached: searches say so when they run
            pass

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
        is_law = clause.meta.is_statute
        if q.named_docs:
            fit *= 3.0 if clause.doc in q.named_docs else 0.4
        elif q.kind in _LAW_KINDS or (q.law_hint and not q.plan_hint):
            fit *= 1.8 if is_law else 0.6
        elif q.plan_hint or q.kind in ("responsibility", "aggregate"):
            fit *= 1.6 if not is_law else 0.6
        if is_home(clause.meta.title) and q.home_city:
            fit *= 1.25  # "开封的河里能电鱼吗": the city's own rules before the national law
        elif elsewhere(clause.meta.title, clause.doc, q):
            fit *= 0.8  # another city's rules apply there only: asked without naming it, they come last
        if clause.ref == "序":
            fit *= 0.5
        if q.history and clause.doc not in current:
            fit *= 1.5  # "修正前的规定": the superseded version is what was asked for
        if q.kind == "responsibility" and clause.level == 3 and not is_law:
            fit *= 1.4
        if q.kind in ("target", "deadline") and re.search(r"\d", clause.text):
            fit *= 1.2
        if q.kind == "target" and _QUANTITY.search(clause.text):
            fit *= 1.2  # "要达到百分之多少": laws seldom set numbers, plans do
        if _PENALTY_ASKED.search(q.text) and _FINE.search(clause.text):
            fit *= 1.3
        return fit
