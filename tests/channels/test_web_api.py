"""The web API over real HTTP: `bot.py serve` in a child process on a loopback port, driven with httpx."""
from __future__ import annotations

import re

import httpx
import pytest

from ingest.text import is_verbatim
from tests.channels.conftest import STAFF_TOKEN

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
INTERNAL_QUESTION = "青松化工园区夜间突击督查什么时候完成？"


@pytest.fixture(scope="module")
def client(web_server):
    with httpx.Client(base_url=web_server.url, timeout=30) as http:
        yield http


def ask(client: httpx.Client, question: str, session: str | None = None, headers: dict | None = None) -> dict:
    response = client.post("/api/ask", json={"question": question, "session": session}, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def test_healthz_says_ok_once_the_index_is_open(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "today": "2025-03-01"}


def test_an_answer_is_the_ask_json_object_with_verbatim_citations(client):
    answer = ask(client, "开封市2025年细颗粒物浓度目标是多少？")
    assert {"question", "status", "answer", "citations", "mode"} <= set(answer)
    assert answer["status"] == "answered" and answer["mode"] == "extractive" and "40微克/立方米" in answer["answer"]
    citation = answer["citations"][0]
    assert {"doc", "title", "ref", "heading", "quote", "text"} <= set(citation)
    assert citation["doc"] == "test-plan" and citation["ref"] == "二" and is_verbatim(citation["quote"], citation["text"])


def test_a_question_the_sources_do_not_answer_is_not_found(client):
    answer = ask(client, "开封市的出租车起步价是多少？")
    assert answer["status"] == "not_found" and answer["citations"] == []


def test_follow_ups_continue_through_the_session_id(client):
    ask(client, "煤电结构优化升级由哪个部门牵头？", session="session-follow-up-1")
    follow_up = ask(client, "那配合单位呢？", session="session-follow-up-1")
    fresh = ask(client, "那配合单位呢？", session="session-follow-up-2")
    assert "市工业和信息化局" in follow_up["answer"] and follow_up["session"] == "session-follow-up-1"
    assert "市工业和信息化局" not in fresh["answer"]


def test_a_public_request_never_continues_a_staff_session(client):
    ask(client, "青松化工园区夜间突击督查由哪个部门牵头？", session="shared-session-id", headers=STAFF)
    staff = ask(client, "那配合单位呢？", session="shared-session-id", headers=STAFF)
    public = ask(client, "那配合单位呢？", session="shared-session-id")
    assert "市公安局" in staff["answer"]
    assert "市公安局" not in public["answer"] and "test-internal" not in str(public)


def test_a_malformed_session_id_is_a_bad_request(client):
    response = client.post("/api/ask", json={"question": "PM2.5目标", "session": "<script>"})
    assert response.status_code == 400 and "session" in response.json()["error"]


def test_internal_documents_reach_staff_and_never_the_public(client):
    staff, public = ask(client, INTERNAL_QUESTION, headers=STAFF), ask(client, INTERNAL_QUESTION)
    assert "2024年9月底前" in staff["answer"] and staff["citations"][0]["doc"] == "test-internal"
    assert "test-internal" not in str(public) and "青松化工园区涉气企业" not in str(public)
    public_sources = [d["id"] for d in client.get("/api/sources").json()]
    staff_sources = [d["id"] for d in client.get("/api/sources", headers=STAFF).json()]
    assert public_sources == ["test-plan"] and staff_sources == ["test-plan", "test-internal"]
    internal_clause = {"doc": "test-internal", "ref": "一(一)1"}
    assert client.get("/api/clause", params=internal_clause).status_code == 404
    assert "涉气企业" in client.get("/api/clause", params=internal_clause, headers=STAFF).json()["text"]


def test_a_wrong_bearer_token_is_public(client):
    answer = ask(client, INTERNAL_QUESTION, headers={"Authorization": "Bearer wrong"})
    assert "test-internal" not in str(answer)


def test_a_clause_is_served_whole_with_the_ref_as_printed(client):
    response = client.get("/api/clause", params={"doc": "test-plan", "ref": "三（一）1"})
    clause = response.json()
    assert response.status_code == 200 and clause["ref"] == "三(一)1" and clause["title"].startswith("开封市环境质量提升")
    assert "关停整合落后燃煤小热电机组" in clause["text"] and clause["heading"]


def test_an_unknown_clause_is_404_and_a_missing_parameter_400(client):
    missing = client.get("/api/clause", params={"doc": "test-plan", "ref": "九(九)9"})
    assert missing.status_code == 404 and missing.json() == {"error": "找不到该条款，或您无权查看。"}
    assert client.get("/api/clause", params={"doc": "test-plan"}).status_code == 400


def test_tasks_are_for_staff_only(client):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": STAFF_TOKEN}):
        response = client.get("/api/tasks", headers=headers)
        assert response.status_code == 401 and "error" in response.json()
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_tasks_filter_by_department_alias_year_and_overdue(client):
    def refs(**params) -> list[str]:
        response = client.get("/api/tasks", params=params, headers=STAFF)
        assert response.status_code == 200, response.text
        return [f"{t['doc']}:{t['ref']}" for t in response.json()]

    assert refs() == ["test-plan:三(一)1", "test-plan:三(一)2", "test-plan:三(二)1", "test-internal:一(一)1"]
    assert refs(dept="发改委") == ["test-plan:三(一)1"]  # the alias of 市发展改革委
    assert refs(dept="水利局", year="2025") == ["test-plan:三(二)1"]
    assert refs(year="2024") == ["test-plan:三(一)1", "test-internal:一(一)1"]
    assert refs(overdue="true") == ["test-plan:三(一)1", "test-internal:一(一)1"]  # today is 2025-03-01
    assert refs(doc="test-internal") == ["test-internal:一(一)1"]
    assert refs(dept="", year="", doc="", overdue="") == refs()  # an empty form field is no filter
    assert client.get("/api/tasks", params={"year": "soon"}, headers=STAFF).status_code == 400


def test_each_deadline_carries_its_status_against_today(client):
    [task] = client.get("/api/tasks", params={"dept": "市水利局"}, headers=STAFF).json()
    assert task["lead"] == ["市水利局"] and task["support"] == ["市生态环境局"]
    [deadline] = task["deadlines"]
    assert deadline["date"] == "2025-06-30" and deadline["status"] == "upcoming" and deadline["status_text"] == "还有121天"
    [overdue] = client.get("/api/tasks", params={"dept": "发改委"}, headers=STAFF).json()[0]["deadlines"]
    assert overdue["status"] == "overdue" and overdue["status_text"] == "已于2024年12月31日到期"


def test_the_staff_login_sets_an_http_only_strict_cookie_and_logout_clears_it(web_server):
    with httpx.Client(base_url=web_server.url, timeout=30) as browser:
        assert 'name="token"' in browser.get("/staff").text  # not logged in: the login form
        refused = browser.post("/staff", data={"token": "guess"})
        assert refused.status_code == 401 and "令牌不正确" in refused.text and not browser.cookies
        login = browser.post("/staff", data={"token": STAFF_TOKEN})
        assert login.status_code == 303 and login.headers["location"] == "/staff"
        cookie = login.headers["set-cookie"]
        assert "httponly" in cookie.lower() and "SameSite=strict" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # served over plain http here; https adds it
        assert STAFF_TOKEN not in login.headers["location"]
        assert browser.get("/staff").text.count('id="ledger"') == 1
        assert browser.get("/api/tasks").status_code == 200  # the cookie works like the Bearer header
        assert browser.get("/staff/timeline.svg").status_code == 200
        logout = browser.post("/staff/logout")
        assert logout.status_code == 303 and 'Max-Age=0' in logout.headers["set-cookie"]
        assert browser.get("/api/tasks").status_code == 401


def test_the_citizen_page_answers_as_public_even_with_the_staff_cookie(web_server):
    with httpx.Client(base_url=web_server.url, timeout=30) as browser:
        assert browser.post("/staff", data={"token": STAFF_TOKEN}).status_code == 303 and browser.cookies
        answer = browser.post("/api/ask", json={"question": INTERNAL_QUESTION}).json()
        assert "test-internal" not in str(answer) and "青松化工园区涉气企业" not in str(answer)
        assert browser.get("/api/clause", params={"doc": "test-internal", "ref": "一(一)1"}).status_code == 404
        assert browser.get("/api/tasks").status_code == 200  # the staff page's own data still follows the cookie
        with_header = browser.post("/api/ask", json={"question": INTERNAL_QUESTION}, headers=STAFF).json()
        assert with_header["citations"][0]["doc"] == "test-internal"


def test_a_departments_calendar_feed_is_staff_only_and_parses_back_with_its_deadlines(client):
    from icalendar import Calendar
    assert client.get("/calendar/市生态环境局.ics").status_code == 401
    assert client.get("/calendar/市生态环境局.ics", params={"token": "guess"}).status_code == 401
    response = client.get("/calendar/环保局.ics", headers=STAFF)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    found = {(str(e.decoded("dtstart")), str(e["summary"]).split(" ")[0]) for e in events}
    # lead of the internal inspection, support of the water-source task; not the coal task it has no part in
    assert found == {("2024-09-30", "一(一)1"), ("2025-06-30", "三(二)1")}
    assert all(f"{client.base_url}/staff?dept=" in str(e["url"]) for e in events)
    by_token = client.get("/calendar/市生态环境局.ics", params={"token": STAFF_TOKEN})
    assert by_token.status_code == 200 and by_token.content.count(b"BEGIN:VEVENT") == 2
    assert client.get("/calendar/市宇宙局.ics", headers=STAFF).status_code == 404


def test_the_timeline_is_staff_only_svg(client):
    assert client.get("/staff/timeline.svg").status_code == 401
    response = client.get("/staff/timeline.svg", headers=STAFF)
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    assert "市生态环境局" in response.text and "今天 2025-03-01" in response.text


def test_the_pages_and_their_files_are_served_by_the_app_without_any_cdn(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'lang="zh-CN"' in page.text and 'name="viewport"' in page.text and '<label for="question">' in page.text
    assets = re.findall(r'(?:src|href)="(static/[^"]+)"', page.text)  # relative, so a proxy may add a prefix
    assert "static/citizen.js" in assets and "static/style.css" in assets
    for path in ["/", "/staff", "/docs", *(f"/{a}" for a in assets), "/static/staff.js", "/static/docs.js"]:
        body = client.get(path)
        assert body.status_code == 200, path
        assert not re.search(r"(?:src|href)=\"(?:https?:)?//", body.text), f"{path} loads from another host"
        assert "<style" not in body.text and " style=" not in body.text, f"{path} has an inline style"
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body.text), f"{path} has an inline script"
    assert "innerHTML" not in client.get("/static/citizen.js").text + client.get("/static/staff.js").text


def test_the_api_is_documented_at_docs_from_local_files(client):
    docs = client.get("/docs").text
    assert 'src="docs-assets/swagger-ui-bundle.js"' in docs
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/ask", "/api/sources", "/api/clause", "/api/tasks", "/healthz"} <= set(paths)
