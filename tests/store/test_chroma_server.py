"""Scale-out: vectors on a real Chroma HTTP server (`chroma run`), shared by bot processes with one or separate data_dirs."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kbase.settings import Settings
from kbase.store.build import ensure_index
from kbase.store.builds import CURRENT, STORE_ID, index_root
from kbase.store.chroma import VectorStoreUnavailable
from kbase.store.index import open_index

ROOT = Path(__file__).resolve().parents[2]
CHROMA = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
pytestmark = pytest.mark.skipif(CHROMA is None, reason="the `chroma` executable (installed with chromadb) is missing")

MANIFEST = {"documents": [
    {"file": "river.txt", "id": "test-river-plan", "title": "某市河湖治理三年行动方案", "issuer": "某市人民政府办公室",
     "issued": "2024-01-10", "effective": "2024-01-10", "kind": "plan", "visibility": "public"},
    {"file": "air.txt", "id": "test-air-plan", "title": "某市蓝天保卫行动方案", "issuer": "某市人民政府办公室",
     "issued": "2024-02-01", "effective": "2024-02-01", "kind": "plan", "visibility": "public"},
]}
RIVER = """某市河湖治理三年行动方案

一、主要目标

到2026年，全市地表水考核断面水质优良比例达到80%，城市建成区黑臭水体全部消除。

二、重点任务

(一)水环境治理

1.整治入河排污口。2025年6月底前完成全部入河排污口排查整治，建立排污口名录。(市生态环境局牵头，市水利局配合)

2.清理河道垃圾。定期开展河道保洁，打捞漂浮物，清运岸边垃圾。(市城市管理局牵头)
"""
AIR = """某市蓝天保卫行动方案

一、主要目标

到2026年，全市细颗粒物(PM2.5)平均浓度降至38微克/立方米，优良天数比例达到75%。

二、重点任务

(一)工业污染治理

1.推进钢铁企业超低排放改造。2025年年底前完成全部钢铁企业超低排放改造。(市发展改革委牵头，市生态环境局配合)

2.控制施工扬尘。建筑工地落实围挡、覆盖、洒水等防尘措施。(市住房城乡建设局牵头)
"""
TARGET_QUESTION = "细颗粒物浓度目标是多少"
PARAPHRASE = "空气里的细颗粒物要降到多少"  # not every word is in one clause, so retrieval asks the vectors too
NO_VECTORS = "向量检索不可用"  # retrieval's warning when it falls back to BM25


class ChromaServer:
    """`chroma run` on a free port of 127.0.0.1, its data in a temporary directory."""

    def __init__(self, data: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.log = data.with_suffix(".log")
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([CHROMA, "run", "--path", str(data), "--host", "127.0.0.1",
                                             "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not self._beats():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"chroma run did not start:\n{self.log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)

    def _beats(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def collections(self) -> set[str]:
        reply = httpx.get(f"{self.url}/api/v2/tenants/default_tenant/databases/default_database/collections",
                          timeout=10)
        reply.raise_for_status()
        return {c["name"] for c in reply.json()}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = ChromaServer(tmp_path_factory.mktemp("chroma") / "db")
    yield running
    running.stop()


def make_corpus(folder: Path, air: str = AIR) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(MANIFEST, ensure_ascii=False), encoding="utf-8")
    (folder / "river.txt").write_text(RIVER, encoding="utf-8")
    (folder / "air.txt").write_text(air, encoding="utf-8")
    return folder


def server_settings(server: ChromaServer, data_dir: Path, corpus: Path) -> Settings:
    return Settings(data_dir=data_dir, corpus_dir=corpus, embeddings="e5-small",
                    chroma_host="127.0.0.1", chroma_port=server.port)


def child_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLICYBOT_", "TELEGRAM_"))}
    env.update(POLICYBOT_DATA_DIR=str(settings.data_dir), POLICYBOT_CORPUS_DIR=str(settings.corpus_dir),
               POLICYBOT_EMBEDDINGS=settings.embeddings, POLICYBOT_TODAY="2025-01-01")
    if settings.chroma_host:
        env.update(POLICYBOT_CHROMA_HOST=settings.chroma_host, POLICYBOT_CHROMA_PORT=str(settings.chroma_port))
    return env


class Asker:
    """A long-running `python bot.py ask --json -`: one question per line in, one answer object per line out."""

    def __init__(self, settings: Settings, log: Path):
        self.log = log
        with open(log, "w", encoding="utf-8") as stderr:
            self.process = subprocess.Popen([sys.executable, "bot.py", "ask", "--json", "-"], cwd=ROOT,
                                            env=child_env(settings), text=True, encoding="utf-8",
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)

    def ask(self, question: str) -> dict:
        self.process.stdin.write(question + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"ask exited:\n{self.stderr()}"
        return json.loads(line)

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.stdout.close()


def says(answer: dict, text: str) -> bool:
    return answer["status"] == "answered" and text in answer["answer"]


def serving(settings: Settings) -> dict:
    root = index_root(settings)
    return json.loads((root / (root / CURRENT).read_text().strip() / "meta.json").read_text(encoding="utf-8"))


def test_two_processes_share_a_data_dir_and_a_server_across_a_rebuild(server, tmp_path):
    settings = server_settings(server, tmp_path / "data", make_corpus(tmp_path / "corpus"))
    first = ensure_index(settings)
    store_id = (index_root(settings) / STORE_ID).read_text().strip()
    first_collection = first.meta["chroma"]["collection"]
    assert first.meta["chroma"]["server"] == {"host": "127.0.0.1", "port": server.port}
    assert first_collection == f"clauses-e5-small-{store_id}-{first.path.name.removeprefix('build-')}"
    assert not (first.path / "chroma").exists() and first_collection in server.collections()
    assert first.dense(PARAPHRASE, 3)[0][0] == "test-air-plan::一"
    first.close()

    readers = [Asker(settings, tmp_path / f"reader{n}.log") for n in (1, 2)]
    try:
        assert all(says(reader.ask(TARGET_QUESTION), "38微克") for reader in readers)
        assert all(says(reader.ask(PARAPHRASE), "38微克") for reader in readers)

        # another process rebuilds the edited sources: only the changed passage is embedded, into a new collection
        make_corpus(settings.corpus_dir, AIR.replace("38微克", "35微克"))
        ingest = subprocess.run([sys.executable, "bot.py", "ingest"], cwd=ROOT, env=child_env(settings),
                                capture_output=True, text=True, encoding="utf-8", timeout=120)
        assert ingest.returncode == 0, ingest.stderr
        second = serving(settings)
        assert re.search(r"沿用缓存中 \d+ 个未变段落的向量", ingest.stderr) and second["counts"]["embedded"] == 1
        second_collection = second["chroma"]["collection"]
        assert second_collection != first_collection
        assert {first_collection, second_collection} <= server.collections()

        # the running readers keep answering from the build they opened, vectors included; a new one sees the swap
        assert says(readers[0].ask(TARGET_QUESTION), "38微克") and says(readers[1].ask(PARAPHRASE), "38微克")
        fresh = Asker(settings, tmp_path / "fresh.log")
        try:
            assert says(fresh.ask(TARGET_QUESTION), "35微克")
        finally:
            fresh.close()
        assert not any(NO_VECTORS in log for log in (readers[0].stderr(), readers[1].stderr(), fresh.stderr()))

        # one more build: the first build's directory and collection go, the previous one stays for its readers
        third = ensure_index(settings, rebuild=True)
        ours = {name for name in server.collections() if store_id in name}
        assert ours == {second_collection, third.meta["chroma"]["collection"]}
        assert not first.path.exists() and third.meta["counts"]["embedded"] == 0
        assert third.dense(PARAPHRASE, 3)[0][0] == "test-air-plan::一"
        third.close()

        # a reader whose build is gone still answers, from BM25, and says why (every question asks the vectors; a
        # paraphrase needs them to pass the relevance gate, so the one asked here is in the document's own words)
        assert says(readers[0].ask(TARGET_QUESTION), "38微克")
        assert NO_VECTORS in readers[0].stderr() and first_collection in readers[0].stderr()
    finally:
        for reader in readers:
            reader.close()
    assert [reader.process.returncode for reader in readers] == [0, 0]


def test_separate_data_dirs_on_one_server_keep_to_their_own_collections(server, tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    # b starts embedded: switching it to the server is a rebuild that reuses the embedded vectors
    embedded_b = ensure_index(Settings(data_dir=tmp_path / "b", corpus_dir=corpus, embeddings="e5-small"))
    assert "chroma" not in embedded_b.meta and (embedded_b.path / "chroma").is_dir()
    a, b = (server_settings(server, tmp_path / name, corpus) for name in ("a", "b"))
    assert open_index(b) is None  # vectors not where the settings say: stale
    index_a, index_b = ensure_index(a), ensure_index(b)
    assert index_b.meta["counts"]["embedded"] == 0 and index_a.meta["counts"]["embedded"] > 0
    id_a, id_b = ((index_root(s) / STORE_ID).read_text().strip() for s in (a, b))
    assert id_a != id_b

    for _ in range(3):
        ensure_index(a, rebuild=True)
    on_server = server.collections()
    assert index_b.meta["chroma"]["collection"] in on_server and index_a.meta["chroma"]["collection"] not in on_server
    assert len({name for name in on_server if id_a in name}) == 2
    assert index_b.dense(PARAPHRASE, 3)[0][0] == "test-air-plan::一"
    index_a.close()
    index_b.close()


def test_without_the_server_answers_fall_back_to_bm25(tmp_path):
    server = ChromaServer(tmp_path / "db")
    try:
        settings = server_settings(server, tmp_path / "data", make_corpus(tmp_path / "corpus"))
        index = ensure_index(settings)
    finally:
        server.stop()
    with pytest.raises(VectorStoreUnavailable, match=f"127.0.0.1:{server.port}"):
        index.dense(PARAPHRASE, 3)
    index.close()
    reader = Asker(settings, tmp_path / "reader.log")
    try:
        assert says(reader.ask(TARGET_QUESTION), "38微克")
    finally:
        reader.close()
    assert reader.process.returncode == 0 and NO_VECTORS in reader.stderr()
