"""The content-hash vector cache: a document removed and added again embeds nothing and answers the same; the cache
keeps vectors exactly, per embedder version, within its bound, and a damaged file only costs re-embedding."""
import numpy as np

from kbase.service import Service
from kbase.settings import Settings
from kbase.store.index import open_index
from kbase.store.library import add_document, remove_document
from kbase.store.vector_cache import CACHE_FILE, VectorCache
from tests.deciding import LENIENT_THRESHOLD
from tests.store.test_library import REGULATION_V1, _small_corpus

QUESTION = "施工工地围挡高度不低于多少"


def _answer_facts(settings):
    answer = Service(settings).answer(QUESTION)
    return answer.status, answer.answer, [(c.doc, c.ref, c.quote) for c in answer.citations]


def test_removing_and_adding_a_document_again_embeds_nothing_and_answers_the_same(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", embeddings="e5-small", corpus_dir=_small_corpus(tmp_path),
                        answer_threshold=LENIENT_THRESHOLD)
    (tmp_path / "rules.md").write_text(REGULATION_V1, encoding="utf-8")
    added = add_document(settings, tmp_path / "rules.md")
    assert open_index(settings).meta["counts"]["embedded"] > 0
    first = _answer_facts(settings)
    assert first[0] == "answered" and first[2][0][0] == added.id

    remove_document(settings, added.id)
    assert open_index(settings).meta["counts"]["embedded"] == 0
    again = add_document(settings, tmp_path / "rules.md")
    assert again.id == added.id
    assert open_index(settings).meta["counts"]["embedded"] == 0
    assert _answer_facts(settings) == first


def test_vectors_come_back_exactly_for_the_same_embedder_version_only(tmp_path):
    vector = np.random.default_rng(0).standard_normal(384).astype(np.float32).tolist()
    VectorCache(tmp_path, "e5-small", "0.3.0", 10).put({"a" * 32: vector})
    assert VectorCache(tmp_path, "e5-small", "0.3.0", 10).get(["a" * 32, "b" * 32]) == {"a" * 32: vector}
    assert VectorCache(tmp_path, "e5-small", "0.4.0", 10).get(["a" * 32]) == {}


def test_the_least_recently_used_vectors_go_first_beyond_the_bound(tmp_path):
    cache = VectorCache(tmp_path, "e5-small", "1", max_vectors=3)
    cache.put({"old": [0.0], "used": [1.0]})
    cache.put({"newer": [2.0]})
    assert cache.get(["used"])  # used again: now the most recent
    cache.put({"newest": [3.0]})
    assert set(cache.get(["old", "used", "newer", "newest"])) == {"used", "newer", "newest"}


def test_a_damaged_cache_file_is_set_aside_and_started_afresh(tmp_path):
    (tmp_path / CACHE_FILE).write_bytes(b"not a database at all" * 100)
    cache = VectorCache(tmp_path, "e5-small", "1", 10)
    assert cache.get(["a"]) == {}
    assert (tmp_path / f"{CACHE_FILE}.damaged").exists()
    cache.put({"a": [0.5]})
    assert cache.get(["a"]) == {"a": [0.5]}
