"""Shared pytest fixtures. Keep them generic: other suites append their own below."""
from __future__ import annotations

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
