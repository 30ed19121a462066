"""Law structure as data: items, penalties with amounts and authorities, cross-references, definitions, 施行, 废止."""
import datetime as dt

from ingest.law import parse_law
from ingest.model import DocMeta
from ingest.statute import article_facts, document_effective, mark_repealed, with_text_facts

META = DocMeta(id="rule", title="某市河道保护条例", kind="regulation", issued=dt.date(2020, 6, 30))
RULE = """# 某市河道保护条例

2020年6月30日 某市人民代表大会常务委员会通过

总则

第一条 为了保护河道，制定本条例。

第二条 本条例所称河道，是指本市行政区域内的河流、湖泊及其水体（以下统称河湖）。

第三条 在河道管理范围内，禁止下列行为：

（一）倾倒垃圾；

（二）在水体中清洗车辆。

第四条 市水行政主管部门负责本市河道的统一监督管理。

法律责任

第五条 违反本条例第三条第二项规定，清洗车辆的，由市水行政主管部门责令停止违法行为，处一百元以上五百元以下罚款；拒不改正的，处一千元罚款。

第六条 违反本条例第三条规定的下列行为，由市水行政主管部门责令改正，并按照下列规定予以处罚：

（一）倾倒垃圾的，处五万元以下的罚款；

（二）造成严重后果的，依法追究刑事责任。

第七条 种植阻水林木的，每亩处以二百元以上二千元以下的罚款；农业投入品使用者为个人的，可以处二百元罚款。

附　则

第八条 本条例自2021年1月1日起施行。《某市河道管理办法》同时废止。
"""


def clauses():
    return {c.ref: c for c in parse_law(META, RULE)}


def test_bare_chapter_headings_file_their_articles():
    found = clauses()
    assert found["第一条"].path == ["总则", "第一条"]
    assert found["第五条"].path == ["法律责任", "第五条"]
    assert found["第八条"].path == ["附则", "第八条"]


def test_penalty_with_amount_authority_measures_and_the_duty_item_it_enforces():
    facts = clauses()["第五条"].article
    lead, follow = facts.penalties
    assert facts.refers_to == ["第三条"] and lead.duty_item == "（二）"
    assert lead.conduct == "清洗车辆" and lead.authority == "市水行政主管部门"
    assert lead.measures == ["责令停止违法行为"]
    assert [(f.text, f.low, f.high) for f in lead.fines] == [("一百元以上五百元以下罚款", 100, 500)]
    assert follow.conduct == "拒不改正" and follow.fines[0].low == follow.fines[0].high == 1000
    assert follow.authority == "市水行政主管部门" and follow.paragraph == lead.paragraph


def test_items_of_a_penalty_list_inherit_the_chapeau():
    facts = clauses()["第六条"].article
    assert facts.chapeau.startswith("违反本条例第三条规定的下列行为")
    dumping, crime = facts.penalties
    assert (dumping.item, dumping.conduct, dumping.authority) == ("（一）", "倾倒垃圾", "市水行政主管部门")
    assert dumping.fines[0].high == 50000 and dumping.fines[0].low is None
    assert "责令改正" in dumping.measures and crime.measures[:1] == ["依法追究刑事责任"]


def test_fines_per_unit_and_variants_for_individuals():
    first, individual = clauses()["第七条"].article.penalties
    assert (first.fines[0].per, first.fines[0].low, first.fines[0].high) == ("每亩", 200, 2000)
    assert individual.conduct == "农业投入品使用者为个人" and individual.fines[0].low == 200


def test_definitions_including_what_a_text_calls_a_group():
    terms = {d.term: d.text for d in clauses()["第二条"].article.definitions}
    assert set(terms) == {"河道", "河湖"}
    assert terms["河道"].startswith("第二条 本条例所称河道，是指")


def test_list_articles_keep_their_chapeau_and_items():
    facts = clauses()["第三条"].article
    assert facts.chapeau == "在河道管理范围内，禁止下列行为：" and len(facts.items) == 2
    assert facts.penalties == []  # a duty, not a penalty


def test_effective_date_and_repeals_complete_the_metadata():
    parsed = parse_law(META, RULE)
    article, date = document_effective(parsed)
    assert (article.ref, date) == ("第八条", dt.date(2021, 1, 1))
    meta = with_text_facts(META, parsed)
    assert meta.effective == dt.date(2021, 1, 1) and meta.repeals == ["某市河道管理办法"]
    old = DocMeta(id="old", title="某市河道管理办法")
    marked = {d.id: d for d in mark_repealed([meta, old])}
    assert (marked["old"].repealed_by, marked["old"].repealed_on) == ("rule", dt.date(2021, 1, 1))
    assert marked["rule"].repealed_by is None


def test_an_effective_date_given_in_the_metadata_is_kept():
    given = META.model_copy(update={"effective": dt.date(2020, 7, 1)})
    assert with_text_facts(given, parse_law(given, RULE)).effective == dt.date(2020, 7, 1)


def test_text_effective_from_promulgation_and_chinese_numerals():
    assert article_facts("第九条 本办法自公布之日起施行。").effective == "公布之日"
    parsed = parse_law(META, "第一条 总则。\n\n第二条 本条例自二〇二二年三月一日起施行。\n\n第三条 其他。\n")
    assert document_effective(parsed)[1] == dt.date(2022, 3, 1)
    parsed = parse_law(META, "第一条 总则。\n\n第二条 本条例自公布之日起施行。\n\n第三条 其他。\n")
    assert document_effective(parsed)[1] == META.issued


def test_a_bundled_law_cross_reference_and_chapeau_amount():
    """水污染防治法第八十三条: the amount is in the chapeau, each item is a conduct."""
    from kbase.settings import BUNDLED_CORPUS
    from kbase.store.sources import load_corpus
    meta, text = next((m, t) for m, t in load_corpus(BUNDLED_CORPUS) if m.id == "prc-water-pollution-law")
    article = {c.ref: c for c in parse_law(meta, text)}["第八十三条"].article
    assert len(article.items) == 4 and all(p.chapeau == article.chapeau for p in article.penalties)
    assert {f.text for p in article.penalties for f in p.fines} == {"十万元以上一百万元以下的罚款"}
    assert article.penalties[0].authority == "县级以上人民政府环境保护主管部门"


def test_each_fine_keeps_whom_it_is_for():
    """对单位处…，对个人处…: a citizen asking what a person pays must not be given the company's amount alone."""
    facts = article_facts("第三十八条 违反本条例第二十一条第三款规定，在禁止区域加工产生恶臭的物质，由环境保护行政主管部门责令改正，"
                          "对单位处一万元以上十万元以下的罚款，对个人处五百元以上二千元以下的罚款。")
    [penalty] = facts.penalties
    assert [(f.party, f.low, f.high) for f in penalty.fines] == [("单位", 10000, 100000), ("个人", 500, 2000)]
    [plain] = article_facts("第九条 违反本条例第三条规定的，处五万元以上十万元以下罚款。").penalties
    assert plain.fines[0].party is None


def test_detention_is_read_with_its_condition():
    facts = article_facts("第九条 有下列行为之一的，对其直接负责的主管人员，处十日以上十五日以下拘留；情节较轻的，"
                          "处五日以上十日以下拘留：\n（一）通过暗管排放污染物的；\n（二）篡改监测数据的。")
    first, second = facts.penalties
    assert (first.item, first.conduct, second.conduct) == ("（一）", "通过暗管排放污染物", "篡改监测数据")
    assert first.detention == ["处十日以上十五日以下拘留", "情节较轻的，处五日以上十日以下拘留"]


def test_a_penalty_naming_only_the_breached_provision_has_no_conduct_of_its_own():
    facts = article_facts("第九条 违反本条例第三条第一项规定的，由市水行政主管部门责令停止违法行为，处五万元以上十万元以下罚款。")
    [penalty] = facts.penalties
    assert penalty.conduct == "" and penalty.duty_item == "（一）" and facts.refers_to == ["第三条"]
    assert penalty.fines[0].text == "五万元以上十万元以下罚款"


def test_effective_date_stated_without_qi():
    assert article_facts("第四十条 本条例自2021年7月1日施行。").effective == "2021年7月1日"
