"""Deadline reminders beside the Service: subscriptions, digests and done marks; channels only deliver the digests.

A pass takes each subscription's due reminders that it was not sent yet, claims them in the store, hands the digest
to the channel's deliver function, and releases the claim when delivery fails so the next pass tries again.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from ingest.lexicon import resolve_department
from ingest.model import Task
from ingest.text import fold
from kbase.reminders.calendar import department_calendar
from kbase.reminders.digest import Reminder, due_reminders, render_digest
from kbase.reminders.store import ReminderStore, Subscription
from kbase.service import Service

log = logging.getLogger("policybot.reminders")
STORE_FILE = "reminders.sqlite"

# a channel's delivery: (subscription, digest lines) -> True when the platform accepted it
Deliver = Callable[[Subscription, list[str]], bool]


class ReminderError(Exception):
    """A command that cannot be carried out; the message is for the user, in Chinese."""


@dataclass
class Delivery:
    subscription: Subscription
    reminders: list[Reminder]
    delivered: bool


class Reminders:
    def __init__(self, service: Service, store: ReminderStore | None = None):
        self.service = service
        self.store = store or ReminderStore(service.settings.data_dir / STORE_FILE)

    def close(self) -> None:
        self.store.close()

    def today(self) -> dt.date:
        return self.service.today()

    def department(self, name: str) -> str:
        """The canonical unit a spelling names (环保局 -> 市生态环境局), if any task names it as lead, support or
        shared; else ReminderError."""
        name = name.strip()
        unit = resolve_department(name) or name
        if not name or not any(u == unit for t in self.service.tasks() for u in t.lead + t.support + t.shared):
            raise ReminderError(f"未找到部门「{name}」的任务，请写出部门全称，例如：市生态环境局。")
        return unit

    def subscribe(self, channel: str, target: str, department: str, by: str) -> tuple[str, bool]:
        unit = self.department(department)
        return unit, self.store.subscribe(channel, target, unit, by)

    def unsubscribe(self, channel: str, target: str, department: str | None = None) -> list[str]:
        unit = self.department(department) if department else None
        return self.store.unsubscribe(channel, target, unit)

    def preview(self, department: str, today: dt.date | None = None) -> list[Reminder]:
        """Everything due for the department today, sent before or not (`remind --department`)."""
        unit = self.department(department)
        return due_reminders(unit, self.service.tasks(dept=unit), self.service.index.clauses, today or self.today(),
                             set(self.store.done_marks()))

    def pending(self, subscription: Subscription, today: dt.date | None = None) -> list[Reminder]:
        """The subscription's due reminders it was not sent yet."""
        sent = self.store.sent(subscription.id)
        due = due_reminders(subscription.department, self.service.tasks(dept=subscription.department),
                            self.service.index.clauses, today or self.today(), set(self.store.done_marks()))
        return [r for r in due if r.key not in sent]

    def run_pass(self, deliver: dict[str, Deliver], today: dt.date | None = None, dry_run: bool = False) -> list[Delivery]:
        """One reminder pass over every subscription of a channel in `deliver`; dry_run sends and records nothing."""
        today = today or self.today()
        deliveries = []
        for subscription in self.store.subscriptions():
            send = deliver.get(subscription.channel)
            if send is None and not dry_run:
                continue  # that channel is not configured in this process
            reminders = self.pending(subscription, today)
            if not reminders:
                continue
            if dry_run:
                deliveries.append(Delivery(subscription, reminders, False))
                continue
            claimed = set(self.store.claim(subscription.id, [r.key for r in reminders]))
            reminders = [r for r in reminders if r.key in claimed]
            if not reminders:
                continue
            delivered = self._send(send, subscription, reminders, today)
            if not delivered:
                self.store.release(subscription.id, [r.key for r in reminders])
            deliveries.append(Delivery(subscription, reminders, delivered))
        return deliveries

    @staticmethod
    def _send(send: Deliver, subscription: Subscription, reminders: list[Reminder], today: dt.date) -> bool:
        try:
            delivered = send(subscription, render_digest(subscription.department, reminders, today))
        except Exception:  # one unreachable platform must not stop the other subscriptions' digests
            log.exception("reminder delivery failed subscription=%d channel=%s", subscription.id, subscription.channel)
            delivered = False
        log.info("reminder digest subscription=%d channel=%s reminders=%d delivered=%s", subscription.id,
                 subscription.channel, len(reminders), delivered)
        return delivered

    def find_task(self, ref: str, doc: str | None = None) -> Task:
        ref = fold(ref).replace(" ", "")
        matches = [t for t in self.service.tasks(doc=doc) if t.ref == ref and t.deadlines]
        if not matches:
            raise ReminderError(f"未找到有期限的任务「{ref}」，请写条款号，例如：完成 三(三)5。")
        if len({t.doc for t in matches}) > 1:
            raise ReminderError("多份文件都有任务 " + ref + "，请写明文件编号：" + "、".join(t.doc for t in matches))
        return matches[0]

    def mark_done(self, ref: str, by: str, channel: str, doc: str | None = None,
                  date: dt.date | None = None) -> tuple[Task, list[dt.date]]:
        """Marks the task's deadlines done (one of them when `date` is given); the dates newly marked."""
        task = self.find_task(ref, doc)
        dates = [d.date for d in task.deadlines if d.kind == "deadline" and (date is None or d.date == date)]
        if not dates:
            raise ReminderError(f"任务 {task.ref} 没有 {date} 这个期限。")
        return task, [day for day in dates if self.store.mark_done(task.doc, task.ref, day, by, channel)]

    def done_marks(self):
        return self.store.done_marks()

    def calendar(self, department: str, staff_url: str) -> tuple[str, bytes]:
        """The department's canonical name and its deadlines as an iCalendar feed."""
        unit = self.department(department)
        return unit, department_calendar(unit, self.service.tasks(dept=unit), self.service.index.clauses,
                                         self.store.done_marks(), staff_url)
