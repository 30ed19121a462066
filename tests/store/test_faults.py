"""Real faults on a data dir, each followed by the next question through the real CLI: damaged files, a read-only
data dir, a disk that fills during a build, two `ingest add` at once. Answered (or a clear message), no traceback,
no document lost. (SIGKILL during `ingest add`: tests/store/test_library.py.)"""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kbase.service import Service
from kbase.settings import Settings
from kbase.store.builds import CURRENT, index_root
from kbase.store.integrity import DAMAGED
from kbase.store.sources import load_sources
from tests.deciding import LENIENT_THRESHOLD

ROOT = Path(__file__).resolve().parents[2]
QUESTION, PLAN, TARGET_REF = "开封PM2.5要降到多少？", "kaifeng-eco-plan-2023-2025", "二"
ADDED = """# 开封市扬尘污染防治条例

第一条 为防治扬尘污染，制定本条例。

第二条 施工工地应当设置围挡，围挡高度不低于一点八米。

第三条 违反本条例第二条规定的，处一万元以上五万元以下罚款。
"""


@pytest.fixture
def data_dir(indexed_settings, tmp_path) -> Path:
    """A private copy of a built data dir (bundled corpus, e5 vectors), free to damage."""
    copy = tmp_path / "data"
    shutil.copytree(indexed_settings(embeddings="e5-small").data_dir, copy)
    return copy


def cli(data_dir: Path, *args: str, file_limit: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "POLICYBOT_DATA_DIR": str(data_dir), "POLICYBOT_EMBEDDINGS": "e5-small",
           "POLICYBOT_ANSWER_THRESHOLD": str(LENIENT_THRESHOLD)}
    limit = (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))) if file_limit else None
    return subprocess.run([sys.executable, "bot.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600, preexec_fn=limit)


def ask(data_dir: Path, question: str = QUESTION) -> tuple[dict, str]:
    """The answer object of `ask --json` and stderr; fails on a traceback or a non-zero exit."""
    done = cli(data_dir, "ask", "--json", question)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout), done.stderr


def serving(data_dir: Path) -> Path:
    root = data_dir / "index"
    return root / (root / CURRENT).read_text(encoding="utf-8").strip()


def assert_target_answered(answer: dict) -> None:
    assert answer["status"] == "answered", answer
    assert (answer["citations"][0]["doc"], answer["citations"][0]["ref"]) == (PLAN, TARGET_REF)


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


def garble(path: Path) -> None:  # same size, other bytes: only the hash sees it
    path.write_bytes(bytes((b + 1) % 256 for b in path.read_bytes()))


def overwrite(path: Path, offset: int, count: int) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(b"\xa5" * count)


@pytest.mark.parametrize("damage", [
    pytest.param(lambda b: truncate(b / "clauses.json"), id="truncated-clauses"),
    pytest.param(lambda b: garble(b / "tasks.json"), id="garbage-tasks"),
    pytest.param(lambda b: (b / "docs.json").write_bytes(b""), id="empty-docs"),
    pytest.param(lambda b: (b / "meta.json").write_bytes(b"\x00garbage{"), id="garbage-meta"),
    pytest.param(lambda b: (b / "bm25" / "vocab.index.json").unlink(), id="missing-bm25"),
    pytest.param(lambda b: overwrite(b / "chroma" / "chroma.sqlite3", 4096, 64), id="sqlite-page-header"),
    pytest.param(lambda b: truncate(next((b / "chroma").glob("*/data_level0.bin"))), id="truncated-hnsw"),
])
def test_a_damaged_build_is_rebuilt_by_the_next_question(data_dir, damage):
    damaged = serving(data_dir)
    damage(damaged)
    answer, stderr = ask(data_dir)
    assert_target_answered(answer)
    warnings = [line for line in stderr.splitlines() if " WARNING " in line]
    assert len(warnings) == 1 and "正在从源文件重建索引" in warnings[0], stderr
    assert serving(data_dir) != damaged and not damaged.exists()  # rebuilt; the damaged build is not kept
    assert ask(data_dir)[1].count("WARNING") == 0  # and the rebuilt one is sound


def test_a_kept_intact_build_of_the_same_sources_serves_without_a_rebuild(data_dir):
    first = serving(data_dir)
    assert cli(data_dir, "ingest", "--rebuild").returncode == 0
    second = serving(data_dir)
    truncate(second / "clauses.json")
    answer, stderr = ask(data_dir)
    assert_target_answered(answer)
    assert "改用保留的上一版完好索引" in stderr and "解析文件" not in stderr
    assert serving(data_dir) == first


def test_a_vector_store_failing_in_use_answers_from_bm25_and_is_rebuilt_next_time(data_dir):
    settings = Settings(data_dir=data_dir, embeddings="e5-small", answer_threshold=LENIENT_THRESHOLD)
    service = Service(settings)  # opened intact: the damage comes while it is in use
    overwrite(serving(data_dir) / "chroma" / "chroma.sqlite3", 0, 100)  # the SQLite header
    damaged = serving(data_dir)
    assert_target_answered(service.answer(QUESTION).contract())  # BM25 alone still finds it
    assert service.index.damage and (damaged / DAMAGED).exists()
    service.index.close()
    answer, stderr = ask(data_dir)
    assert_target_answered(answer)
    assert "使用中发现损坏" in stderr and serving(data_dir) != damaged


def _read_only_view(source: Path, view: Path):
    """`view` showing `source` read-only for this process and its children: a read-only bind mount as root, else
    the permission bits; None where neither works (root without the right to mount)."""
    view.mkdir()
    if os.geteuid() != 0:
        subprocess.run(["chmod", "-R", "a-w", str(source)], check=True)
        view.rmdir()
        view.symlink_to(source)
        return lambda: subprocess.run(["chmod", "-R", "u+w", str(source)], check=True)
    mounted = subprocess.run(["mount", "--bind", str(source), str(view)], capture_output=True)
    if mounted.returncode != 0:
        return None
    if subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], capture_output=True).returncode != 0:
        subprocess.run(["umount", str(view)], check=True)
        return None
    return lambda: subprocess.run(["umount", str(view)], check=True)


@pytest.mark.parametrize("damaged", [False, True], ids=["intact", "damaged"])
def test_a_read_only_data_dir_still_answers(data_dir, tmp_path, damaged):
    if damaged:
        truncate(serving(data_dir) / "clauses.json")
    undo = _read_only_view(data_dir, tmp_path / "read-only")
    if undo is None:
        pytest.skip("no read-only view possible here (root without mount rights)")
    try:
        with pytest.raises(OSError):
            (tmp_path / "read-only" / "probe").write_text("x")
        answer, stderr = ask(tmp_path / "read-only")
        assert_target_answered(answer)
        assert ("暂时从源文件检索" in stderr) == damaged, stderr
        assert ask(tmp_path / "read-only", "公积金怎么提取")[0]["status"] in ("not_found", "related")
    finally:
        undo()


@pytest.mark.parametrize("command", [["ingest", "--rebuild"], ["ingest", "add", "{file}"]], ids=["rebuild", "add"])
def test_a_disk_that_fills_during_a_build_leaves_the_base_as_it_was(data_dir, tmp_path, command):
    (tmp_path / "rules.md").write_text(ADDED, encoding="utf-8")
    before = serving(data_dir)
    # RLIMIT_FSIZE: any write past 2 MB fails in the child, as on a full disk (the vector store is 6 MB)
    done = cli(data_dir, *[part.format(file=tmp_path / "rules.md") for part in command], file_limit=2 * 2**20)
    assert done.returncode == 1 and "索引未能建成" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert serving(data_dir) == before
    settings = Settings(data_dir=data_dir, embeddings="e5-small", answer_threshold=LENIENT_THRESHOLD)
    assert all(meta.origin == "bundled" for meta, _ in load_sources(settings))
    assert_target_answered(ask(data_dir)[0])
    added = cli(data_dir, "ingest", "add", str(tmp_path / "rules.md"))  # with room again, the same add works
    assert added.returncode == 0, added.stderr
    assert not [p for p in index_root(settings).iterdir() if p.name.startswith("tmp-")]  # the leftover is swept


def test_two_ingest_adds_at_once_both_land(data_dir, tmp_path):
    env = {**os.environ, "POLICYBOT_DATA_DIR": str(data_dir), "POLICYBOT_EMBEDDINGS": "e5-small",
           "POLICYBOT_ANSWER_THRESHOLD": str(LENIENT_THRESHOLD)}
    files = []
    for n, (title, subject) in enumerate([("开封市扬尘污染防治条例", "围挡"), ("开封市餐饮油烟管理条例", "油烟净化设施")]):
        path = tmp_path / f"doc{n}.md"
        path.write_text(ADDED.replace("开封市扬尘污染防治条例", title).replace("围挡", subject), encoding="utf-8")
        files.append(path)
    adds = [subprocess.Popen([sys.executable, "bot.py", "ingest", "add", str(f)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
    results = [(add.wait(timeout=600), add.stderr.read()) for add in adds]
    for add in adds:
        add.stdout.close()
        add.stderr.close()
    assert [code for code, _ in results] == [0, 0], results
    titles = {meta.title for meta, _ in load_sources(Settings(data_dir=data_dir))}
    assert {"开封市扬尘污染防治条例", "开封市餐饮油烟管理条例"} <= titles
    answer, _ = ask(data_dir, "餐饮油烟管理条例对油烟净化设施有什么要求")
    assert answer["status"] == "answered" and answer["citations"][0]["title"] == "开封市餐饮油烟管理条例", answer


@pytest.mark.parametrize("damage", [truncate, garble], ids=["truncated", "garbage"])
def test_a_damaged_library_manifest_loses_no_added_document(data_dir, tmp_path, damage):
    (tmp_path / "rules.md").write_text(ADDED, encoding="utf-8")
    assert cli(data_dir, "ingest", "add", str(tmp_path / "rules.md")).returncode == 0
    manifest = data_dir / "library" / "manifest.json"
    damage(manifest)
    answer, stderr = ask(data_dir, "扬尘污染防治条例对施工工地围挡高度有什么要求")
    assert answer["status"] == "answered" and answer["citations"][0]["title"] == "开封市扬尘污染防治条例", answer
    assert "文件库清单已损坏" in stderr
    restored = json.loads(manifest.read_text(encoding="utf-8"))
    assert [doc["title"] for doc in restored["documents"]] == ["开封市扬尘污染防治条例"]
    assert list(manifest.parent.glob("manifest.json.damaged-*"))  # set aside, not deleted
