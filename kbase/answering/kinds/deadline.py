"""When something is due: the time phrase closest to the question, as a date with its status against today."""
from __future__ import annotations

import datetime as dt

from ingest.ledger import find_deadlines
from ingest.model import Clause
from ingest.text import fmt_date
from kbase.answering.context import Context, cite
from kbase.answering.query import Query
from kbase.answering.slots import fills
from kbase.answering.wording import deadline_status
from kbase.model import Answer


def mentions_time(text: str) -> bool:
    """A date or a time limit of some kind is stated (每年6月5日, 2025年底前, 十四五期间)."""
    return fills("date", text)


def _due_dates(clause: Clause) -> list:
    found = find_deadlines(clause.sentences)
    return [d for d in found if d.kind == "deadline"] or [d for d in found if d.kind == "start"]


def dates_for_other_things(ctx: Context, q: Query, clause: Clause) -> bool:
    """The clause sets due dates, but none in a sentence about what was asked (暖气 beside a task's 2025年底)."""
    dates = _due_dates(clause)
    return bool(dates) and not any(_about(ctx, q, clause, d.text) for d in dates)


def answer_deadline(ctx: Context, q: Query, clause: Clause, today: dt.date) -> Answer | None:
    """None when the clause states no due date for what was asked."""
    candidates = [d for d in _due_dates(clause) if _about(ctx, q, clause, d.text)]
    if not candidates:
        return None
    best = max(candidates, key=lambda d: (ctx.closeness(q, d.what), -candidates.index(d)))
    sentence = next(s for s in clause.sentences if best.text in s)
    if best.kind == "start":
        status = f"自{best.date.year}年起执行"
    else:
        status = f"截止日期{fmt_date(best.date)}，{deadline_status(best.date, today)}（以{fmt_date(today)}计）"
    body = f"{best.text}{best.what}。{status}。\n原文：「{sentence}」\n（依据《{clause.meta.title}》{clause.ref}）"
    return Answer(question=q.text, status="answered", answer=body, citations=[cite(clause, sentence)],
                  kind="deadline")


def _about(ctx: Context, q: Query, clause: Clause, time_phrase: str) -> bool:
    """The sentence stating a time, with the clause's heading, holds some of the question's words."""
    sentence = next((s for s in clause.sentences if time_phrase in s), "")
    return ctx.retriever.coverage(q.concepts, f"{clause.heading} {sentence}") > 0
