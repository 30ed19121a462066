"""The bundled documents: the manifest's metadata and the texts, read exactly as published."""
from __future__ import annotations

import json
from pathlib import Path

from ingest.model import DocMeta


def load_manifest(corpus_dir: Path) -> list[DocMeta]:
    data = json.loads((Path(corpus_dir) / "manifest.json").read_text(encoding="utf-8"))
    return [DocMeta(**doc) for doc in data["documents"]]


def read_text(corpus_dir: Path, meta: DocMeta) -> str:
    return (Path(corpus_dir) / meta.file).read_text(encoding="utf-8")


def load_corpus(corpus_dir: Path) -> list[tuple[DocMeta, str]]:
    return [(meta, read_text(corpus_dir, meta)) for meta in load_manifest(corpus_dir)]
