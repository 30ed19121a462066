"""The small corpus the channel tests share: a public plan (with one very long task) and an internal document."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kbase.bench.webserver import REPO_DIR
from tests.deciding import LENIENT_THRESHOLD

LONG_TASK = "".join(f"推进第{i}批工业企业深度治理，确保排放浓度<{i % 50 + 10}毫克/立方米&稳定达标。" for i in range(1, 181))
PLAN = f"""开封市人民政府办公室关于印发开封市环境质量提升行动方案的通知

开封市环境质量提升行动方案(2024—2025年)

为改善全市环境质量，结合我市实际，制定本方案。

一、总体要求
坚持生态优先、绿色发展，推动全市环境质量持续改善。

二、主要目标
到2025年，全市细颗粒物浓度控制在40微克/立方米以下，优良天数比例达到70%。

三、重点任务
(一)深化大气污染治理
1.推进煤电结构优化升级。2024年年底前，关停整合落后燃煤小热电机组。(市发展改革委牵头，市工业和信息化局、市财政局配合)
2.深化工业企业治理。{LONG_TASK}(市生态环境局牵头)
(二)加强水污染治理
1.加强饮用水水源地保护。2025年6月底前，完成县级饮用水水源地规范化建设。(市水利局牵头，市生态环境局配合)
"""
INTERNAL = """开封市生态环境局内部督办工作安排

一、督办安排
(一)夜间突击督查
1.开展青松化工园区夜间突击督查。2024年9月底前，对青松化工园区涉气企业开展夜间突击督查。(市生态环境局牵头，市公安局配合)
"""
DOCS = [
    {"file": "plan.txt", "id": "test-plan", "title": "开封市环境质量提升行动方案(2024—2025年)",
     "issuer": "开封市人民政府办公室", "issued": "2024-01-10", "kind": "plan", "visibility": "public"},
    {"file": "internal.txt", "id": "test-internal", "title": "开封市生态环境局内部督办工作安排",
     "issuer": "开封市生态环境局", "issued": "2024-03-01", "kind": "plan", "visibility": "internal"},
]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    (root / "plan.txt").write_text(PLAN, encoding="utf-8")
    (root / "internal.txt").write_text(INTERNAL, encoding="utf-8")
    (root / "manifest.json").write_text(json.dumps({"documents": DOCS}, ensure_ascii=False), encoding="utf-8")
    return root


STAFF_TOKEN = "staff-token-for-tests-0123456789"
TODAY = "2025-03-01"


@pytest.fixture(scope="session")
def web_env(indexed_settings, corpus):
    """Environment of a `bot.py serve` child over the small corpus (e5-small, as shipped), its index built once per
    session."""
    from kbase.bench.webserver import serve_env

    def make(**settings: str) -> dict[str, str]:
        built = indexed_settings(corpus_dir=corpus)
        return serve_env(data_dir=str(built.data_dir), corpus_dir=str(corpus), embeddings=built.embeddings, today=TODAY,
                         staff_tokens=STAFF_TOKEN, answer_threshold=str(LENIENT_THRESHOLD), **settings)

    return make


@pytest.fixture(scope="session")
def web_server(web_env):
    """One running server for the tests that do not need settings of their own (public limit lifted)."""
    from kbase.bench.webserver import ServeProcess
    with ServeProcess(web_env(public_questions_per_minute="1000")) as server:
        yield server


@pytest.fixture(scope="module")
def own_data_dir(tmp_path_factory, indexed_settings, corpus) -> Path:
    """A data dir of the test module's own, the small corpus's index copied in: the reminders' subscriptions and done
    marks it writes meet no other module's server."""
    data_dir = tmp_path_factory.mktemp("state") / "data"
    shutil.copytree(indexed_settings(corpus_dir=corpus).data_dir, data_dir)
    return data_dir


def remind(env: dict[str, str], *args: str) -> list[dict]:
    """`bot.py remind --json ARGS` in a child process: the reminder objects it printed."""
    result = subprocess.run([sys.executable, "bot.py", "remind", "--json", *args], cwd=REPO_DIR, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
