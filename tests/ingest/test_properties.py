"""Property-based tests (hypothesis) of the clause parser and of question cleaning: any text, no crash; refs unique
within a document; every sentence and clause text verbatim in its source."""
from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.model import DocMeta
from ingest.structure import parse_document
from ingest.text import int_to_cn, is_verbatim
from kbase.answering.query import analyse, clean

BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_CHARS = 300

# what policy documents are made of: headings of both styles, numbers, punctuation, and any other character
numbers = st.integers(min_value=1, max_value=120)
headings = st.one_of(
    numbers.map(lambda n: f"{int_to_cn(n)}、"), numbers.map(lambda n: f"({int_to_cn(n)})"),
    numbers.map(lambda n: f"（{int_to_cn(n)}）"), numbers.map(lambda n: f"{n}."), numbers.map(lambda n: f"{n}．"),
    numbers.map(lambda n: f"第{int_to_cn(n)}条"), numbers.map(lambda n: f"第{int_to_cn(n)}章"),
    numbers.map(lambda n: f"第{int_to_cn(n)}节"), st.sampled_from(["# ", "## ", "序言", "附件", "<!-- 注 -->"]))
words = st.one_of(st.sampled_from(["市生态环境局牵头", "配合", "到2025年", "细颗粒物", "罚款", "。", "；", "，", "(", ")",
                                   "（", "）", "\t", " ", "\u3000", "\u200b", "第", "条", "章", "\r"]),
                  st.text(min_size=1, max_size=12))
lines = st.builds(lambda head, body: head + body, st.one_of(st.just(""), headings),
                  st.lists(words, max_size=8).map("".join))
documents = st.lists(lines, max_size=30).map("\n".join)
kinds = st.sampled_from(["plan", "law", "regulation"])


@BOUNDED
@given(text=documents, kind=kinds)
def test_any_text_parses_into_clauses_with_unique_refs_and_verbatim_sentences(text, kind):
    meta = DocMeta(id="fuzz", title="开封市测试文件" + ("条例" if kind == "regulation" else ""), kind=kind, file="x.txt")
    clauses = parse_document(meta, text)
    refs = [clause.ref for clause in clauses]
    assert len(refs) == len(set(refs)), refs
    for clause in clauses:
        assert clause.doc == "fuzz" and clause.ref
        for sentence in clause.sentences:
            assert is_verbatim(sentence, clause.text), (sentence, clause.text)
        if clause.text.strip():
            assert all(is_verbatim(s, text) for s in clause.sentences), clause


@BOUNDED
@given(question=st.one_of(st.text(max_size=400), st.lists(words, max_size=40).map("".join)))
def test_any_question_is_cleaned_or_refused_with_a_message(question):
    cleaned, problem = clean(question, MAX_CHARS)
    assert len(cleaned) <= MAX_CHARS
    assert not any(unicodedata.category(ch) == "Cc" for ch in cleaned)
    if problem is None:
        assert cleaned.strip() == cleaned and cleaned
        analyse(cleaned)  # whatever passes cleaning can be analysed
    else:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in problem)  # a message in Chinese for the user
