"""Our development question sets as exact floors: each set's count of right answers and of wrong ones (answered but
wrong) is the one in tests/eval/floors.json. One question more wrong or one fewer right fails; so does an improvement,
until the floor is raised in the same commit. The blind sets are not here: they are scored once before a round's
changes and once after (kbase.bench.sets), never developed against."""
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from kbase.bench.evaluate import load_questions, run_eval
from kbase.bench.sets import folder_of, set_path
from kbase.service import Service
from kbase.store.library import add_document

EVAL = Path(__file__).resolve().parents[1] / "eval"
FLOORS = json.loads((EVAL / "floors.json").read_text(encoding="utf-8"))
TODAY = dt.date(2024, 6, 1)


@pytest.fixture(scope="module")
def services(indexed_settings, tmp_path_factory):
    """A Service per knowledge base: the bundled one, and the bundled one plus a folder of regulations added as a
    user adds them, by file only (title, dates and 施行 come from the texts), each under the id its questions use."""
    made: dict[str | None, Service] = {}

    def get(folder: str | None) -> Service:
        if folder not in made:
            source = indexed_settings(today=TODAY)
            settings = source
            if folder is not None:
                settings = source.model_copy(update={"data_dir": tmp_path_factory.mktemp(folder)})
                shutil.copytree(source.data_dir, settings.data_dir, dirs_exist_ok=True)  # bundled vectors reused
                manifest = json.loads((EVAL / folder / "manifest.json").read_text(encoding="utf-8"))
                for doc in manifest["documents"]:
                    added = add_document(settings, EVAL / folder / doc["file"], id=doc["id"])
                    assert added.title == doc["title"]
                    if doc["effective"]:  # a text without a 施行 article: the manifest records none to compare
                        assert added.effective.isoformat() == doc["effective"]
            made[folder] = Service(settings)
        return made[folder]

    return get


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_each_set_scores_exactly_its_floor(services, name):
    service = services(folder_of(name))
    report = run_eval(load_questions(set_path(name)), lambda q: service.answer(q).contract())
    summary = report["summary"]
    failed = [f"{r['outcome']:6} {r['id']} {r['question']} -> {r['answer_status']} {r['cited']}"
              for r in report["results"] if r["outcome"] in ("wrong", "missed")]
    print(f"{name}: {summary}\n" + "\n".join(failed))
    measured = {"right": summary["right"], "wrong": summary["wrong"]}
    assert measured == FLOORS[name], (
        f"{name}: {measured} against the floor {FLOORS[name]}; a regression is a defect, an improvement raises "
        "the floor in tests/eval/floors.json in the same commit")
