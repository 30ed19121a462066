"""Clause trees of both document styles, every quirk class of the plan text, refs and the task ledger."""
import datetime as dt

import pytest

from ingest.ledger import extract_tasks, find_deadlines, find_targets, parse_roles, role_blocks
from ingest.lexicon import canonical_unit, question_concepts, resolve_department, split_units, tokenize
from ingest.model import DocMeta
from ingest.plan import split_title
from ingest.structure import parse_document
from ingest.text import is_verbatim
from kbase.settings import BUNDLED_CORPUS
from kbase.store.sources import load_corpus

PLAN = DocMeta(id="p", title="测试方案", kind="plan")
LAW = DocMeta(id="l", title="测试法", kind="law")

MESSY_PLAN = """您当前的位置:首页
关于印发测试方案的通知
各县区人民政府:现印发给你们。

一、主要目标
到2025年,全市细颗粒物浓度改善目标为43微克/立方米。

二、重点任务
（一）空气治理行动
1．推进煤电结构优化升级2024年年底前关停整合落后燃煤小热电机组。(发展改革委牵头,市工业和信息化局、生态环境局参与)
2.加强重点河湖保护治理以惠济河为重点,建设一批工程。发展改革委工业和信息化局、生态环境局按职责分工负责,各县区政府负责落实)
(二)监管行动
1.全面提升监测监控能力实施全市乡镇空气站升级改造。(市生态环境局牵头,市公安局、财政局配合,示范区管委会,龙亭区、兰考县政府负责落)
三、保障措施
(一)强化组织领导。各级党委和政府必须坚决扛起政治责任。
相关文件:
    【下载DOC】 【关闭窗口】
"""

LAW_TEXT = """# 测试法

2018年10月26日 通过

<!-- INFO END -->

## 第一章 总则

第一条 为保护环境，制定本法。

第二条 有下列行为之一的，处十万元以上一百万元以下的罚款：

（一）未依法取得排污许可证排放大气污染物的；

（二）超标排放的。

依照本法第五十九条规定处罚。

### 第一节 特别规定

第三条 本法自2019年1月1日起施行。
"""


@pytest.fixture(scope="module")
def plan_clauses():
    return {c.ref: c for c in parse_document(PLAN, MESSY_PLAN)}


def test_plan_refs_follow_contracts(plan_clauses):
    assert list(plan_clauses) == ["序", "一", "二", "二(一)", "二(一)1", "二(一)2", "二(二)", "二(二)1", "三", "三(一)"]


def test_full_width_headings_and_run_together_titles(plan_clauses):
    assert plan_clauses["二(一)1"].title == "推进煤电结构优化升级"
    assert plan_clauses["二(一)2"].title == "加强重点河湖保护治理"
    assert plan_clauses["二(二)1"].title == "全面提升监测监控能力"
    assert plan_clauses["三(一)"].title == "强化组织领导"
    assert plan_clauses["二(一)1"].path == ["二、重点任务", "（一）空气治理行动", "1．推进煤电结构优化升级"]


def test_page_chrome_trimmed_and_text_verbatim(plan_clauses):
    assert "下载DOC" not in plan_clauses["三(一)"].text
    assert "您当前的位置" not in plan_clauses["序"].text
    for clause in plan_clauses.values():
        assert clause.text in MESSY_PLAN
        assert all(is_verbatim(s, MESSY_PLAN) for s in clause.sentences)


def test_roles_with_missing_and_unbalanced_brackets(plan_clauses):
    tasks = {t.ref: t for t in extract_tasks(list(plan_clauses.values()))}
    assert set(tasks) == {"二(一)1", "二(一)2", "二(二)1"}
    first = tasks["二(一)1"]
    assert first.lead == ["市发展改革委"] and first.support == ["市工业和信息化局", "市生态环境局"]
    second = tasks["二(一)2"]  # no opening bracket, departments run together
    assert second.shared == ["市发展改革委", "市工业和信息化局", "市生态环境局"]
    assert second.implement == ["各县区政府"]
    third = tasks["二(二)1"]  # "负责落)" truncated; 政府 shared by a list of places
    assert third.support == ["市公安局", "市财政局"]
    assert third.implement == ["示范区管委会", "龙亭区政府", "兰考县政府"]


def test_role_block_without_any_bracket():
    text = "16.开展常态化排查整治建立完善机制。发展改革委、资源规划局牵头,相关单位按职责分工负责,各县区政府负责落实"
    assert role_blocks(text) == ["发展改革委、资源规划局牵头,相关单位按职责分工负责,各县区政府负责落实"]
    roles = parse_roles(role_blocks(text)[0])
    assert roles["lead"] == ["市发展改革委", "市资源规划局"] and roles["shared"] == ["相关单位"]


def test_units_split_and_normalized():
    assert split_units("发展改革委工业和信息化局") == ["发展改革委", "工业和信息化局"]
    assert split_units("市政府办公室") == ["市政府办公室"]
    assert canonical_unit("市场监管局") == "市市场监管局"
    assert canonical_unit("开封黄河河务局") == "开封黄河河务局"
    assert canonical_unit("机关事务管理中心") == "市机关事务管理中心"
    assert resolve_department("发改委") == "市发展改革委"
    assert resolve_department("环保局") == "市生态环境局"
    assert resolve_department("文旅局") == "市文化广电旅游局"
    assert resolve_department("自然资源和规划局") == "市资源规划局"
    assert "生态环境局" in tokenize("生态环境局牵头哪些任务")


@pytest.mark.parametrize("sentence, date, kind", [
    ("2024年年底前关停整合落后机组。", dt.date(2024, 12, 31), "deadline"),
    ("2023年底前完工。", dt.date(2023, 12, 31), "deadline"),
    ("到2025年,建成4条示范段。", dt.date(2025, 12, 31), "deadline"),
    ("“十四五”期间完成湿地恢复面积1.19平方公里。", dt.date(2025, 12, 31), "deadline"),
    ("2025年6月底前完成验收。", dt.date(2025, 6, 30), "deadline"),
    ("2023年起,开封市不进入后20名。", dt.date(2023, 1, 1), "start"),
])
def test_deadlines_normalized(sentence, date, kind):
    found = find_deadlines([sentence])
    assert [(d.date, d.kind) for d in found] == [(date, kind)]


def test_baseline_period_is_not_a_deadline():
    found = find_deadlines(["到2025年,主要粮食作物农药使用量比“十三五”期间降低5%。"])
    assert [d.date for d in found] == [dt.date(2025, 12, 31)]


def test_targets_with_comparators():
    targets = find_targets(["到2025年,非化石能源消费占比提高到16%以上,可再生能源发电装机达到479万千瓦以上。",
                            "力争全市公路货物周转量占比较2022年下降10个百分点。",
                            "市建成区生活污水集中收集率不低于75%。"])
    by_value = {t.value: t for t in targets}
    assert by_value[16].metric == "非化石能源消费占比" and by_value[16].comparator == "提高到 以上"
    assert by_value[16].year == 2025 and by_value[479].unit == "万千瓦"
    assert by_value[10].comparator == "下降" and by_value[10].unit == "个百分点"
    assert by_value[75].comparator == "不低于"


def test_law_articles_items_and_cross_references():
    clauses = {c.ref: c for c in parse_document(LAW, LAW_TEXT)}
    assert list(clauses) == ["序", "第一条", "第二条", "第三条"]
    second = clauses["第二条"]
    assert "（二）超标排放的。" in second.text and "依照本法第五十九条" in second.text
    assert clauses["第三条"].path == ["第一章 总则", "第一节 特别规定", "第三条"]
    assert extract_tasks(list(clauses.values())) == []


def test_bundled_corpus_structure():
    counts = {}
    for meta, text in load_corpus(BUNDLED_CORPUS):
        clauses = parse_document(meta, text)
        counts[meta.id] = len(clauses)
        assert all(c.text in text for c in clauses)
        assert all(c.meta == meta for c in clauses)
    assert counts["prc-environmental-protection-law"] == 71  # 序 + 70 articles
    assert counts["prc-air-pollution-law"] == 130
    meta, text = load_corpus(BUNDLED_CORPUS)[0]
    tasks = {t.ref: t for t in extract_tasks(parse_document(meta, text))}
    assert len(tasks) == 19
    assert tasks["三(二)3"].lead == ["市发展改革委", "市交通运输局"]
    assert tasks["三(九)17"].support == ["市公安局", "市财政局", "市市场监管局"]
    assert tasks["三(六)12"].shared[-1] == "开封黄河河务局"
    assert [d.date.isoformat() for d in tasks["三(六)11"].deadlines][:3] == ["2023-12-31", "2024-12-31", "2025-12-31"]
    assert tasks["三(一)1"].deadlines[0].kind == "start"


@pytest.mark.parametrize("line, title", [
    ("推进黑臭水体治理把黑臭水体治理纳入河湖长制重点工作", "推进黑臭水体治理"),
    ("加强农业节水和面源污染防治50.74万亩高标准农田示范区建设为重点", "加强农业节水和面源污染防治"),
    ("强化责任落实主要领导是本行政区域第一责任人", "强化责任落实"),
    ("强化宣传引导。健全生态环境新闻发布机制", "强化宣传引导"),
    ("主要目标", "主要目标"),
])
def test_run_together_titles_split_where_the_body_begins(line, title):
    assert split_title(line)[0] == title


def test_places_after_a_measure_share_it_and_a_verb_before_the_number_measures_what_follows_it():
    targets = find_targets(["到2025年,市建成区(含祥符区)生活污水集中收集率不低于75%,兰考县、杞县不低于55%。",
                            "到2025年,全市新能源汽车产量超过10万辆,努力建成150亿级新能源车汽车产业集群。"])
    by_value = {t.value: t for t in targets}
    assert by_value[55].metric == "兰考县、杞县生活污水集中收集率"
    assert by_value[150].metric == "新能源车汽车产业集群" and by_value[150].unit == "亿级"


def test_framing_phrases_are_not_topics():
    words = [word for word, _ in question_concepts("开封到2025年新能源汽车能有多少辆，有个数没")]
    assert "新能源汽车" in words and not {"个数", "有个数没", "数没"} & set(words)
