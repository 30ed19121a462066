"""A department's deadlines as an iCalendar feed (RFC 5545, made with the icalendar library): one all-day event per
deadline of a task the department leads, supports or shares, with the task, its clause ref and quote, and a link to
the staff page. A deadline marked done is kept, with STATUS:CANCELLED and 已完成 in its summary, so calendars that
subscribed drop the alarm instead of keeping a stale one."""
from __future__ import annotations

import datetime as dt
import hashlib

from icalendar import Calendar, Event

from ingest.model import Clause, Task
from kbase.reminders.digest import deadline_dates, department_role, quote_for
from kbase.reminders.store import DoneMark

PRODUCT_ID = "-//policybot//deadline feed//ZH"


def deadline_uid(department: str, task: Task, date: dt.date) -> str:
    """Stable across feeds and rebuilds, so a calendar updates an event instead of adding it twice."""
    digest = hashlib.sha1(f"{department}|{task.doc}|{task.ref}|{date}".encode()).hexdigest()[:20]
    return f"{digest}@policybot"


def department_calendar(department: str, tasks: list[Task], clauses: dict[str, Clause],
                        done: dict[tuple[str, str, dt.date], DoneMark], staff_url: str,
                        stamp: dt.datetime | None = None) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{department} 任务期限")
    stamp = stamp or dt.datetime.now(dt.UTC)
    for task in tasks:
        role = department_role(task, department)
        if role is None:
            continue
        for date, phrases in deadline_dates(task).items():
            mark = done.get((task.doc, task.ref, date))
            quote = quote_for(clauses.get(f"{task.doc}::{task.ref}"), task, phrases.split("；")[0])
            event = Event()
            event.add("uid", deadline_uid(department, task, date))
            event.add("dtstamp", stamp)
            event.add("dtstart", date)
            event.add("dtend", date + dt.timedelta(days=1))
            event.add("summary", f"{'【已完成】' if mark else ''}{task.ref} {task.title}（{role}）")
            description = [f"条款：{task.doc} {task.ref}", f"期限：{phrases}", f"原文：「{quote}」"]
            if mark:
                description.append(f"已由 {mark.done_by} 于 {mark.done_at} 标记完成")
            description.append(f"任务台账：{staff_url}")
            event.add("description", "\n".join(description))
            event.add("url", staff_url)
            event.add("status", "CANCELLED" if mark else "CONFIRMED")
            event.add("transp", "TRANSPARENT")
            calendar.add_component(event)
    return calendar.to_ical()
