"""Plain-text rendering of answers, clauses and tasks for the terminal, and the never-crash answer wrapper."""
from __future__ import annotations

import logging

from ingest.model import Clause, Task
from kbase.answering.wording import fmt_target
from kbase.model import Answer

log = logging.getLogger(__name__)
INTERNAL_ERROR = "抱歉，处理这个问题时出错了，请换个说法再试。"


def safe_answer(service, question: str, audience: str, session=None) -> Answer:
    """An Answer for any input: a fault inside answering becomes a polite refused answer, logged."""
    try:
        return service.answer(question, audience, session)
    except Exception:  # one bad line must not end a batch of answers
        log.exception("answering failed")
        return Answer(question=question, status="refused", answer=INTERNAL_ERROR, kind="error")


def render_text(answer: Answer) -> str:
    lines = [answer.answer]
    for n, c in enumerate(answer.citations, 1):
        lines.append(f"  [{n}] 《{c.title}》{c.ref} {c.heading if c.heading != c.ref else ''}".rstrip())
        lines.append(f"      「{c.quote}」")
    return "\n".join(lines)


def render_clause(clause: Clause) -> str:
    meta = clause.meta
    path = " > ".join(clause.path) if clause.path else clause.ref
    header = [f"《{meta.title}》 {clause.ref}", f"位置：{path}",
              f"发布：{meta.issuer or '—'} {meta.issued or ''}  施行：{meta.effective or '—'}  "
              f"失效：{meta.expires or '—'}  类型：{meta.kind}  公开：{meta.visibility}"]
    return "\n".join(header) + "\n\n" + clause.text


def render_task(task: Task) -> str:
    lines = [f"{task.ref} {task.title}"]
    for label, units in task.roles():
        lines.append(f"  {label}：{'、'.join(units)}")
    for d in task.deadlines:
        lines.append(f"  {'起始' if d.kind == 'start' else '期限'}：{d.date} {d.text} {d.what}")
    for t in task.targets:
        lines.append(f"  目标：{t.metric} {fmt_target(t)}")
    return "\n".join(lines)
