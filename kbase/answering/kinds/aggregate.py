"""Task lists from the ledger: by department and role, by year, overdue, or under a named section; every task cited."""
from __future__ import annotations

import datetime as dt

from ingest.ledger import role_blocks
from ingest.model import Clause, Deadline, Task
from ingest.text import fmt_date
from kbase.answering.context import Context, cite
from kbase.answering.kinds.not_found import not_found
from kbase.answering.kinds.responsibility import ROLE_NAMES
from kbase.answering.query import Query
from kbase.answering.retrieve import visible_docs
from kbase.answering.wording import deadline_status
from kbase.model import Answer, Audience


def answer_aggregate(ctx: Context, q: Query, audience: Audience, today: dt.date) -> Answer:
    docs = visible_docs(ctx.index, audience, today, history=False)
    tasks = [t for t in ctx.index.tasks if t.doc in docs]
    label = []
    if q.departments:
        roles = [q.role] if q.role in ROLE_NAMES else list(ROLE_NAMES)
        dept = q.departments[0]
        tasks = [t for t in tasks if any(dept in getattr(t, r) for r in roles)]
        label.append(f"{dept}{'牵头' if roles == ['lead'] else ROLE_NAMES[roles[0]] if len(roles) == 1 else '参与'}")
    if q.years:
        year = q.years[0]
        tasks = [t for t in tasks if any(d.date.year == year and d.kind == "deadline" for d in t.deadlines)]
        label.append(f"{year}年底前到期")
    if q.overdue:
        tasks = [t for t in tasks if any(d.kind == "deadline" and d.date < today for d in t.deadlines)]
        label.append(f"截至{fmt_date(today)}已到期")
    if not label:  # "黑臭水体消除行动有哪些任务": the tasks under the section the question names
        section = _section(ctx, q, audience, today)
        if section is not None:
            tasks = [t for t in tasks if t.doc == section.doc and t.ref.startswith(section.ref)]
            label.append(section.heading)
    if not tasks:
        return not_found(ctx, q, f"没有找到符合条件（{'，'.join(label) or '任务'}）的任务。")
    lines, citations = [], []
    for task in tasks:
        clause = ctx.index.clauses[f"{task.doc}::{task.ref}"]
        lines.append(f"{len(lines) + 1}. {task.ref} {task.title}{_task_detail(task, q, today)}")
        quote = next((b for b in role_blocks(clause.text)), clause.sentences[0])
        citations.append(cite(clause, quote))
    body = f"共{len(tasks)}项任务（{'，'.join(label) or '全部'}）：\n" + "\n".join(lines)
    return Answer(question=q.text, status="answered", answer=body, citations=citations, kind="aggregate")


def _section(ctx: Context, q: Query, audience: Audience, today: dt.date) -> Clause | None:
    """The plan section (or task) a task-list question is about, if it names one clearly enough."""
    hits = ctx.retriever.search(q, audience, today=today)
    best = next((h for h in hits if not h.clause.meta.is_statute and h.clause.ref != "序"), None)
    return best.clause if best and ctx.vouched_by_words(q, best) else None  # named by its words, not guessed


def _task_detail(task: Task, q: Query, today: dt.date) -> str:
    due: list[Deadline] = [d for d in task.deadlines if d.kind == "deadline"
                           and (not q.years or d.date.year in q.years) and (not q.overdue or d.date < today)]
    if due and (q.years or q.overdue):
        return "：" + "；".join(f"{d.text}{d.what}（{deadline_status(d.date, today)}）" for d in due)
    return f"（牵头：{'、'.join(task.lead) or '—'}）"
