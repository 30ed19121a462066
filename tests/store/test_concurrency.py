"""One process, many threads: searches keep answering while the index is rebuilt and swapped under them."""
from __future__ import annotations

import shutil
import threading

from kbase.service import Service
from kbase.settings import BUNDLED_CORPUS, Settings
from kbase.store.chroma import acquire_client, release_client
from tests.deciding import LENIENT_THRESHOLD
from tests.waiting import until

PLAN = "kaifeng-eco-plan-2023-2025"
SEARCHES = ["城市里发臭的河流怎么治理", "农田被重金属污染了怎么办"]
QUESTION, QUESTION_REF = "城市黑臭水体治理由哪个部门牵头", "三(五)9"


def test_searches_keep_answering_while_the_index_is_rebuilt_and_swapped(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    # one passage the bundled vectors do not have: each rebuild reads the serving build's store for it,
    # from the same process whose threads are searching that store
    law = corpus / "prc-soil-pollution-law.md"
    law.write_text(law.read_text(encoding="utf-8") + "\n第一百条 本条只为测试而设。\n",
                   encoding="utf-8")
    service = Service(Settings(data_dir=tmp_path / "data", corpus_dir=corpus, embeddings="e5-small",
                               answer_threshold=LENIENT_THRESHOLD))
    expected = {query: service.index.dense(query, 5)[0][0] for query in SEARCHES}
    assert expected[SEARCHES[0]] == f"{PLAN}::{QUESTION_REF}"
    failures: list[BaseException] = []
    done = threading.Event()
    counts = {"searches": 0, "answers": 0}

    def search() -> None:
        while not done.is_set():
            for query in SEARCHES:
                found = service.index.dense(query, 5)
                assert found[0][0] == expected[query], (query, found[:3])
                counts["searches"] += 1

    def answer() -> None:
        while not done.is_set():
            reply = service.answer(QUESTION)
            assert reply.status == "answered" and reply.citations[0].ref == QUESTION_REF, reply.contract()
            counts["answers"] += 1

    def guarded(work):
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # noqa: BLE001  reported by the main thread
                failures.append(exc)
                done.set()
        return run

    threads = [threading.Thread(target=guarded(work)) for work in (search, search, answer)]
    for thread in threads:
        thread.start()
    try:
        builds = set()
        for _ in range(3):
            service.reload()
            builds.add(service.index.path)
            # the searches and answers reach the new index (and the old one's release) before the next swap
            seen = dict(counts)
            until(lambda: done.is_set() or all(counts[k] > seen[k] + 1 for k in seen))
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not failures, failures
    assert len(builds) == 3 and counts["searches"] > 0 and counts["answers"] > 0
    assert service.index.meta["counts"]["embedded"] == 0  # the edited passage came from the previous build


def test_a_store_stays_open_until_its_last_user_releases_it(tmp_path):
    first = acquire_client(None, tmp_path / "chroma")
    second = acquire_client(None, tmp_path / "chroma")
    assert second is first  # one client per store in a process
    collection = first.create_collection("passages", embedding_function=None)
    collection.add(ids=["a"], embeddings=[[1.0, 0.0]])
    release_client(second)
    assert collection.count() == 1  # the other user goes on
    release_client(first)
    reopened = acquire_client(None, tmp_path / "chroma")
    assert reopened is not first and reopened.get_collection("passages").count() == 1
    release_client(reopened)
