"""The web channel's pieces on their own: the timeline SVG, follow-up sessions' bound, the limiter, staff tokens."""
from __future__ import annotations

import asyncio
import datetime as dt
import xml.etree.ElementTree as ET

from ingest.model import Deadline, Task
from kbase.channels.conversations import Conversations
from kbase.channels.limits import QuestionLimiter
from kbase.channels.web.auth import is_staff_token
from kbase.channels.web.timeline import OVERDUE_COLOUR, UPCOMING_COLOUR, timeline_svg
from kbase.settings import Settings

SVG = "{http://www.w3.org/2000/svg}"
TODAY = dt.date(2025, 3, 1)


def task(ref: str, title: str, lead: list[str], *dates: str, shared: list[str] = ()) -> Task:
    deadlines = [Deadline(date=dt.date.fromisoformat(d), text=f"{d}前", what="完成") for d in dates]
    return Task(doc="plan", ref=ref, title=title, lead=lead, shared=list(shared), deadlines=deadlines)


def test_the_timeline_has_a_row_per_department_and_past_deadlines_stand_out():
    tasks = [task("1", "治理", ["市水利局"], "2024-12-31", "2025-12-31"),
             task("2", "整治", ["市水利局", "市城管局"], "2025-12-31"),
             task("3", "推广", [], "2025-06-30", shared=["市发展改革委"])]
    svg = ET.fromstring(timeline_svg(tasks, TODAY))
    labels = [t.text for t in svg.iter(f"{SVG}text")]
    assert {"市水利局", "市城管局", "市发展改革委"} <= set(labels) and "今天 2025-03-01" in labels
    assert "期限已过" in labels and "尚未到期" in labels  # the legend
    assert len([r for r in svg.iter(f"{SVG}rect") if r.get("fill") == OVERDUE_COLOUR]) == 2  # 2024-12-31 + legend
    assert len([c for c in svg.iter(f"{SVG}circle") if c.get("fill") == UPCOMING_COLOUR]) == 4
    assert "2" in labels  # two of 市水利局's deadlines fall on 2025-12-31: one mark with its count


def test_the_timeline_escapes_document_text():
    hostile = task("1<", "<script>alert(1)</script>&", ['市"局<b>'], "2025-12-31")
    text = timeline_svg([hostile], TODAY)
    svg = ET.fromstring(text)  # still well-formed XML
    assert not list(svg.iter(f"{SVG}script")) and "<script>" not in text and "<b>" not in text
    assert any("<script>alert(1)</script>&" in (t.text or "") for t in svg.iter(f"{SVG}title"))


def test_an_empty_timeline_says_so():
    svg = ET.fromstring(timeline_svg([], TODAY))
    assert "没有符合条件的期限" in [t.text for t in svg.iter(f"{SVG}text")]


def test_sessions_are_bounded_in_number_dropping_the_least_recently_used():
    conversations = Conversations(ttl=1800, max_open=2)

    async def turns() -> None:
        for key in ("a", "b", "a", "c"):
            async with conversations.turn(key, "public") as session:
                session.clause_keys = [key]
        assert len(conversations) == 2
        async with conversations.turn("a", "public") as kept, conversations.turn("b", "public") as dropped:
            assert kept.clause_keys == ["a"] and dropped.clause_keys == []

    asyncio.run(turns())


def test_sessions_expire_after_their_ttl():
    now = [0.0]
    conversations = Conversations(ttl=60, clock=lambda: now[0])

    async def turns() -> None:
        async with conversations.turn("s", "public") as session:
            session.clause_keys = ["x"]
        now[0] = 61
        async with conversations.turn("other", "public"):
            pass
        assert len(conversations) == 1

    asyncio.run(turns())


def test_the_limiter_says_how_long_to_wait_and_forgets_idle_users():
    now = [0.0]
    limiter = QuestionLimiter(2, clock=lambda: now[0])
    assert limiter.take("a") == 0 and limiter.take("a") == 0
    now[0] = 15.0
    assert limiter.take("a") == 45.0
    now[0] = 200.0
    assert limiter.take("b") == 0 and list(limiter._asked) == ["b"]


def test_staff_tokens_come_comma_separated_and_only_exact_ones_count():
    settings = Settings(staff_tokens=" alpha-token , beta-token ,")
    assert is_staff_token(settings, "beta-token") and is_staff_token(settings, "alpha-token")
    assert not is_staff_token(settings, "beta") and not is_staff_token(settings, "") and not is_staff_token(settings, None)
    assert "alpha-token" not in repr(settings)
