"""`bot.py serve --workers 2`: two processes on the same build, one set of per-client limits and sessions
(kbase/channels/shared_state.py), a rebuild reaching both, and SIGTERM ending both cleanly."""
from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import subprocess
import sys

import httpx

from kbase.bench.webserver import REPO_DIR, ServeProcess
from kbase.channels.shared_state import SharedLimiter, SharedStore
from tests.waiting import until

LIMIT = 3


def _take(path: str, client: str, results) -> None:
    results.put(SharedLimiter(SharedStore(path), LIMIT, "questions").take(client))


def test_a_limit_counts_the_questions_of_every_process(tmp_path):
    path = str(tmp_path / "state.sqlite3")
    results = multiprocessing.get_context("spawn").Queue()
    for _ in range(LIMIT + 2):  # each question from a process of its own
        process = multiprocessing.get_context("spawn").Process(target=_take, args=(path, "10.0.0.1", results))
        process.start()
        process.join(60)
    waits = [results.get(timeout=10) for _ in range(LIMIT + 2)]
    assert waits[:LIMIT] == [0.0] * LIMIT and all(0 < wait <= 60 for wait in waits[LIMIT:])
    assert SharedLimiter(SharedStore(path), LIMIT, "questions").take("10.0.0.2") == 0  # another client


def test_two_workers_share_limits_and_sessions_and_stop_cleanly(web_env):
    with ServeProcess(web_env(public_questions_per_minute=str(LIMIT)), workers=2) as server:
        # a new connection for each request, so the kernel may hand each to either worker
        statuses = [httpx.post(f"{server.url}/api/ask", json={"question": "PM2.5目标是多少"}).status_code
                    for _ in range(LIMIT + 4)]
        assert statuses.count(200) == LIMIT and statuses.count(429) == 4, statuses
        staff = {"Authorization": "Bearer staff-token-for-tests-0123456789"}  # staff: no limit
        for turn in range(4):  # each follow-up continues the turn before it, whichever worker took it
            first = httpx.post(f"{server.url}/api/ask", headers=staff, timeout=30,
                               json={"question": "煤电结构优化升级由哪个部门牵头？", "session": f"worker-session-{turn}"})
            follow = httpx.post(f"{server.url}/api/ask", headers=staff, timeout=30,
                                json={"question": "那配合单位呢？", "session": f"worker-session-{turn}"})
            assert first.status_code == follow.status_code == 200
            assert "市工业和信息化局" in follow.json()["answer"], follow.json()
        assert server.stop() == 0
    workers = set(re.findall(r"Started server process \[(\d+)\]", server.stderr()))
    assert len(workers) == 2 and "Traceback" not in server.stderr()


def test_a_document_added_while_serving_reaches_every_worker(web_env, tmp_path):
    env = web_env(public_questions_per_minute="1000")
    data = tmp_path / "data"
    shutil.copytree(env["POLICYBOT_DATA_DIR"], data)
    env["POLICYBOT_DATA_DIR"] = str(data)
    rules = tmp_path / "rules.md"
    rules.write_text("# 开封市餐饮油烟管理条例\n\n第一条 为防治餐饮油烟污染，制定本条例。\n\n"
                     "第二条 餐饮服务单位应当安装油烟净化设施并保持正常使用。\n\n"
                     "第三条 违反本条例第二条规定的，处五千元以上五万元以下罚款。\n", encoding="utf-8")
    question = {"question": "餐饮油烟管理条例对油烟净化设施有什么要求"}
    with ServeProcess(env, workers=2) as server:
        before = httpx.post(f"{server.url}/api/ask", json=question, timeout=30).json()
        assert before["status"] != "answered" or before["citations"][0]["title"] != "开封市餐饮油烟管理条例"
        added = subprocess.run([sys.executable, "bot.py", "ingest", "add", str(rules)], cwd=REPO_DIR, env=env,
                               capture_output=True, text=True, timeout=300)
        assert added.returncode == 0, added.stderr
        # both workers take up the new build within seconds: poll until several fresh connections in a row see it
        seen = []

        def from_new_build() -> bool:
            answer = httpx.post(f"{server.url}/api/ask", json=question, timeout=30).json()
            new = answer["status"] == "answered" and answer["citations"][0]["title"] == "开封市餐饮油烟管理条例"
            seen.append(new)
            return len(seen) >= 8 and all(seen[-8:])

        until(from_new_build, timeout=60, describe=lambda: seen)
    assert os.path.exists(data / "library" / "manifest.json")
