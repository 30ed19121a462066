"""What every answer kind works from: the index, the retriever, and what is derived from the index once."""
from __future__ import annotations

import re

from ingest.model import Clause
from ingest.text import CN_DIGITS, is_verbatim
from kbase.answering.query import Query
from kbase.answering.retrieve import Hit, Retriever, bigram_overlap
from kbase.answering.slots import fills
from kbase.model import Citation
from kbase.store.versions import series

_ITEM = re.compile(r"^[（(][一二三四五六七八九十]+[)）]")
_MAX_ITEMS = 12


def with_chapeau(sentences: list[str], chosen: list[str]) -> list[str]:
    """A law's item "（一）…的；" means nothing without the sentence that introduces the list, and a sentence that
    introduces a list (…符合下列条件的…：) means nothing without its items."""
    if _ITEM.match(chosen[0]) and sentences[0] not in chosen:
        return [sentences[0], *chosen]
    if chosen[0].endswith(("：", ":")) and chosen[0] in sentences:
        start = sentences.index(chosen[0]) + 1
        items = [s for s in sentences[start:start + _MAX_ITEMS] if _ITEM.match(s)]
        return [chosen[0], *items] if items else chosen
    return chosen


def states_unit(unit: str, text: str) -> bool:
    """A number in the unit asked for: 十万元, 55分贝, 3天 / 三日 (a day is 日 or 天)."""
    units = ("日", "天") if unit in ("日", "天") else (unit,)
    return any(re.search(rf"[\d{CN_DIGITS}.]+\s*(?:万|亿)?{u}", text) for u in units)


def cite(clause: Clause, quote: str) -> Citation:
    """A citation whose quote has been checked to be verbatim in the clause (and so in the source)."""
    if not is_verbatim(quote, clause.text):
        raise ValueError(f"quote not verbatim in {clause.key}: {quote[:40]}")
    return Citation(doc=clause.doc, title=clause.meta.title, ref=clause.ref, heading=clause.heading,
                    quote=quote, text=clause.text)


class Context:
    """The index of one build with its retriever, tasks by clause, section children and document versions."""

    def __init__(self, index, settings):
        self.index = index
        self.settings = settings
        self.retriever = Retriever(index, settings)
        self.tasks_by_key = {f"{t.doc}::{t.ref}": t for t in index.tasks}
        self.versions = series(index.docs.values())
        self.children: dict[str, list[Clause]] = {}
        self.enforced_by: dict[str, list[str]] = {}  # a duty article -> the penalty articles that refer to it
        for clause in index.clauses.values():
            if clause.parent:
                self.children.setdefault(f"{clause.doc}::{clause.parent}", []).append(clause)
            for ref in clause.article.refers_to if clause.article else []:
                self.enforced_by.setdefault(f"{clause.doc}::{ref}", []).append(clause.key)

    def closeness(self, q: Query, text: str) -> float:
        """How well a sentence fits the question: its words, then their order."""
        return self.retriever.coverage(q.concepts, text) + 0.5 * bigram_overlap(q.text, text)

    def relevant(self, q: Query, hit: Hit) -> bool:
        """Enough of the question's words are in the clause, or fewer are and the vector search ranks it on top:
        two independent signals agreeing is what lets a question in other words than the document's through.
        A question about something no document mentions (a noun the documents never use, in the part that asks: not
        the story told before it) needs more of its words."""
        settings = self.settings
        first = hit.dense_rank == 0  # the vector search's own best
        if any(w in part for w in self.retriever.unknown_topics(q.concepts) for part in q.asking):
            return hit.coverage >= settings.unknown_topic_min_relevance or (
                first and hit.coverage >= settings.unknown_topic_semantic_min_coverage)
        return self.vouched_by_words(q, hit) or (first and hit.coverage >= settings.semantic_first_min_coverage) or (
            hit.coverage >= settings.semantic_min_coverage and hit.dense_rank is not None
            and hit.dense_rank < settings.semantic_top_rank)

    def vouched_by_words(self, q: Query, hit: Hit) -> bool:
        """Relevant on the question's words alone: enough of them, in a clause the vector search found at all (or
        nearly all of them, or no vector search to ask)."""
        settings = self.settings
        return hit.coverage >= settings.min_relevance and (
            hit.dense_rank is not None or not hit.dense_ran or hit.coverage >= settings.words_only_min_relevance)

    def best_sentences(self, q: Query, clause: Clause, n: int) -> list[str]:
        """The n sentences closest to the question; a runner-up must come close to the best."""
        sentences = [s for s in clause.sentences if s != clause.heading] or clause.sentences or [clause.text]
        # 多少天内要报告, 罚多少钱: a sentence stating days, or an amount, comes first
        ranked = sorted(sentences, key=lambda s: (bool(q.asked_unit) and not states_unit(q.asked_unit, s),
                                                  not fills(q.slot, s), -self.closeness(q, s), sentences.index(s)))
        best = self.closeness(q, ranked[0])
        chosen = [ranked[0]] + [s for s in ranked[1:n] if self.closeness(q, s) >= 0.5 * best > 0]
        return with_chapeau(sentences, chosen)

    def best_sentence(self, q: Query, clause: Clause) -> str:
        return self.best_sentences(q, clause, 1)[0]
