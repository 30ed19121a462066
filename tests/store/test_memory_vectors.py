"""A long-running process searches its build's vectors in memory: same clauses as the store's own search."""
from kbase.settings import BUNDLED_CORPUS
from kbase.store.index import open_index

QUESTIONS = ["城里发臭的河沟什么时候能治好", "开封PM2.5要降到多少", "在饮用水水源保护区游泳罚多少钱"]


def test_the_copy_in_memory_finds_what_the_store_finds(indexed_settings):
    settings = indexed_settings(embeddings="e5-small", corpus_dir=BUNDLED_CORPUS)
    from_store, in_memory = open_index(settings), open_index(settings)
    try:
        assert in_memory.keep_vectors_in_memory()
        for question in QUESTIONS:
            expected, found = from_store.dense(question, 10), in_memory.dense(question, 10)
            assert [key for key, _ in found[:3]] == [key for key, _ in expected[:3]]
            assert abs(found[0][1] - expected[0][1]) < 1e-3
        public = {d for d, meta in in_memory.docs.items() if meta.kind == "law"}
        assert {key.split("::")[0] for key, _ in in_memory.dense(QUESTIONS[2], 10, public)} <= public
    finally:
        from_store.close()
        in_memory.close()
