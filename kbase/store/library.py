"""Adding and removing documents (kept in data_dir/library; see kbase.store.sources).

Adding or removing a document builds the new index and then replaces the library manifest, both under the
index builder's lock, so a process killed at any point leaves the base as it was (a half-written file is
cleaned up, a newer index is rebuilt).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

from ingest.law import count_articles
from ingest.model import DocMeta
from ingest.statute import with_text_facts
from ingest.structure import parse_document
from kbase.settings import Settings
from kbase.store.sources import library_dir, load_sources, read_library, write_library


class LibraryError(ValueError):
    """A document cannot be added or removed; str(error) is a Chinese message for the user."""


def guess_kind(title: str, text: str) -> str:
    if count_articles(text) >= 3:
        return "law" if title.endswith("法") else "regulation"
    return "plan"


def add_document(settings: Settings, path: Path, progress=None, **overrides) -> DocMeta:
    """Read, parse and index a document; a same-titled (or same-id) document becomes an older version of it."""
    from ingest.readers import UnreadableSource, read_source  # trafilatura, docx, pypdf: only when adding
    try:
        source = read_source(Path(path))
    except UnreadableSource as exc:
        raise LibraryError(str(exc)) from exc
    fields = {k: v for k, v in overrides.items() if v is not None}
    title = fields.pop("title", None) or source.title or Path(path).stem
    issued = fields.pop("issued", None) or source.issued
    meta = DocMeta(id=fields.pop("id", None) or _new_id(title), title=title, issuer=fields.pop("issuer", None) or source.issuer,
                   doc_number=fields.pop("doc_number", None) or source.doc_number, issued=issued,
                   effective=fields.pop("effective", None), kind=guess_kind(title, source.text),
                   source=Path(path).name, origin="added", **fields)
    clauses = parse_document(meta, source.text)
    if not any(c.ref != "序" for c in clauses):
        raise LibraryError(f"无法识别《{title}》的条款结构（没有找到“一、”“（一）”“1.”或“第一条”等标题），未添加。")
    # the 施行 article decides when a law takes effect, not its adoption line
    meta = with_text_facts(meta, clauses)
    meta = meta.model_copy(update={"effective": meta.effective or issued})

    from kbase.store.build import index_transaction
    with index_transaction(settings) as build:
        sources = load_sources(settings)
        meta = _as_version(meta, [m for m, _ in sources])
        meta = meta.model_copy(update={"file": f"{meta.id}.txt"})
        files = library_dir(settings) / "files"
        files.mkdir(parents=True, exist_ok=True)
        (files / meta.file).write_text(source.text, encoding="utf-8")
        build([*sources, (meta, source.text)], progress)
        manifest = read_library(settings)
        manifest["documents"].append(meta.model_dump(mode="json"))
        write_library(settings, manifest)
    return meta


def remove_document(settings: Settings, doc_id: str, progress=None) -> DocMeta:
    from kbase.store.build import index_transaction
    with index_transaction(settings) as build:
        sources = load_sources(settings)
        target = next((m for m, _ in sources if m.id == doc_id), None)
        if target is None:
            raise LibraryError(f"知识库中没有编号为 {doc_id} 的文件（用 sources 查看编号）。")
        remaining = [(m, t) for m, t in sources if m.id != doc_id]
        if not remaining:
            raise LibraryError("不能删除最后一份文件：知识库不能为空。")
        build(remaining, progress)
        manifest = read_library(settings)
        if target.origin == "added":
            manifest["documents"] = [d for d in manifest["documents"] if d["id"] != doc_id]
        else:
            manifest["removed"].append(doc_id)
        write_library(settings, manifest)
    if target.origin == "added":
        (library_dir(settings) / "files" / target.file).unlink(missing_ok=True)
    return target


def _new_id(title: str) -> str:
    return "doc-" + hashlib.sha1(title.encode("utf-8")).hexdigest()[:8]


def _as_version(meta: DocMeta, existing: list[DocMeta]) -> DocMeta:
    """Same title or same id as a document already there: join its series under a dated id."""
    same = [m for m in existing if m.id == meta.id or _plain(m.title) == _plain(meta.title)]
    if not same:
        return meta
    series = same[0].series_id
    stamp = (meta.effective or meta.issued or dt.date.today()).isoformat()
    new_id = f"{series}@{stamp}"
    if any(m.id == new_id for m in existing):
        raise LibraryError(f"《{meta.title}》{stamp} 施行的版本已经在知识库中。")
    return meta.model_copy(update={"id": new_id, "series": series})


def _plain(title: str) -> str:
    return re.sub(r"[\s《》()（）]", "", title)
