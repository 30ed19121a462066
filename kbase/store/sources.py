"""The knowledge base's sources: the bundled corpus (kbase/corpus) plus what staff added (data_dir/library).

The library manifest is the truth for added and removed documents; the index is derived from these sources.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ingest.model import Clause, DocMeta
from kbase.settings import Settings


def load_manifest(corpus_dir: Path) -> list[DocMeta]:
    """The bundled documents' metadata, as in the corpus folder's manifest.json."""
    data = json.loads((Path(corpus_dir) / "manifest.json").read_text(encoding="utf-8"))
    return [DocMeta(**doc) for doc in data["documents"]]


def load_corpus(corpus_dir: Path) -> list[tuple[DocMeta, str]]:
    """The bundled documents with their texts, read exactly as published."""
    return [(meta, (Path(corpus_dir) / meta.file).read_text(encoding="utf-8")) for meta in load_manifest(corpus_dir)]


def library_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "library"


def read_library(settings: Settings) -> dict:
    """{"documents": [added DocMeta dicts], "removed": [bundled ids]}."""
    path = library_dir(settings) / "manifest.json"
    if not path.exists():
        return {"documents": [], "removed": []}
    return json.loads(path.read_text(encoding="utf-8"))


def write_library(settings: Settings, manifest: dict) -> None:
    path = library_dir(settings) / "manifest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def load_sources(settings: Settings) -> list[tuple[DocMeta, str]]:
    """Bundled documents (minus those removed) and added ones, each with its text."""
    manifest = read_library(settings)
    removed = set(manifest["removed"])
    sources = [(meta, text) for meta, text in load_corpus(settings.corpus_dir) if meta.id not in removed]
    files = library_dir(settings) / "files"
    for raw in manifest["documents"]:
        meta = DocMeta.model_validate(raw)
        sources.append((meta, (files / meta.file).read_text(encoding="utf-8")))
    return sources


def parse_sources(sources: list[tuple[DocMeta, str]]) -> list[Clause]:
    """The clauses of the sources, in order: what an index is built from."""
    from ingest.structure import parse_document
    return [clause for meta, text in sources for clause in parse_document(meta, text)]
