"""Marking a deadline done on the staff page's API: who and when are kept, the ledger, the timeline and the calendar
show it, and it is not reminded. A server and data dir of its own, so the mark meets no other test."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

from kbase.bench.webserver import ServeProcess
from tests.channels.conftest import STAFF_TOKEN, remind

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
INSPECTION = {"doc": "test-internal", "ref": "一(一)1", "date": "2024-09-30"}


@pytest.fixture(scope="module")
def env(web_env, own_data_dir):
    return {**web_env(), "POLICYBOT_DATA_DIR": str(own_data_dir),
            "POLICYBOT_STAFF_TOKENS": f"someone-elses-token-000000000,{STAFF_TOKEN}"}


def test_a_deadline_marked_done_on_the_staff_page_shows_as_done_and_is_not_reminded(env):
    preview = remind(env, "--department", "市生态环境局")
    assert ("一(一)1", "2024-09-30") in [(r["ref"], r["date"]) for r in preview]
    with ServeProcess(env) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.post("/api/done", json=INSPECTION).status_code == 401
        assert client.post("/api/done", json={**INSPECTION, "date": "2024-10-01"}, headers=STAFF).status_code == 404
        marked = client.post("/api/done", json=INSPECTION, headers=STAFF)
        assert marked.status_code == 200 and marked.json()["done"]["by"] == "网页令牌#2"  # the token's place, not it
        [task] = [t for t in client.get("/api/tasks", headers=STAFF).json() if t["ref"] == "一(一)1"]
        assert task["deadlines"][0]["done"]["by"] == "网页令牌#2" and task["deadlines"][0]["done"]["at"]
        others = [d["done"] for t in client.get("/api/tasks", headers=STAFF).json() if t["ref"] != "一(一)1"
                  for d in t["deadlines"]]
        assert others and not any(others)
        svg = ET.fromstring(client.get("/staff/timeline.svg", headers=STAFF).text)
        done_marks = [g for g in svg.iter("{http://www.w3.org/2000/svg}g")
                      if g.find("{http://www.w3.org/2000/svg}path[@class='done']") is not None]
        tooltips = [g.find("{http://www.w3.org/2000/svg}title").text for g in done_marks]
        assert [t.split(" · ")[0] for t in tooltips if "一(一)1" in t and "已完成" in t] == ["市生态环境局"]  # its lead
        feed = client.get("/calendar/市生态环境局.ics", headers=STAFF).text.replace("\r\n ", "")
        assert "【已完成】一(一)1" in feed and "网页令牌#2" in feed
    assert ("一(一)1", "2024-09-30") not in [(r["ref"], r["date"]) for r in remind(env, "--department", "市生态环境局")]

