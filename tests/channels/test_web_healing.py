"""`bot.py serve` started on a damaged build: answers at once from the source texts, says `degraded` with the reason
on /healthz while it rebuilds in the background, then heals without anyone stepping in."""
from __future__ import annotations

import shutil
from contextlib import ExitStack

import httpx

from kbase.bench.webserver import ServeProcess
from kbase.store.builds import CURRENT, builder_lock
from tests.waiting import until

QUESTION = "燃煤小热电机组关停整合由哪个部门牵头？"


def test_a_damaged_build_answers_from_the_sources_and_heals_in_the_background(web_env, tmp_path):
    env = web_env(public_questions_per_minute="1000")
    data = tmp_path / "data"
    shutil.copytree(env["POLICYBOT_DATA_DIR"], data)
    env["POLICYBOT_DATA_DIR"] = str(data)
    root = data / "index"
    damaged = (root / CURRENT).read_text(encoding="utf-8").strip()
    clauses = root / damaged / "clauses.json"
    clauses.write_bytes(clauses.read_bytes()[:100])
    with ExitStack() as stack:
        holding = stack.enter_context(ExitStack())
        holding.enter_context(builder_lock(root))  # the background rebuild waits for this: degraded can be seen
        server = stack.enter_context(ServeProcess(env))
        health = httpx.get(f"{server.url}/healthz").json()
        assert health["status"] == "degraded" and "clauses.json" in health["reason"] and "源文件" in health["reason"]
        answer = httpx.post(f"{server.url}/api/ask", json={"question": QUESTION}, timeout=30).json()
        assert answer["status"] == "answered" and answer["citations"][0]["doc"] == "test-plan", answer
        holding.close()  # the rebuild may go ahead now

        health = until(lambda: (found := httpx.get(f"{server.url}/healthz").json())["status"] == "ok" and found,
                       timeout=120)
        assert health == {"status": "ok", "today": "2025-03-01"}
        assert (root / CURRENT).read_text(encoding="utf-8").strip() != damaged
        answer = httpx.post(f"{server.url}/api/ask", json={"question": QUESTION}, timeout=30).json()
        assert answer["status"] == "answered" and answer["citations"][0]["ref"] == "三(一)1", answer
    warnings = [line for line in server.stderr().splitlines() if "WARNING" in line]
    # found damaged (serving the stand-in), the rebuild starting, done
    assert len(warnings) == 3 and "暂时从源文件检索" in warnings[0] and "正在从源文件重建索引" in warnings[1] \
        and "索引已修复" in warnings[2], warnings
    assert "Traceback" not in server.stderr()
