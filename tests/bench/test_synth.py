"""kbase.bench.synth: deterministic, valid manifest, linear in scale, documents shaped like the bundled ones."""
from __future__ import annotations

import re
from pathlib import Path

import cn2an
import pytest

from ingest.readers import read_source
from kbase.bench.synth import BUNDLED_CORPUS_BYTES, generate_corpus
from kbase.store.sources import load_manifest

CORPUS = Path(__file__).resolve().parents[2] / "kbase" / "corpus"


def corpus_bytes(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def documents_bytes(directory: Path) -> int:
    return sum(len(data) for name, data in corpus_bytes(directory).items() if name != "manifest.json")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("synth")
    return out, generate_corpus(out, scale=3, seed=0)


def test_bundled_size_constant_matches_the_bundled_corpus():
    actual = sum((CORPUS / meta.file).stat().st_size for meta in load_manifest(CORPUS))
    assert BUNDLED_CORPUS_BYTES == actual


def test_same_seed_same_bytes_other_seed_other_documents(tmp_path):
    first, again, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_corpus(first, scale=0.5, seed=7)
    generate_corpus(again, scale=0.5, seed=7)
    generate_corpus(other, scale=0.5, seed=8)
    assert corpus_bytes(first) == corpus_bytes(again)
    assert corpus_bytes(first)["synth-plan-00000.txt"] != corpus_bytes(other)["synth-plan-00000.txt"]


def test_a_larger_scale_extends_a_smaller_one(tmp_path, corpus):
    out, metas = corpus
    small = generate_corpus(tmp_path, scale=1, seed=0)
    assert metas[:len(small)] == small
    for meta in small:
        assert (tmp_path / meta.file).read_bytes() == (out / meta.file).read_bytes()


def test_manifest_is_valid_and_matches_the_files(corpus):
    out, metas = corpus
    assert load_manifest(out) == metas
    assert len({meta.id for meta in metas}) == len(metas)
    assert len({meta.title for meta in metas}) == len(metas)
    assert {meta.kind for meta in metas} == {"plan", "law"}
    assert {meta.visibility for meta in metas} == {"public", "internal"}
    assert sorted(path.name for path in out.iterdir()) == sorted([meta.file for meta in metas] + ["manifest.json"])
    for meta in metas:
        assert meta.issued and meta.effective and meta.issued <= meta.effective
        assert (meta.expires is None) == (meta.kind == "law")


def test_size_grows_linearly_with_scale(tmp_path):
    sizes = {}
    for scale in (2, 20):
        generate_corpus(tmp_path / str(scale), scale=scale, seed=1)
        sizes[scale] = documents_bytes(tmp_path / str(scale))
        assert scale * BUNDLED_CORPUS_BYTES <= sizes[scale] <= scale * BUNDLED_CORPUS_BYTES + 80_000
    assert 9 <= sizes[20] / sizes[2] <= 11


def test_non_positive_scale_is_refused(tmp_path):
    with pytest.raises(ValueError):
        generate_corpus(tmp_path, scale=0)


def test_plans_have_the_bundled_plan_shapes(corpus):
    out, metas = corpus
    for meta in (m for m in metas if m.kind == "plan"):
        text = (out / meta.file).read_text(encoding="utf-8")
        lines = text.splitlines()
        for heading in ("一、总体要求", "二、主要目标", "三、重点任务", "四、保障措施"):
            assert heading in lines, (meta.id, heading)
        groups = [line for line in lines if re.match(r"^[(（][一二三四五六七八九十]+[)）]\S+行动$", line)]
        tasks = [int(m[1]) for line in lines if (m := re.match(r"^(\d+)\.\S", line))]
        assert len(groups) >= 3 and tasks == list(range(1, len(tasks) + 1)), meta.id
        task_lines = [line for line in lines if re.match(r"^\d+\.", line)]
        assert all(re.search(r"[(（][^()（）]*(牵头|按职责分工负责)[^()（）]*[)）]$", line) for line in task_lines), meta.id
        assert re.search(r"\d{4}年(年底|\d{1,2}月底)前", text) and re.search(r"\d+(\.\d+)?(%|微克/立方米|万辆)(以上|以下)", text)
        assert ("(此件不公开)" in text or "（此件不公开）" in text) == (meta.visibility == "internal")


def test_laws_have_the_bundled_law_shapes(corpus):
    out, metas = corpus
    for meta in (m for m in metas if m.kind == "law"):
        text = (out / meta.file).read_text(encoding="utf-8")
        assert text.startswith(f"# {meta.title}\n")
        chapters = re.findall(r"(?m)^## 第(\S+)章[ \u3000]\S+$", text)
        articles = re.findall(r"(?m)^第(\S+?)条 \S", text)
        assert [cn2an.cn2an(n, "normal") for n in chapters] == list(range(1, len(chapters) + 1)), meta.id
        assert [cn2an.cn2an(n, "normal") for n in articles] == list(range(1, len(articles) + 1)), meta.id
        assert re.search(r"(?m)^## 第一章[ \u3000]总则$", text) and re.search(r"(?m)^### 第一节[ \u3000]\S+$", text)
        assert re.search(r"(?m)^（一）\S+；$", text) and "罚款" in text
        assert text.rstrip().endswith("起施行。")


def test_documents_print_the_metadata_the_manifest_records(corpus):
    """What a reader finds in a generated document is what the manifest says (title, 文号, date, issuer)."""
    out, metas = corpus
    for meta in metas:
        source = read_source(out / meta.file)
        assert (source.title, source.doc_number, source.issued, source.issuer) == \
            (meta.title, meta.doc_number, meta.issued, meta.issuer), meta.id
