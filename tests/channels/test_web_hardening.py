"""The web channel's hardening over real HTTP: headers, body limit, bad JSON, rate limit, proxies, CORS, errors,
logs, concurrency and signals."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import threading

import httpx
import pytest

from kbase.bench.webserver import ServeProcess, serve_env
from kbase.channels.web.app import build_app
from kbase.service import Service
from tests.channels.conftest import STAFF_TOKEN

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
QUESTION = "开封市2025年优良天数比例目标是多少？"
GOV_SITE = "https://www.kaifeng.gov.cn"


@pytest.fixture(scope="module")
def client(web_server):
    with httpx.Client(base_url=web_server.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def limited(web_env):
    """Two public questions a minute; stopped with SIGINT at the end, which must exit 0 as SIGTERM does."""
    server = ServeProcess(web_env(public_questions_per_minute="2"))
    with server:
        yield server
        assert server.stop(signal.SIGINT) == 0, server.stderr()


@pytest.fixture(scope="module")
def embedded(web_env):
    """Behind a trusted reverse proxy on 127.0.0.1 under /policybot, embeddable by a government site that may also
    call the API."""
    with ServeProcess(web_env(public_questions_per_minute="1", web_trusted_proxies="127.0.0.1", web_root_path="/policybot",
                              web_cors_origins=GOV_SITE, web_frame_ancestors=f"'self' {GOV_SITE}")) as server:
        yield server


def test_every_response_carries_the_security_headers(client):
    for response in (client.get("/"), client.get("/api/sources"), client.get("/static/citizen.js"),
                     client.get("/no-such-page"), client.get("/api/tasks")):
        policy = response.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "frame-ancestors 'self'" in policy
        assert response.headers["x-content-type-options"] == "nosniff" and response.headers["x-request-id"]
    assert client.get("/api/sources").headers["cache-control"] == "no-store"


def test_a_body_over_8_kb_is_refused_with_413_whether_its_length_is_declared_or_not(client):
    declared = client.post("/api/ask", content=b'{"question": "' + b"a" * 9000 + b'"}',
                           headers={"Content-Type": "application/json"})
    assert declared.status_code == 413 and "8 KB" in declared.json()["error"]

    def chunks():
        yield b'{"question": "'
        for _ in range(10):
            yield b"b" * 1000
        yield b'"}'

    streamed = client.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413 and "error" in streamed.json()
    assert client.post("/api/ask", json={"question": QUESTION, "pad": "x" * 7000}).status_code == 200


@pytest.mark.parametrize("body", [b'{"question": ', b"\xff\xfe", b"[1, 2]", b'{"question": 42}', b"{}"])
def test_malformed_requests_get_400_with_a_json_error(client, body):
    response = client.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"].startswith("请求")


def test_unknown_paths_and_methods_get_json_errors(client):
    assert client.get("/api/nothing").json() == {"error": "找不到该页面。"}
    assert client.get("/api/ask").status_code == 405 and "error" in client.get("/api/ask").json()


def test_public_questions_are_limited_per_client_with_retry_after(limited):
    with httpx.Client(base_url=limited.url, timeout=30) as http:
        statuses = [http.post("/api/ask", json={"question": QUESTION}).status_code for _ in range(2)]
        refused = http.post("/api/ask", json={"question": QUESTION})
        spoofed = http.post("/api/ask", json={"question": QUESTION}, headers={"X-Forwarded-For": "203.0.113.9"})
        staff = [http.post("/api/ask", json={"question": QUESTION}, headers=STAFF).status_code for _ in range(3)]
    assert statuses == [200, 200] and refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60 and "秒后再试" in refused.json()["error"]
    assert spoofed.status_code == 429  # X-Forwarded-For is not believed unless a proxy is configured
    assert staff == [200, 200, 200]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(embedded):
    with httpx.Client(base_url=embedded.url, timeout=30) as http:
        def ask(client_ip: str) -> int:
            return http.post("/api/ask", json={"question": QUESTION}, headers={"X-Forwarded-For": client_ip}).status_code
        assert [ask("198.51.100.1"), ask("198.51.100.1"), ask("198.51.100.2")] == [200, 429, 200]
        login = http.post("/staff", data={"token": STAFF_TOKEN}, headers={"X-Forwarded-Proto": "https"})
    assert login.headers["location"] == "/policybot/staff"  # under the proxy's prefix
    assert "secure" in login.headers["set-cookie"].lower()  # the proxy said the client used https


def test_cors_is_off_by_default(client):
    preflight = client.options("/api/ask", headers={"Origin": GOV_SITE, "Access-Control-Request-Method": "POST"})
    simple = client.get("/api/sources", headers={"Origin": GOV_SITE})
    assert "access-control-allow-origin" not in preflight.headers and "access-control-allow-origin" not in simple.headers


def test_a_configured_site_may_embed_the_page_and_call_the_api(embedded):
    with httpx.Client(base_url=embedded.url, timeout=30) as http:
        page = http.get("/")
        preflight = http.options("/api/ask", headers={"Origin": GOV_SITE, "Access-Control-Request-Method": "POST",
                                                      "Access-Control-Request-Headers": "content-type"})
        other = http.get("/api/sources", headers={"Origin": "https://elsewhere.example"})
    assert f"frame-ancestors 'self' {GOV_SITE}" in page.headers["content-security-policy"]
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == GOV_SITE
    assert "access-control-allow-origin" not in other.headers


def test_the_log_carries_ids_statuses_and_timings_never_question_texts(client, web_server):
    client.post("/api/ask", json={"question": "记录测试：开封市2025年优良天数比例目标是多少？"})
    log = web_server.stderr()
    assert "question id=" in log and "status=answered" in log and " ms=" in log
    assert "记录测试" not in log and "开封市2025年" not in log


class BrokenService(Service):
    """The real Service whose answering hits a fault, as a corrupt index would cause."""

    def answer(self, question, audience="staff", session=None, today=None):
        raise OSError("/secret/path/index.bin unreadable")


class SlowService(Service):
    """The real Service; one question waits until the test lets it go, as a slow LLM call would."""

    started = threading.Event()
    release = threading.Event()

    def answer(self, question, audience="staff", session=None, today=None):
        if "慢" in question:
            self.started.set()
            self.release.wait(20)
        return super().answer(question, audience, session, today)


@pytest.fixture(scope="module")
def app_settings(indexed_settings, corpus):
    return indexed_settings(corpus_dir=corpus, today=dt.date(2025, 3, 1))


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_a_failure_is_a_plain_500_without_a_trace_and_logged_by_id(app_settings, caplog):
    caplog.set_level(logging.INFO, logger="policybot.web")
    app = build_app(app_settings, BrokenService(app_settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web") as http:
        response = await http.post("/api/ask", json={"question": "秘密问题：PM2.5目标是多少？"})
    assert response.status_code == 500 and response.json() == {"error": "服务器出错了，请稍后再试。"}
    assert "Traceback" not in response.text and "secret" not in response.text
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    [failure] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert response.headers["x-request-id"] in failure.getMessage() and failure.exc_info[0] is OSError
    assert not any("秘密问题" in r.getMessage() for r in caplog.records)


@pytest.mark.anyio
async def test_a_slow_question_does_not_hold_up_the_others(app_settings):
    app = build_app(app_settings, SlowService(app_settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web", timeout=30) as http:
        slow = asyncio.create_task(http.post("/api/ask", json={"question": "慢慢说：" + QUESTION}))
        assert await asyncio.to_thread(SlowService.started.wait, 20)
        fast = await http.post("/api/ask", json={"question": "开封市2025年细颗粒物浓度目标是多少？"})
        assert fast.status_code == 200 and not slow.done()
        SlowService.release.set()
        assert "70%" in (await slow).json()["answer"]


def test_a_missing_index_is_built_with_progress_before_listening_and_sigterm_exits_0(corpus, tmp_path):
    env = serve_env(data_dir=str(tmp_path / "fresh"), corpus_dir=str(corpus), embeddings="none")
    server = ServeProcess(env)
    with server:
        assert httpx.get(f"{server.url}/healthz").json()["status"] == "ok"
        code = server.stop(signal.SIGTERM)
    stderr = server.stderr()
    assert code == 0, stderr
    assert "索引已建好" in stderr and stderr.index("索引已建好") < stderr.index("Uvicorn running")
    assert f"http://127.0.0.1:{server.port}/" in server.stdout() and "Traceback" not in stderr
