"""The Telegram rendering core: escaping, splitting under the limit at sentence boundaries, button data."""
from __future__ import annotations

import datetime as dt
import re

from ingest.model import Clause, DocMeta
from kbase.channels.limits import QuestionLimiter
from kbase.channels.telegram import render as tg_render
from kbase.channels.telegram.bot import file_base_url
from kbase.channels.telegram.run import token_problem
from kbase.model import Answer, Citation
from tests.fakes.fake_bot_api import TOKEN, parse_telegram_html, utf16_len

META = DocMeta(id="test-plan", title="测试<方案>&规划", kind="plan")


def _citation(n: int, quote: str) -> Citation:
    return Citation(doc="test-plan", title=META.title, ref=f"三(一){n}", heading=f"{n}.标题<{n}>",
                    quote=quote, text=quote)


def test_long_answer_splits_at_sentence_boundaries_into_valid_html_under_the_limit():
    sentences = [f"第{i}句要求排放浓度<{i}毫克&稳定达标。" for i in range(400)]
    answer = Answer(question="q", status="answered", answer="".join(sentences[:150]),
                    citations=[_citation(n, "".join(sentences[n * 10:n * 10 + 60])) for n in range(1, 20)])
    parts = tg_render.render_answer(answer)
    assert len(parts) > 1
    shown = [parse_telegram_html(part) for part in parts]  # raises on broken or unescaped markup
    assert all(utf16_len(part) < 4096 for part in parts)
    assert "".join(shown).startswith("".join(sentences[:150]))
    # every cut falls after a sentence, never inside one
    for text in shown:
        for line in text.split("\n"):
            if line.startswith("第"):
                assert line.endswith("达标。"), line[-20:]
    assert "测试<方案>&规划" in "".join(shown) and "&lt;方案&gt;&amp;规划" in parts[0] + "".join(parts)


def test_a_sentence_longer_than_a_message_is_cut_but_stays_valid():
    clause = Clause(doc="test-plan", ref="一", heading="一、总体要求", text="<&>" * 3000, meta=META)
    parts = tg_render.render_clause(clause)
    assert len(parts) >= 3
    assert "".join(parse_telegram_html(p) for p in parts).count("<&>") == 3000
    assert all(utf16_len(p) < 4096 for p in parts)


def test_citation_buttons_fit_64_bytes_and_round_trip():
    long_ref = "第一百二十三条#" + "9" * 60
    citations = [_citation(5, "x"), _citation(5, "y"), Citation(doc="test-plan", title="t", ref=long_ref,
                                                              heading="h", quote="q", text="q")]
    buttons = tg_render.citation_buttons(citations, ["other", "test-plan"])
    assert buttons == [("原文 三(一)5", "c:1:三(一)5")]  # duplicate merged, oversized dropped
    assert tg_render.parse_clause_callback("c:1:三(一)5") == (1, "三(一)5")
    assert tg_render.parse_clause_callback("x:1:三") is None and tg_render.parse_clause_callback("c::三") is None
    assert tg_render.clause_callback(0, long_ref) is None


def test_refs_typed_with_full_width_parentheses_are_normalised():
    assert tg_render.normalize_ref("三（三） 5") == "三(三)5"


def test_tasks_and_sources_render_escaped():
    from ingest.model import Deadline, Task
    task = Task(doc="test-plan", ref="三(一)1", title="治理<锅炉>", lead=["市发展改革委"], support=["市生态环境局"],
                deadlines=[Deadline(date=dt.date(2024, 12, 31), text="2024年年底前", what="关停&整合")])
    text = parse_telegram_html(tg_render.render_tasks([task], "任务清单", {"test-plan": "测试方案"})[0])
    assert "治理<锅炉>" in text and "牵头：市发展改革委；配合：市生态环境局" in text and "关停&整合" in text and "《测试方案》" in text
    sources = parse_telegram_html(tg_render.render_sources([META, META.model_copy(update={"visibility": "internal"})])[0])
    assert sources.count("测试<方案>&规划") == 2 and "内部" in sources


def test_question_limiter_counts_a_sliding_minute_per_user():
    now = [0.0]
    limiter = QuestionLimiter(2, clock=lambda: now[0])
    assert limiter.allow(1) and limiter.allow(1) and not limiter.allow(1) and limiter.allow(2)
    now[0] = 59.9
    assert not limiter.allow(1)
    now[0] = 60.0
    assert limiter.allow(1)


def test_token_checks_and_file_url():
    assert token_problem(TOKEN) is None
    assert "TELEGRAM_BOT_TOKEN" in token_problem(None) and "未设置" in token_problem("")
    problem = token_problem("not-a-token")
    assert "格式不正确" in problem and "malformed" in problem and "not-a-token" not in problem
    assert file_base_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/file/bot", file_base_url("http://127.0.0.1:8081/bot"))


def test_leads_are_labelled_as_leads_not_as_the_basis_of_an_answer():
    leads = Answer(question="q", status="related", answer="未找到直接规定回答这个问题的条款。",
                   citations=[_citation(1, "加强监督管理。")])
    shown = parse_telegram_html(tg_render.render_answer(leads)[0])
    assert "相关条款（不是答案，仅供参考）" in shown and "依据：" not in shown
    answered = leads.model_copy(update={"status": "answered"})
    assert "依据：" in parse_telegram_html(tg_render.render_answer(answered)[0])
