"""Growing the base: add and remove real files, versions in force by date, incremental embedding, crash safety."""
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import docx
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from kbase.service import Service
from kbase.settings import Settings
from kbase.store.index import open_index
from kbase.store.library import LibraryError, add_document, remove_document
from kbase.store.sources import load_sources
from tests.deciding import LENIENT_THRESHOLD

ROOT = Path(__file__).resolve().parents[2]

NOTICE_LINES = ["开封市人民政府办公室关于印发开封市噪声污染防治行动方案的通知",
                "汴政办〔2024〕12号", "发布时间:2024-03-01",
                "一、主要目标", "到2025年,全市声环境功能区夜间达标率达到85%。",
                "二、重点任务", "（一）交通噪声治理",
                "1.推进低噪声路面建设。2024年年底前完成主城区低噪声路面改造。（市交通运输局牵头,市公安局配合,各县区政府负责落实）"]

REGULATION_V1 = """# 开封市扬尘污染防治条例

第一条 为防治扬尘污染，制定本条例。

第二条 施工工地应当设置围挡，围挡高度不低于1.8米。

第三条 违反本条例第二条规定的，处一万元以上五万元以下罚款。
"""


def make_docx(path: Path) -> Path:
    document = docx.Document()
    for line in NOTICE_LINES:
        document.add_paragraph(line)
    document.save(path)
    return path


def make_html(path: Path) -> Path:
    body = "".join(f"<p>{line}</p>" for line in NOTICE_LINES)
    path.write_text(f"""<html><head><title>噪声方案</title></head><body>
        <div class="nav"><a href="/">首页</a> <a href="/zwgk">政务公开</a> <a href="/news">新闻</a></div>
        <div class="breadcrumb">您当前的位置：首页 &gt; 政务公开</div>
        <div class="content">{body}</div>
        <div class="footer">网站标识码 4102000001 版权所有 开封市人民政府 【打印】【关闭】</div></body></html>""",
                    encoding="utf-8")
    return path


def make_pdf(path: Path) -> Path:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    page = canvas.Canvas(str(path), pagesize=A4)
    page.setFont("STSong-Light", 9)
    y = 800
    for line in NOTICE_LINES:
        page.drawString(30, y, line)
        y -= 20
    page.save()
    return path


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "data", embeddings="none", today=dt.date(2025, 1, 1))


@pytest.mark.parametrize("make", [make_docx, make_html, make_pdf], ids=["docx", "html", "pdf"])
def test_add_and_remove_a_real_file(settings, tmp_path, make):
    path = make(tmp_path / f"notice.{make.__name__[5:]}")
    meta = add_document(settings, path, visibility="internal")
    assert meta.title == "开封市噪声污染防治行动方案" and meta.doc_number == "汴政办〔2024〕12号"
    assert meta.issued == dt.date(2024, 3, 1) and meta.origin == "added"
    service = Service(settings)
    answer = service.answer("低噪声路面改造谁牵头", audience="staff")
    assert answer.citations[0].doc == meta.id and "市交通运输局" in answer.answer
    assert all(c.doc != meta.id for c in service.answer("低噪声路面改造谁牵头", audience="public").citations)
    assert [t.ref for t in service.tasks(doc=meta.id)] == ["二(一)1"]
    remove_document(settings, meta.id)
    assert meta.id not in {m.id for m, _ in load_sources(settings)}
    assert not (settings.data_dir / "library" / "files" / meta.file).exists()
    assert all(c.doc != meta.id for c in Service(settings).answer("低噪声路面改造谁牵头").citations)


def test_unreadable_or_structureless_files_change_nothing(settings, tmp_path):
    before = [m.id for m, _ in load_sources(settings)]
    (tmp_path / "sheet.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "empty.txt").write_text("   \n", encoding="utf-8")
    (tmp_path / "prose.txt").write_text("这是一段没有任何条款编号的普通文字。", encoding="utf-8")
    for name in ("sheet.xls", "empty.txt", "prose.txt"):
        with pytest.raises(LibraryError) as error:
            add_document(settings, tmp_path / name)
        assert "无法" in str(error.value)
    assert [m.id for m, _ in load_sources(settings)] == before
    with pytest.raises(LibraryError):
        remove_document(settings, "no-such-document")


def test_bundled_documents_can_be_removed_and_stay_removed(settings):
    remove_document(settings, "prc-soil-pollution-law")
    assert "prc-soil-pollution-law" not in {m.id for m, _ in load_sources(settings)}
    assert Service(settings).show("prc-soil-pollution-law", "第九十九条") is None


def test_a_new_version_supersedes_the_old_one_from_its_effective_date(settings, tmp_path):
    (tmp_path / "v1.md").write_text(REGULATION_V1, encoding="utf-8")
    (tmp_path / "v2.md").write_text(REGULATION_V1.replace("1.8米", "2.5米"), encoding="utf-8")
    old = add_document(settings, tmp_path / "v1.md", effective=dt.date(2019, 5, 1))
    new = add_document(settings, tmp_path / "v2.md", effective=dt.date(2024, 7, 1))
    assert new.series == old.id and new.id == f"{old.id}@2024-07-01"
    service = Service(settings)
    now = service.answer("施工工地围挡高度不低于多少")
    assert now.citations[0].doc == new.id and "2.5米" in now.answer and "现行版本" in now.answer
    before = service.answer("施工工地围挡高度不低于多少", today=dt.date(2020, 1, 1))
    assert before.citations[0].doc == old.id and "1.8米" in before.answer
    asked_old = service.answer("扬尘污染防治条例修订前围挡高度要求是多少")
    assert asked_old.citations[0].doc == old.id and "旧版本" in asked_old.answer
    with pytest.raises(LibraryError):
        add_document(settings, tmp_path / "v2.md", effective=dt.date(2024, 7, 1))


def test_adding_a_document_embeds_only_its_own_clauses(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", embeddings="e5-small", corpus_dir=_small_corpus(tmp_path),
                        answer_threshold=LENIENT_THRESHOLD)
    first = Service(settings).index
    assert first.meta["counts"]["embedded"] == first.meta["counts"]["clauses"]
    (tmp_path / "rules.md").write_text(REGULATION_V1, encoding="utf-8")
    add_document(settings, tmp_path / "rules.md")
    after = open_index(settings)
    assert after.meta["counts"]["clauses"] == first.meta["counts"]["clauses"] + 4  # 序 + three articles
    assert after.meta["counts"]["embedded"] == 4


def test_sigkill_during_add_leaves_the_base_as_it_was(tmp_path):
    corpus = _small_corpus(tmp_path)
    data = tmp_path / "data"
    env = {**os.environ, "POLICYBOT_DATA_DIR": str(data), "POLICYBOT_CORPUS_DIR": str(corpus),
           "POLICYBOT_EMBEDDINGS": "e5-small", "POLICYBOT_ANSWER_THRESHOLD": str(LENIENT_THRESHOLD)}
    subprocess.run([sys.executable, "bot.py", "ingest"], cwd=ROOT, env=env, check=True, capture_output=True)
    big = tmp_path / "big.md"
    big.write_text("# 开封市大型测试条例\n\n" + "\n\n".join(
        f"第{n}条 第{n}项规定：施工单位应当按照要求落实扬尘污染防治措施，并定期报告执行情况和整改结果。" for n in _cn_numbers(150)),
        encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "bot.py", "ingest", "add", str(big)], cwd=ROOT, env=env,
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:  # kill it once embedding is under way
        if "嵌入" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (data / "library" / "manifest.json").exists() or \
        json.loads((data / "library" / "manifest.json").read_text(encoding="utf-8"))["documents"] == []
    settings = Settings(data_dir=data, corpus_dir=corpus, embeddings="e5-small", answer_threshold=LENIENT_THRESHOLD)
    assert {m.id for m, _ in load_sources(settings)} == {"tiny-plan"}
    answer = Service(settings).answer("低噪声路面改造谁牵头")
    assert answer.status == "answered" and answer.citations[0].doc == "tiny-plan"


def _small_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / "plan.txt").write_text("\n".join(NOTICE_LINES[3:]), encoding="utf-8")
    (corpus / "manifest.json").write_text(json.dumps({"documents": [
        {"file": "plan.txt", "id": "tiny-plan", "title": "噪声方案", "kind": "plan", "visibility": "public"}]},
        ensure_ascii=False), encoding="utf-8")
    return corpus


def _cn_numbers(count: int) -> list[str]:
    from ingest.text import int_to_cn
    return [int_to_cn(n) for n in range(1, count + 1)]
