"""Which of a department's deadlines are due a reminder today, at which threshold, and the digest that lists them."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from ingest.model import Clause, Task
from ingest.text import fmt_date
from kbase.answering.wording import deadline_status

Threshold = Literal["30d", "7d", "overdue"]
THRESHOLD_ORDER: tuple[Threshold, ...] = ("overdue", "7d", "30d")  # most urgent first
THRESHOLD_HEADINGS = {"overdue": "已逾期", "7d": "7天内到期", "30d": "30天内到期"}
ROLE_NAMES = (("lead", "牵头"), ("support", "配合"), ("shared", "负责"))
SENTENCE_END = re.compile(r"(?<=[。；;！!？?])")


def threshold(date: dt.date, today: dt.date) -> Threshold | None:
    """30d for 8–30 days ahead, 7d for 0–7 (today included), overdue once past; None further ahead."""
    days = (date - today).days
    if days < 0:
        return "overdue"
    if days <= 7:
        return "7d"
    if days <= 30:
        return "30d"
    return None


def department_role(task: Task, department: str) -> str | None:
    """The department's role in the task (牵头, 配合, 负责), spelled as Service.tasks matches a unit; None if none."""
    for field, label in ROLE_NAMES:
        if any(department in unit or unit in department for unit in getattr(task, field)):
            return label
    return None


def quote_for(clause: Clause | None, task: Task, deadline_text: str) -> str:
    """The clause's sentence stating the deadline, verbatim; the task's title when the clause is not at hand."""
    if clause is None:
        return task.title
    for sentence in SENTENCE_END.split(clause.text):
        if deadline_text in sentence:
            return sentence.strip()
    return clause.text.strip()


def deadline_dates(task: Task) -> dict[dt.date, str]:
    """The task's deadline dates, each once, with the phrases that set it (到2025年；2025年年底前): a clause may state
    one date twice, and a date is reminded and put in a calendar once."""
    dates: dict[dt.date, list[str]] = {}
    for deadline in (d for d in task.deadlines if d.kind == "deadline"):
        if deadline.text not in dates.setdefault(deadline.date, []):
            dates[deadline.date].append(deadline.text)
    return {date: "；".join(texts) for date, texts in sorted(dates.items())}


@dataclass(frozen=True)
class Reminder:
    department: str
    doc: str
    ref: str
    date: dt.date
    threshold: Threshold
    title: str
    role: str
    deadline_text: str
    quote: str

    @property
    def key(self) -> tuple[str, str, dt.date, str]:
        return (self.doc, self.ref, self.date, self.threshold)

    def contract(self) -> dict:
        """The object of `bot.py remind --json` (CONTRACTS.md)."""
        return {"department": self.department, "doc": self.doc, "ref": self.ref, "date": self.date.isoformat(),
                "threshold": self.threshold}


def due_reminders(department: str, tasks: list[Task], clauses: dict[str, Clause], today: dt.date,
                  done: set[tuple[str, str, dt.date]]) -> list[Reminder]:
    """Each deadline of the department's tasks (as lead, support or shared) within 30 days or past and not done,
    once, at its most urgent threshold; most urgent first, then by date."""
    found = []
    for task in tasks:
        role = department_role(task, department)
        if role is None:
            continue
        for date, phrases in deadline_dates(task).items():
            level = threshold(date, today)
            if level is None or (task.doc, task.ref, date) in done:
                continue
            clause = clauses.get(f"{task.doc}::{task.ref}")
            found.append(Reminder(department, task.doc, task.ref, date, level, task.title, role, phrases,
                                  quote_for(clause, task, phrases.split("；")[0])))
    return sorted(found, key=lambda r: (THRESHOLD_ORDER.index(r.threshold), r.date, r.doc, r.ref))


def render_digest(department: str, reminders: list[Reminder], today: dt.date) -> list[str]:
    """The digest as lines of plain text, grouped by threshold; channels format and split it."""
    lines = [f"【期限提醒】{department}（{fmt_date(today)}）"]
    for level in THRESHOLD_ORDER:
        group = [r for r in reminders if r.threshold == level]
        if not group:
            continue
        lines.append(f"{THRESHOLD_HEADINGS[level]}（{len(group)}项）：")
        for r in group:
            lines.append(f"• {r.ref} {r.title}（{r.role}）：{r.deadline_text}，{deadline_status(r.date, today)}")
            lines.append(f"  原文：「{r.quote}」")
    lines.append("办结后可发送「完成 条款号」标记，例如：完成 " + reminders[0].ref if reminders else "")
    return [line for line in lines if line]
