"""The task ledger as the staff page and /api/tasks see it: filtered like `bot.py tasks`, each deadline with its
status against the service's today."""
from __future__ import annotations

import datetime as dt

from ingest.model import Deadline, Task
from ingest.text import fmt_date
from kbase.answering.wording import deadline_status
from kbase.model import Audience
from kbase.service import Service


def filtered_tasks(service: Service, dept: str | None, year: int | None, doc: str | None, past_due: bool,
                   audience: Audience = "staff") -> list[Task]:
    """Service.tasks (department aliases resolved there); `past_due` keeps tasks with a deadline before today."""
    found = service.tasks(dept=dept, year=year, doc=doc, audience=audience)
    if not past_due:
        return found
    overdue = {(t.doc, t.ref) for t in service.overdue(audience=audience)}
    return [t for t in found if (t.doc, t.ref) in overdue]


def deadline_state(deadline: Deadline, today: dt.date) -> str:
    """overdue, due_today or upcoming for a deadline; started or not_started for a start date."""
    if deadline.kind == "start":
        return "started" if deadline.date <= today else "not_started"
    if deadline.date < today:
        return "overdue"
    return "due_today" if deadline.date == today else "upcoming"


def deadline_wording(deadline: Deadline, today: dt.date) -> str:
    if deadline.kind == "start":
        return f"{fmt_date(deadline.date)}起"
    return deadline_status(deadline.date, today)


def task_json(task: Task, today: dt.date, done: dict | None = None) -> dict:
    """The `tasks --json` object, each deadline with `status` and its Chinese wording `status_text`, and `done`
    ({"by", "at"}) when staff marked it done (a mark of the reminders, keyed by doc, ref and date)."""
    data = task.model_dump(mode="json")
    for entry, deadline in zip(data["deadlines"], task.deadlines, strict=True):
        entry["status"] = deadline_state(deadline, today)
        entry["status_text"] = deadline_wording(deadline, today)
        mark = (done or {}).get((task.doc, task.ref, deadline.date)) if deadline.kind == "deadline" else None
        entry["done"] = {"by": mark.done_by, "at": mark.done_at} if mark else None
    return data
