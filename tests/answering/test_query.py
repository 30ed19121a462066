"""Reading a question (pure functions, no index): its kind, the datum it asks for, the documents it names."""
import pytest

from ingest.model import DocMeta
from kbase.answering.query import analyse, name_documents, title_place
from kbase.answering.slots import fills, other_data_asked, slot_of_words

EXHAUST = DocMeta(id="exhaust", title="漯河市机动车和非道路移动机械排气污染防治条例", kind="regulation")
RESERVOIR = DocMeta(id="reservoir", title="信阳市鲇鱼山水库饮用水水源保护条例", kind="regulation")
AIR_LAW = DocMeta(id="air", title="中华人民共和国大气污染防治法", kind="law")
CITY_WATER = DocMeta(id="city-water", title="信阳市城市饮用水水源保护条例", kind="regulation")


@pytest.mark.parametrize("question, kind", [
    ("化工园区改造啥时候得弄完", "deadline"),
    ("污染过的耕地有几成要能放心种粮", "target"),
    ("开封的水源地是哪几个地方", "general"),  # which ones, not how many
    ("法律上的渔业水体算个啥", "definition"),
    ("剩饭剩菜属于哪一类垃圾", "definition"),
])
def test_everyday_framing_sets_the_kind(question, kind):
    assert analyse(question).kind == kind


@pytest.mark.parametrize("question, slot, live", [
    ("环保局的举报电话是多少", "contact", False),
    ("开封今天的空气质量指数是多少", "number", True),
    ("今天能在城区放鞭炮吗", "permission", False),  # asks for a rule, not a reading
])
def test_a_phone_number_or_todays_reading_is_a_datum_of_its_own(question, slot, live):
    q = analyse(question)
    assert (slot_of_words(q.asking), q.live_data) == (slot, live)


@pytest.mark.parametrize("question, slot", [
    ("市生态环境局在哪办公", "place"), ("马家河污水处理厂在哪条路上", "place"),
    ("化工园区的设施要在哪年前配上", "date"), ("河湖的统一监督管理职责在哪个部门", "body"),
    ("在河里电鱼罚多少钱", "amount"), ("往河里倒垃圾会怎么处罚", "sanction"), ("绿化带是指什么", "definition"),
])
def test_what_a_question_asks_for_is_read_from_the_words_that_ask(question, slot):
    assert slot_of_words(analyse(question).asking) == slot


@pytest.mark.parametrize("slot, quote, filled", [
    ("amount", "处二万元以上二十万元以下的罚款", True), ("amount", "由生态环境主管部门责令改正", False),
    ("body", "市生态环境局牵头", True), ("date", "2025年年底前完成", True), ("date", "加强监督管理", False),
    ("contact", "举报电话12369", True), ("place", "位于城区东部", True), ("place", "加强道路扬尘治理", False),
    # a clause's own numbering is no datum: an item's "11.", an article's 第三十九条 or one it refers to
    ("number", "11.建设黄河流域美丽幸福河湖示范段", False), ("number", "建成4条省级、24条市级示范河湖", True),
    ("number", "第三十九条 本条例适用于市区", False), ("number", "违反本条例第十二条规定的", False),
    ("number", "湿地恢复面积1.19平方公里", True),
])
def test_a_quote_fills_a_slot_only_with_what_it_asks_for(slot, quote, filled):
    assert fills(slot, quote) == filled


@pytest.mark.parametrize("question, slot, others", [
    ("污水处理设施啥时候要全覆盖？是哪几个部门牵头的？", "date", ["body"]),
    ("示范段谁牵头，到2025年要建成几条", "body", ["number"]),
    ("拉渣土的车一路撒 罚多少 归谁管", "amount", ["body"]),
    # a second part asking leave, a sanction or a procedure is answered by the datum's clause, or is talk
    ("往河里倒垃圾违法吗？罚多少", "amount", []),
    ("会罚不，罚多少", "amount", []),
    ("这事哪个局牵头管嘞？中不中给说说", "body", []),
    ("黑臭水体治理谁牵头", "body", []),
])
def test_a_question_that_asks_two_things_asks_for_each_datum(question, slot, others):
    q = analyse(question)
    assert slot_of_words(q.asking) == slot
    assert other_data_asked(slot, q.asking) == others


def test_a_local_titles_site_is_a_place_not_its_topic():
    assert title_place(RESERVOIR.title) == ("信阳", "鲇鱼山水库")
    assert title_place(EXHAUST.title) == ("漯河", "")
    assert title_place("德州市湿地保护条例") == ("德州", "")  # 湿地 alone is what it protects, not where


def test_naming_a_city_keeps_the_topic_words_that_its_title_shares():
    q = analyse("漯河哪个部门统一监管机动车的排气污染")
    name_documents(q, [EXHAUST, RESERVOIR, AIR_LAW])
    assert q.named_docs == {"exhaust"}
    assert "机动车" in [c.word for c in q.concepts] and "漯河" not in [c.word for c in q.concepts]


@pytest.mark.parametrize("question, doc", [("大气法第十条是什么", "air"), ("尾气条例里的非道路移动机械是指什么", "exhaust")])
def test_a_short_or_everyday_name_finds_the_title(question, doc):
    q = analyse(question)
    name_documents(q, [EXHAUST, RESERVOIR, AIR_LAW])
    assert q.named_docs == {doc}


def test_a_title_without_its_citys_shi_is_still_that_citys():
    q = analyse("信阳城市饮用水水源保护条例哪天施行")  # 信阳 + 城市…, not a city called 信阳城
    name_documents(q, [AIR_LAW, CITY_WATER])
    assert q.named_docs == {"city-water"} and q.missing_text is None
