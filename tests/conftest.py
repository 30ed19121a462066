"""Shared pytest fixtures. Keep them generic: other suites append their own below."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kbase.settings import BUNDLED_CORPUS, Settings


@pytest.fixture(scope="session")
def indexed_settings(tmp_path_factory):
    """Settings whose data_dir holds a built index; each (corpus, embeddings) pair is built once per test session.

        settings = indexed_settings()                      # bundled corpus, e5-small as shipped (vectors bundled)
        settings = indexed_settings(embeddings="none")      # the BM25-only fallback path
        settings = indexed_settings(corpus_dir=my_dir, today=dt.date(2025, 6, 30))  # typed values, not validated

    Treat the built index as read-only; a test that rebuilds or breaks it needs its own data_dir (tmp_path).
    """
    from kbase.store.build import ensure_index

    built: dict[tuple[str, str], Settings] = {}

    def get(embeddings: str = "e5-small", corpus_dir: Path = BUNDLED_CORPUS, **fields) -> Settings:
        key = (embeddings, str(Path(corpus_dir).resolve()))
        if key not in built:
            settings = Settings(data_dir=tmp_path_factory.mktemp("index"), corpus_dir=corpus_dir, embeddings=embeddings)
            ensure_index(settings)
            built[key] = settings
        return built[key].model_copy(update=fields)

    return get


@pytest.fixture
def with_added_text(tmp_path):
    """Settings of a copy of a built data dir with one text added as a user adds it (`ingest add` by file), the base a
    city extended:

        extended = with_added_text(settings, "# 某市…条例\n\n第一条 …", "city-rule")
    """
    from kbase.store.library import add_document

    def add(settings: Settings, text: str, doc_id: str) -> Settings:
        extended = settings.model_copy(update={"data_dir": tmp_path / f"extended-{doc_id}"})
        shutil.copytree(settings.data_dir, extended.data_dir)
        (tmp_path / f"{doc_id}.md").write_text(text, encoding="utf-8")
        add_document(extended, tmp_path / f"{doc_id}.md", id=doc_id)
        return extended

    return add
