"""The BM25-only path: where no vectors can be had (`POLICYBOT_EMBEDDINGS=none`, or a vector store that cannot be
reached), answers come from the words alone. A smaller set than the e5 path's, kept so the fallback keeps working."""
import datetime as dt

import pytest

from kbase.service import Service
from tests.deciding import LENIENT_THRESHOLD

PLAN = "kaifeng-eco-plan-2023-2025"


@pytest.fixture(scope="module")
def service(indexed_settings):
    settings = indexed_settings(embeddings="none", today=dt.date(2024, 6, 1), answer_threshold=LENIENT_THRESHOLD)
    assert settings.embeddings == "none"
    return Service(settings)


# question, document, ref the first citation starts with, a fact the answer holds
ANSWERED = [
    ("开封市2025年细颗粒物浓度目标是多少", PLAN, "二", "43微克/立方米"),
    ("煤电结构优化升级由哪个部门牵头", PLAN, "三(三)5", "市发展改革委"),
    ("农村生活污水治理率到2025年要达到多少", PLAN, "三(七)14", "40%"),
    ("开封饮用水水源一级保护区内个人游泳会被怎么处罚", "kaifeng-drinking-water-regulation", "第", "罚款"),
]


@pytest.mark.parametrize("question, doc, ref, fact", ANSWERED, ids=range(len(ANSWERED)))
def test_words_alone_answer_questions_in_the_documents_words(service, question, doc, ref, fact):
    answer = service.answer(question)
    assert answer.status == "answered", answer.answer
    assert (answer.citations[0].doc, answer.citations[0].ref.startswith(ref)) == (doc, True)
    assert fact in answer.answer


@pytest.mark.parametrize("question", ["明天开封天气怎么样", "公积金贷款额度是多少", "郑州市2025年PM2.5目标是多少"])
def test_words_alone_do_not_answer_what_the_documents_do_not_hold(service, question):
    assert service.answer(question).status in ("not_found", "related")
