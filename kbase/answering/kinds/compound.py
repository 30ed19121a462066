"""A question that asks two things (啥时候要完成？哪个部门牵头？): the lead clause's answer to the rest, after the answer of
the question's kind. What the clause does not state stays unstated, and the decision then gives no answer at all."""
from __future__ import annotations

import datetime as dt

from ingest.model import Clause
from kbase.answering.context import Context, cite
from kbase.answering.kinds.deadline import answer_deadline
from kbase.answering.kinds.responsibility import answer_responsibility
from kbase.answering.query import Query
from kbase.answering.slots import fills
from kbase.model import Answer


def answer_the_rest(ctx: Context, q: Query, clause: Clause, answer: Answer, today: dt.date) -> Answer:
    """The answer, with the clause's own answer added for each other datum asked that its quotes leave out."""
    for slot in q.other_slots:
        if fills(slot, "".join(c.quote for c in answer.citations)):
            continue
        part = _part_answer(ctx, q, clause, slot, today)
        if part is None:
            continue
        quoted = {c.quote for c in answer.citations}
        answer = answer.model_copy(update={
            "answer": f"{answer.answer}\n{part.answer}",
            "citations": answer.citations + [c for c in part.citations if c.quote not in quoted]})
    return answer


def _part_answer(ctx: Context, q: Query, clause: Clause, slot: str, today: dt.date) -> Answer | None:
    """The clause's answer for one slot: a plan task's role note for a body, its due date for a date, else the
    sentence closest to the question among those that state the datum."""
    by_module = {"body": lambda: answer_responsibility(ctx, q, clause),
                 "date": lambda: answer_deadline(ctx, q, clause, today)}.get(slot)
    part = by_module() if by_module else None
    if part is not None and fills(slot, "".join(c.quote for c in part.citations)):
        return part
    stating = [s for s in clause.sentences if fills(slot, s)]
    if not stating:
        return None
    sentence = max(stating, key=lambda s: (ctx.closeness(q, s), -stating.index(s)))
    body = f"另：「{sentence}」\n（依据《{clause.meta.title}》{clause.ref}）"
    return Answer(question=q.text, status="answered", answer=body, citations=[cite(clause, sentence)], kind=q.kind)
