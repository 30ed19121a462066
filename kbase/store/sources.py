"""The knowledge base's sources: the bundled corpus (kbase/corpus) plus what staff added (data_dir/library).

The library manifest is the truth for added and removed documents; the index is derived from these sources.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from ingest.model import Clause, DocMeta
from kbase.settings import Settings

log = logging.getLogger(__name__)


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
    """{"documents": [added DocMeta dicts], "removed": [bundled ids]}; a damaged manifest is recovered (below)."""
    path = library_dir(settings) / "manifest.json"
    if not path.exists():
        return {"documents": [], "removed": []}
    try:
        manifest = json.loads(path.read_bytes())
        if isinstance(manifest.get("documents"), list) and isinstance(manifest.get("removed"), list):
            return manifest
    except (ValueError, AttributeError):
        pass
    return _recover_library(settings, path)


def _recover_library(settings: Settings, path: Path) -> dict:
    """The library manifest again, from the newest intact build's documents (every build is made before the manifest
    it matches is written, under one lock); an added file no build knows keeps its text, titled by its first line.
    The damaged manifest is set aside, not deleted."""
    from kbase.store.index import intact_builds
    bundled = {meta.id for meta in load_manifest(settings.corpus_dir)}
    documents, removed = [], []
    for build in intact_builds(settings):
        docs = json.loads((build / "docs.json").read_bytes())
        documents = [doc for doc in docs if doc.get("origin") == "added"]
        removed = sorted(bundled - {doc["id"] for doc in docs})
        break
    known = {doc["file"] for doc in documents}
    for file in sorted((library_dir(settings) / "files").glob("*.txt")):
        if file.name not in known:
            title = next((line.strip("# ") for line in file.read_text(encoding="utf-8").splitlines() if line.strip()),
                         file.stem)
            documents.append({"id": file.stem, "title": title, "file": file.name, "origin": "added"})
    manifest = {"documents": documents, "removed": removed}
    try:
        os.replace(path, path.with_name(f"{path.name}.damaged-{os.getpid()}"))
        write_library(settings, manifest)
    except OSError as exc:  # a read-only data dir: recovered again next time
        log.debug("could not write the recovered library manifest: %s", exc)
    log.warning("文件库清单已损坏，已按最近完好的索引恢复（%d 份添加的文件，%d 份移除的随包文件）；损坏的清单另存备查。",
                len(documents), len(removed))
    return manifest


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
