"""related: no clause found answers the question directly; the nearest ones are offered as leads for the reader to
judge, said to be leads. Never a claim that the documents are silent: a search that missed proves nothing."""
from __future__ import annotations

from kbase.answering.context import Context, cite
from kbase.answering.query import Query
from kbase.answering.retrieve import Hit
from kbase.model import Answer

RELATED = "未找到直接规定回答这个问题的条款。以下是与问题最接近的条款，仅供参考，请自行判断是否适用："
MAX_LEADS = 3


def answer_related(ctx: Context, q: Query, hits: list[Hit], confidence: float | None = None) -> Answer:
    leads, seen = [], set()
    for hit in hits:
        if hit.clause.key in seen:
            continue
        seen.add(hit.clause.key)
        leads.append(cite(hit.clause, ctx.best_sentence(q, hit.clause)))
        if len(leads) == MAX_LEADS:
            break
    lines = [RELATED] + [f"{n}. 《{c.title}》{c.ref}：「{c.quote}」" for n, c in enumerate(leads, 1)]
    return Answer(question=q.text, status="related", answer="\n".join(lines), citations=leads, kind=q.kind,
                  confidence=confidence)
