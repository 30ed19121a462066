"""Deadline reminders over the bundled plan: a real Service, a real SQLite file, the calendar walked day by day."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from bot import cli
from ingest.text import is_verbatim
from kbase.reminders.reminders import ReminderError, Reminders
from kbase.reminders.store import SCHEMA_VERSION, ReminderStore, ReminderStoreError
from kbase.service import Service

ECOLOGY, WATER = "市生态环境局", "市水利局"
START, END = dt.date(2025, 1, 1), dt.date(2026, 1, 1)  # a whole year, and the day after its last deadlines


@pytest.fixture(scope="module")
def service(indexed_settings):
    return Service(indexed_settings(today=dt.date(2025, 6, 1)))


@pytest.fixture
def reminders(service, tmp_path):
    opened = Reminders(service, ReminderStore(tmp_path / "reminders.sqlite"))
    yield opened
    opened.close()


def department_deadlines(service: Service, department: str) -> set[tuple[str, str, dt.date]]:
    """Every (doc, ref, date) the department answers for as lead, support or shared: read from the ledger here,
    not from the reminders module."""
    return {(t.doc, t.ref, d.date) for t in service.tasks()
            if department in t.lead + t.support + t.shared for d in t.deadlines if d.kind == "deadline"}


def expected_announcements(deadlines: set[tuple[str, str, dt.date]]) -> dict[tuple, dt.date]:
    """(doc, ref, date, threshold) -> the walk day it is due on: 30 days before, 7 days before, the day after; a
    threshold already passed when the walk starts is not sent, the most urgent one due then is sent that first day."""
    expected = {}
    for doc, ref, date in deadlines:
        for threshold, day in (("30d", date - dt.timedelta(30)), ("7d", date - dt.timedelta(7)),
                               ("overdue", date + dt.timedelta(1))):
            if day > END:
                continue
            passed_at_start = {"30d": date - START < dt.timedelta(8), "7d": date < START}.get(threshold, False)
            if not passed_at_start:
                expected[(doc, ref, date, threshold)] = max(day, START)
    return expected


def walk(reminders_factory, on_day=None, fail_on=()):
    """Runs one pass a day from START to END; returns [(day, department, key)] of everything delivered."""
    delivered, digests = [], []
    current = reminders_factory()

    def deliver(subscription, lines):
        if today in fail_on:
            return False
        digests.append((subscription.department, lines))
        return True

    for offset in range((END - START).days + 1):
        today = START + dt.timedelta(offset)
        if on_day:
            current = on_day(today, current) or current
        for delivery in current.run_pass({"wecom": deliver}, today=today):
            if delivery.delivered:
                delivered.extend((today, delivery.subscription.department, r.key) for r in delivery.reminders)
    current.close()
    return delivered, digests


def test_a_year_of_daily_passes_announces_every_deadline_once_at_each_threshold_across_a_restart(service, tmp_path):
    path = tmp_path / "reminders.sqlite"
    first = Reminders(service, ReminderStore(path))
    first.subscribe("wecom", "user-a", "环保局", by="user-a")  # an alias: the canonical unit is stored

    def restart_mid_year(today, current):
        if today == dt.date(2025, 7, 1):
            current.close()
            return Reminders(service, ReminderStore(path))

    delivered, digests = walk(lambda: first, restart_mid_year, fail_on={dt.date(2025, 12, 1)})
    expected = expected_announcements(department_deadlines(service, ECOLOGY))
    keys = [key for _, _, key in delivered]
    assert len(keys) == len(set(keys)), "a reminder was sent twice"
    # the failed delivery of 1 December (30 days before the year-end deadlines) is sent again the next day
    delayed = {k: (day + dt.timedelta(1) if day == dt.date(2025, 12, 1) else day) for k, day in expected.items()}
    assert {key: day for day, _, key in delivered} == delayed
    assert {k[3] for k in expected} == {"30d", "7d", "overdue"} and len(expected) >= 20
    # each digest line names the clause ref, and its quote is verbatim in that clause
    _, lines = digests[0]
    assert any("三(三)5" in line for line in lines)
    quotes = [line.split("「", 1)[1].rsplit("」", 1)[0] for line in lines if line.strip().startswith("原文")]
    assert quotes and all(any(is_verbatim(q, c.text) for c in service.index.clauses.values()) for q in quotes)


def test_an_unsubscribed_department_gets_nothing_more_and_a_done_deadline_is_not_reminded(service, tmp_path):
    reminders = Reminders(service, ReminderStore(tmp_path / "reminders.sqlite"))
    reminders.subscribe("wecom", "user-a", ECOLOGY, by="user-a")
    reminders.subscribe("wecom", "user-a", WATER, by="user-a")
    reminders.mark_done("三(九)18", by="user-a", channel="wecom", date=dt.date(2025, 12, 31))

    def unsubscribe_water_in_june(today, current):
        if today == dt.date(2025, 6, 1):
            assert current.unsubscribe("wecom", "user-a", "水利局") == [WATER]

    delivered, _ = walk(lambda: reminders, unsubscribe_water_in_june)
    water = [day for day, department, _ in delivered if department == WATER]
    assert water and max(water) < dt.date(2025, 6, 1)
    assert not [k for _, _, k in delivered if k[:3] == ("kaifeng-eco-plan-2023-2025", "三(九)18", dt.date(2025, 12, 31))]
    assert [k for _, _, k in delivered if k[:3] == ("kaifeng-eco-plan-2023-2025", "三(九)18", dt.date(2023, 12, 31))]


def test_done_marks_keep_who_and_when_and_the_first_mark_wins(reminders):
    task, marked = reminders.mark_done("三(三)5", by="li.wei", channel="dingtalk")
    assert task.title == "推进煤电结构优化升级" and marked == [dt.date(2024, 12, 31)]
    assert reminders.mark_done("三(三)5", by="someone.else", channel="wecom")[1] == []
    mark = reminders.store.done_marks()[("kaifeng-eco-plan-2023-2025", "三(三)5", dt.date(2024, 12, 31))]
    assert (mark.done_by, mark.channel) == ("li.wei", "dingtalk") and dt.datetime.fromisoformat(mark.done_at).tzinfo
    with pytest.raises(ReminderError, match="未找到"):
        reminders.mark_done("九(九)99", by="li.wei", channel="wecom")


def test_an_unknown_department_is_refused_in_chinese(reminders):
    with pytest.raises(ReminderError, match="未找到部门「市宇宙局」"):
        reminders.subscribe("wecom", "user-a", "市宇宙局", by="user-a")
    assert reminders.store.subscriptions() == []


def test_the_schema_version_is_kept_and_a_newer_or_damaged_file_is_never_overwritten(tmp_path):
    path = tmp_path / "reminders.sqlite"
    store = ReminderStore(path)
    assert store.schema_version() == SCHEMA_VERSION
    store.subscribe("wecom", "u", ECOLOGY, by="u")
    store.close()
    assert [s.department for s in ReminderStore(path).subscriptions()] == [ECOLOGY]  # reopened, kept

    newer = tmp_path / "newer.sqlite"
    with sqlite3.connect(newer) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ReminderStoreError, match="比本程序新"):
        ReminderStore(newer)
    with sqlite3.connect(newer) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1

    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"this is not a database" * 100)
    assert ReminderStore(damaged).subscriptions() == []
    [aside] = tmp_path.glob("damaged.sqlite.damaged-*")
    assert aside.read_bytes() == b"this is not a database" * 100


def test_the_calendar_feed_parses_back_with_every_deadline_of_the_department(reminders, service):
    reminders.mark_done("三(三)5", by="li.wei", channel="wecom")
    unit, feed = reminders.calendar("环保局", "https://policybot.example.gov.cn/staff")
    events = Calendar.from_ical(feed).walk("VEVENT")
    dates = {(e.decoded("dtstart"), str(e.get("summary")).removeprefix("【已完成】").split(" ")[0]) for e in events}
    assert unit == ECOLOGY and {(date, ref) for _, ref, date in department_deadlines(service, ECOLOGY)} == dates
    assert len(events) == len(dates) and len({str(e["uid"]) for e in events}) == len(events)
    done = [e for e in events if str(e["summary"]).startswith("【已完成】")]
    assert [str(e["status"]) for e in done] == ["CANCELLED"] and "li.wei" in str(done[0]["description"])
    assert all("https://policybot.example.gov.cn/staff" in str(e["description"]) for e in events)


def test_remind_json_follows_the_contract(indexed_settings):
    settings = indexed_settings()
    env = {"POLICYBOT_DATA_DIR": str(settings.data_dir), "POLICYBOT_EMBEDDINGS": settings.embeddings,
           "POLICYBOT_TODAY": "2025-12-26"}
    result = CliRunner().invoke(cli, ["remind", "--json", "--department", "环保局"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found and all(set(r) == {"department", "doc", "ref", "date", "threshold"} for r in found)
    by_key = {(r["ref"], r["date"]): r["threshold"] for r in found}
    assert by_key[("三(九)18", "2025-12-31")] == "7d" and by_key[("三(三)5", "2024-12-31")] == "overdue"
    assert len(by_key) == len(found) and {r["department"] for r in found} == {ECOLOGY}
    nothing = CliRunner().invoke(cli, ["remind", "--dry-run", "--json"], env=env, catch_exceptions=False)
    assert nothing.exit_code == 0 and json.loads(nothing.stdout) == []  # no subscriptions there
