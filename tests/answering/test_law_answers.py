"""Answers built on a law's structure, over a small corpus made here: penalties found from the conduct and followed
from duty to penalty article, who is responsible, definitions, 施行, repealed and missing texts, other cities' rules."""
import json

import pytest

from kbase.service import Service
from tests.ingest.test_statute import RULE

NATIONAL = """# 中华人民共和国河道示范法

第一条 为了保护河道，制定本法。

第二条 个人在河道内清洗车辆的，由县级以上地方人民政府水行政主管部门责令改正，可以处五百元以下的罚款。

第三条 本法自2019年1月1日起施行。

第四条 县级以上地方人民政府水行政主管部门负责河道管理单位的备案。河道管理单位发生变更的，原管理单位应当自变更之日起十五日内报告。

第五条 在河滩焚烧秸秆的，由县级以上地方人民政府水行政主管部门责令改正，对单位处一万元以上十万元以下的罚款，对个人处五百元以上二千元以下的罚款。

第六条 河道管理单位不明确的，由县级以上地方人民政府水行政主管部门会同自然资源主管部门认定。
"""
ELSEWHERE = """# 远方市河道条例

第一条 为了保护远方市的河道，制定本条例。

第二条 在河道内清洗车辆的，由远方市水务局处二百元罚款。

第三条 本条例自2018年1月1日起施行。

第四条 在河道内电鱼的，由远方市水务局处三千元罚款。
"""
ADDED = """# 近郊市河道管理办法

第一条 为了保护河道，制定本办法。

第二条 在河道内电鱼的，由水行政主管部门处五千元罚款。

第三条 在河道内清洗车辆的，由水行政主管部门处三百元罚款。

第四条 本办法自2021年1月1日起施行。
"""
DOCS = [("rule.md", "kaifeng-rule", "开封市河道保护条例", "regulation", RULE.replace("某市", "开封市")),
        ("national.md", "national-law", "中华人民共和国河道示范法", "law", NATIONAL),
        ("elsewhere.md", "faraway-rule", "远方市河道条例", "regulation", ELSEWHERE)]


@pytest.fixture(scope="module")
def service(indexed_settings, tmp_path_factory):
    corpus = tmp_path_factory.mktemp("laws")
    for file, _, _, _, text in DOCS:
        (corpus / file).write_text(text, encoding="utf-8")
    manifest = {"documents": [{"file": f, "id": i, "title": t, "kind": k, "issued": "2020-06-30"}
                              for f, i, t, k, _ in DOCS]}
    (corpus / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    # the drafting of answers from a law's structure is tested here, on a corpus too small for the learned decision's
    # figures: every draft whose quotes state what was asked is given (tests/answering/test_decision.py decides)
    return Service(indexed_settings(corpus_dir=corpus, answer_threshold=0.0))


def refs(answer):
    return [(c.doc, c.ref) for c in answer.citations]


def test_penalty_follows_the_duty_to_the_penalty_article_and_cites_both(service):
    answer = service.answer("在开封的河道里洗车会被罚多少钱")
    assert answer.status == "answered" and answer.kind == "penalty"
    assert refs(answer)[:2] == [("kaifeng-rule", "第五条"), ("kaifeng-rule", "第三条")]
    assert "一百元以上五百元以下罚款" in answer.answer and "市水行政主管部门" in answer.answer
    assert "拒不改正的，一千元罚款" in answer.answer  # the sanction that follows comes with its condition


def test_each_amount_says_whom_it_is_for(service):
    answer = service.answer("在河滩烧秸秆，个人罚多少")
    assert refs(answer)[0] == ("national-law", "第五条")
    assert "对单位处一万元以上十万元以下的罚款；对个人处五百元以上二千元以下的罚款" in answer.answer


def test_the_national_law_is_cited_beside_the_citys_own_rule(service):
    answer = service.answer("在河道内清洗车辆怎么处罚")
    assert refs(answer)[0] == ("kaifeng-rule", "第五条")
    assert ("national-law", "第二条") in refs(answer) and "另见" in answer.answer
    assert "faraway-rule" not in {doc for doc, _ in refs(answer)}  # another city's rule, not asked about


def test_another_citys_rule_answers_when_its_city_is_named(service):
    answer = service.answer("远方市在河道里洗车罚多少")
    assert refs(answer)[0] == ("faraway-rule", "第二条") and "二百元罚款" in answer.answer
    assert "只在远方市适用" not in answer.answer


def test_another_citys_rule_that_alone_answers_says_where_it_applies(service):
    answer = service.answer("在河道里电鱼要罚多少")
    assert refs(answer)[0] == ("faraway-rule", "第四条") and "三千元罚款" in answer.answer
    assert "注：《远方市河道条例》是远方市的规定，只在远方市适用。" in answer.answer


def test_a_rule_the_city_added_is_its_own_and_leads_the_bundled_ones(service, with_added_text):
    extended = Service(with_added_text(service.settings, ADDED, "added-rule"))
    answer = extended.answer("在河道里电鱼要罚多少")
    assert refs(answer)[0] == ("added-rule", "第二条") and "五千元罚款" in answer.answer  # not another city's
    # a deployment adds the rules of its own city: they lead the bundled home city's, which are cited beside them
    answer = extended.answer("在河道内清洗车辆怎么处罚")
    assert refs(answer)[0] == ("added-rule", "第三条") and "另见" in answer.answer


def test_an_item_is_quoted_with_the_chapeau_that_states_the_authority(service):
    answer = service.answer("开封往河道里倒垃圾怎么罚")
    assert refs(answer)[0] == ("kaifeng-rule", "第六条")
    quotes = [c.quote for c in answer.citations]
    assert quotes[:2] == ["违反本条例第三条规定的下列行为，由市水行政主管部门责令改正，并按照下列规定予以处罚：",
                          "（一）倾倒垃圾的，处五万元以下的罚款；"]


def test_who_is_responsible_under_a_law_is_the_sentence_naming_the_authority(service):
    answer = service.answer("开封的河道归哪个部门统一监管")
    assert refs(answer) == [("kaifeng-rule", "第四条")] and "市水行政主管部门" in answer.answer
    assert "未列出" not in answer.answer


def test_the_responsible_body_is_named_whole_through_its_government(service):
    """县级以上地方人民政府水行政主管部门负责…: the department, not the government its name begins with."""
    answer = service.answer("河道管理单位的备案归哪个部门管")
    assert refs(answer) == [("national-law", "第四条")]
    assert "负责的是：县级以上地方人民政府水行政主管部门（负责）" in answer.answer
    answer = service.answer("河道管理单位不明确的时候由谁来认定")
    assert refs(answer) == [("national-law", "第六条")]
    assert "负责的是：县级以上地方人民政府水行政主管部门。" in answer.answer  # not 不明确的，由县级以上地方人民政府


def test_definitions_answer_what_a_term_means(service):
    answer = service.answer("条例里说的河湖指的是什么")
    assert answer.kind == "definition" and refs(answer) == [("kaifeng-rule", "第二条")]
    assert "以下统称河湖" in answer.citations[0].quote


def test_effective_date_comes_from_the_article_that_states_it(service):
    answer = service.answer("开封市河道保护条例从哪天开始实施")
    assert refs(answer) == [("kaifeng-rule", "第八条")] and "2021年1月1日" in answer.answer
    # the manifest gives no effective date: the text's own is the document's
    assert {d.id: d.effective.isoformat() for d in service.sources()}["kaifeng-rule"] == "2021-01-01"


def test_a_repealed_text_is_answered_from_the_article_that_repeals_it(service):
    answer = service.answer("开封市河道管理办法现在还管用吗")
    assert answer.status == "answered" and refs(answer) == [("kaifeng-rule", "第八条")]
    assert "废止" in answer.answer


@pytest.mark.parametrize("question", ["开封市烟花爆竹管理条例什么时候施行", "《河南省扬尘防治办法》对工地有什么要求"])
def test_a_text_the_base_does_not_hold_is_said_to_be_missing(service, question):
    answer = service.answer(question)
    assert answer.status == "not_found" and "知识库中没有" in answer.answer


def test_a_number_of_days_asked_for_is_quoted_from_the_sentence_that_states_it(service):
    answer = service.answer("河道管理单位换了，原单位要在多少天内向哪个部门报告")
    assert answer.status == "answered" and refs(answer)[0] == ("national-law", "第四条")
    assert "十五日内" in answer.answer


def test_asked_about_another_city_only_national_laws_apply(service):
    answer = service.answer("郑州在河道里清洗车辆怎么罚")
    assert {doc for doc, _ in refs(answer)} == {"national-law"} and "五百元以下" in answer.answer
