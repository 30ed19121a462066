"""The evaluation sets kept in tests/eval, as a floor the answers may not fall below: everyday wording over the
bundled base, questions it must refuse, English, and real regulations added with `ingest add` (the holdout files
are only for the README's measurements)."""
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from kbase.bench.evaluate import load_questions, run_eval
from kbase.service import Service
from kbase.store.library import add_document

EVAL = Path(__file__).resolve().parents[1] / "eval"
TODAY = dt.date(2024, 6, 1)


@pytest.fixture(scope="module")
def bundled(indexed_settings):
    return Service(indexed_settings(embeddings="e5-small", today=TODAY))


@pytest.fixture(scope="module")
def with_regulations(indexed_settings, tmp_path_factory):
    """The bundled base plus the three regulations of tests/eval/regulations, added as a user would: by file only
    (title, dates and 施行 come from the texts), each under the id the question set uses."""
    source = indexed_settings(embeddings="e5-small")
    data_dir = tmp_path_factory.mktemp("with-regulations")
    shutil.copytree(source.data_dir, data_dir, dirs_exist_ok=True)  # the bundled passages' vectors are reused
    settings = source.model_copy(update={"data_dir": data_dir, "today": TODAY})
    manifest = json.loads((EVAL / "regulations" / "manifest.json").read_text(encoding="utf-8"))
    for doc in manifest["documents"]:
        added = add_document(settings, EVAL / "regulations" / doc["file"], id=doc["id"])
        assert (added.title, added.effective.isoformat()) == (doc["title"], doc["effective"])
    return Service(settings)


def pass_rate(service: Service, name: str) -> float:
    report = run_eval(load_questions(EVAL / f"{name}.jsonl"), lambda q: service.answer(q).contract())
    failed = [f"{r['id']} {r['question']} -> {r['answer_status']} {r['cited']}" for r in report["results"] if not r["pass"]]
    print(f"{name}: {report['summary']['pass']}\n" + "\n".join(failed))
    return report["pass_rate"]


@pytest.mark.parametrize("name, floor", [("colloquial", 0.85), ("english", 0.85), ("out-of-scope", 0.75)])
def test_bundled_base_sets(bundled, name, floor):
    assert pass_rate(bundled, name) >= floor


def test_regulations_nobody_tuned_for(with_regulations):
    assert pass_rate(with_regulations, "regulations") >= 0.85
