"""What a term means: the text's own definition (本条例所称X，是指…), found by the term or by the words around it."""
from __future__ import annotations

import datetime as dt

from ingest.model import Clause, Definition
from kbase.answering.context import Context, cite
from kbase.answering.query import Query
from kbase.answering.retrieve import Hit, visible_docs
from kbase.model import Answer, Audience


def named_definition(ctx: Context, q: Query, hits: list[Hit], audience: Audience, today: dt.date) -> Answer | None:
    """The definition of a term the question names (the longest: 城市饮用水地表水源 before 城市饮用水水源)."""
    docs = visible_docs(ctx.index, audience, today, history=q.history)
    if q.named_docs:
        docs &= q.named_docs
    asked = q.text
    for title in q.doc_titles:  # 水污染防治法里说的污泥: 水污染 names the law, not the term asked about
        asked = asked.replace(title, "")
    named = [(d, c) for c in ctx.index.clauses.values() if c.doc in docs and c.article
             for d in c.article.definitions if len(d.term) >= 2 and d.term in asked]
    if not named:
        return None
    definition, clause = max(named, key=lambda dc: (len(dc[0].term), -_hit_rank(hits, dc[1])))
    return _answer(q, definition, clause)


def answer_definition(ctx: Context, q: Query, hits: list[Hit]) -> Answer | None:
    """A definition in the clauses found whose term is close to the question's words; None when none is."""
    near = [(d, h.clause) for h in hits for d in (h.clause.article.definitions if h.clause.article else [])]
    if not near:
        return None
    definition, clause = max(near, key=lambda dc: ctx.closeness(q, dc[0].term) - 0.05 * _hit_rank(hits, dc[1]))
    if ctx.closeness(q, definition.term) < 0.5:
        return None
    return _answer(q, definition, clause)


def _answer(q: Query, definition: Definition, clause: Clause) -> Answer:
    body = (f"「{definition.term}」的含义：\n原文：「{definition.text}」\n"
            f"（依据《{clause.meta.title}》{clause.ref}）")
    return Answer(question=q.text, status="answered", answer=body, citations=[cite(clause, definition.text)],
                  kind="definition")


def _hit_rank(hits: list[Hit], clause: Clause) -> int:
    return next((rank for rank, hit in enumerate(hits) if hit.clause.key == clause.key), len(hits))

