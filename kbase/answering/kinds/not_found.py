"""not_found: the sources do not say; the answer says so plainly and points to the nearest clauses."""
from __future__ import annotations

from kbase.answering.context import Context, cite
from kbase.answering.query import Query
from kbase.answering.retrieve import Hit
from kbase.model import Answer

NOT_FOUND = "抱歉，现有文件中没有找到与这个问题直接相关的规定。"


def not_found(ctx: Context, q: Query, message: str = NOT_FOUND, hits: list[Hit] | None = None) -> Answer:
    related = [cite(h.clause, ctx.best_sentence(q, h.clause)) for h in (hits or [])[:2]]
    body = message
    if related:
        body += "\n相关条款：" + "；".join(f"《{c.title}》{c.ref}" for c in related)
    return Answer(question=q.text, status="not_found", answer=body, related=related, kind=q.kind)
