"""Answering while the proper index cannot be had: a BM25-only index of the source texts, built in a private
temporary folder (a few seconds for the bundled corpus), for a long-running channel while it rebuilds in the
background, and for a command whose data dir cannot be written (read-only, full disk)."""
from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from kbase.settings import Settings
from kbase.store.build import Progress, build_sources, ensure_index
from kbase.store.builds import index_root
from kbase.store.index import Index, last_good_build, serving_damage
from kbase.store.sources import load_sources

STANDIN_PREFIX = "policybot-standin-"


def serving_or_standin(settings: Settings, progress: Progress | None = None) -> tuple[Index, str | None]:
    """For a long-running channel: (index, None) as ensure_index gives it when the serving build is intact (built
    first when missing or stale); when it is damaged, at once (the last good build kept, or a stand-in, and why), for
    the caller to rebuild in the background."""
    if (damage := serving_damage(settings)) is None:
        return ensure_index(settings, progress), None
    if kept := last_good_build(settings):
        return kept, f"{damage}；暂由上一版完好索引 {kept.path.name} 回答，正在后台重建"
    return standin_index(settings, progress), f"{damage}；暂时从源文件检索（仅关键词），正在后台重建"


def standin_index(settings: Settings, progress: Progress | None = None) -> Index:
    """BM25 over the current sources (bundled and added), no vectors, in a folder removed at exit or by discard()."""
    folder = Path(tempfile.mkdtemp(prefix=STANDIN_PREFIX))
    atexit.register(shutil.rmtree, folder, True)
    scratch = settings.model_copy(update={"data_dir": folder, "embeddings": "none", "chroma_host": None})
    index_root(scratch).mkdir()
    return build_sources(scratch, load_sources(settings), "standin", progress)


def discard(index: Index) -> None:
    """Remove a stand-in's folder once no one answers from it (no-op for a real build)."""
    folder = index.path.parent.parent
    if folder.name.startswith(STANDIN_PREFIX):
        shutil.rmtree(folder, ignore_errors=True)
