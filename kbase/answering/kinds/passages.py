"""General questions: the closest sentences of the best clauses, or the outline of a section heading."""
from __future__ import annotations

import re

from ingest.model import Clause
from kbase.answering.context import Context, cite
from kbase.answering.query import Query
from kbase.answering.retrieve import Hit
from kbase.model import Answer


def answer_passages(ctx: Context, q: Query, hits: list[Hit]) -> Answer:
    citations, quotes = [], []
    for rank, hit in enumerate(hits[: ctx.settings.max_citations]):
        if citations and hit.coverage < ctx.settings.min_relevance:
            continue
        chosen = ctx.best_sentences(q, hit.clause, 2 if rank == 0 else 1)
        citations += [cite(hit.clause, s) for s in chosen]
        quoted = "".join(sorted(chosen, key=hit.clause.sentences.index))
        quotes.append(f"《{hit.clause.meta.title}》{_named(hit.clause, quoted)}：「{quoted}」")
    body = "根据" + quotes[0] + ("\n另见：\n" + "\n".join(quotes[1:]) if len(quotes) > 1 else "")
    return Answer(question=q.text, status="answered", answer=body, citations=citations, kind=q.kind)


def _named(clause: Clause, quoted: str) -> str:
    """A plan's task is known by its title (三(四)6 推进重点行业超低排放改造): said where the quote leaves it out."""
    title = re.sub(r"^[\d一二三四五六七八九十]+[.、]", "", clause.heading)
    if clause.meta.is_statute or not title or title in quoted or title == clause.ref:
        return clause.ref
    return f"{clause.ref}（{title}）"


def answer_outline(q: Query, clause: Clause, children: list[Clause]) -> Answer:
    """A section heading's answer is what it contains."""
    items = "\n".join(f"{i}. {c.heading}" for i, c in enumerate(children, 1))
    body = f"《{clause.meta.title}》{clause.heading}包括：\n{items}"
    citations = [cite(clause, clause.sentences[0] if clause.sentences else clause.text)]
    citations += [cite(c, c.sentences[0]) for c in children if c.sentences]
    return Answer(question=q.text, status="answered", answer=body, citations=citations, kind=q.kind)
