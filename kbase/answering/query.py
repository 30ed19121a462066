"""Question in, analysed question out: cleaned text, kind, departments, years, document hints, typed refs."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache

import opencc

from ingest.lexicon import (
    alternatives,
    english_concepts,
    find_departments,
    glossary,
    places,
    question_concepts,
    question_words,
    tokenize,
    word_class,
)
from ingest.text import CN_DIGITS, int_to_cn, plain_title

_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_INJECTION = re.compile(
    r"(忽略|无视|忘记|不要理会|绕过).{0,12}(指令|指示|提示|规则|知识库|设定|要求|以上|之前|上面)|系统提示|提示词|system\s*prompt|"
    r"ignore\s+(all|any|the|previous|above)|disregard\s+(all|previous|the)|you\s+are\s+now|jailbreak|扮演|角色扮演", re.I)

_ROLE_WORDS = {
    "support": re.compile(r"配合|协助|支持单位|协办|support|assist", re.I),
    "any": re.compile(r"参与|涉及|有关"),
    "implement": re.compile(r"负责落实|落实单位|哪些县区|哪个县"),
    "shared": re.compile(r"按职责分工|共同负责"),
    "lead": re.compile(r"牵头|主责|谁负责|由谁|(哪个|哪些)(部门|单位)|责任单位|负责单位|主管|谁来管|谁管|"
                       r"who (leads|is responsible|is in charge)|which (department|agency)|responsible", re.I),
}
_AGGREGATE = re.compile(r"哪些(任务|工作|事项|事情|事)|(什么|几项|多少项)(任务|工作)|要完成(什么|哪些)|有哪些任务|全部任务|"
                        r"所有任务|列出|任务(有哪些|是哪些|清单|列表)|(负责|牵头|参与|配合|承担|干)(了)?(什么|哪些)(工作|任务|事)?[?？]?$|"
                        r"which tasks|what tasks|list (the |all )?tasks", re.I)
_DEADLINE = re.compile(r"什么时候|啥时候|啥时|多会儿|几时|何时|哪年|哪一年|几月|几号|哪天|哪一天|最晚|最迟|时间表|期限|截止|到期|多久|完工|时间节点|时限|deadline|when|by when", re.I)
_TARGET = re.compile(r"多少|目标|比例|比率|占比|几成|达到|降到|提高到|多大|规模|(?<!哪)几个|几条|百分之|指标|how (much|many)|share|rate|target|percent", re.I)
_PENALTY = re.compile(r"罚|处分|拘留|没收|吊销|法律责任|追究|(会|要|将)(被|受到)?(怎么|怎样|如何)(处理|处置|处罚)|什么(后果|处罚)|"
                      r"penalt|fine[ds]?\b|punish", re.I)
_DEFINITION = re.compile(r"是指|指的是|指什么|指啥|什么是|何为|何谓|的定义|的含义|什么意思|啥意思|是啥|算不算|算什么|算啥|算个啥|是个啥|啥东西|什么东西|界定|(?:属于|算|归)哪一?类|"
                         r"what (is|are|does) .* mean|definition|defined", re.I)
_WHEN = r"(什么时候|何时|哪天|哪一天|哪年|几号|哪个时候|从哪天|从什么时候|啥时候|多会儿|什么日子)"
# 施行/生效 is always about a text taking effect; 实施/执行 only when the question names a text (not a task)
# "多少分贝", "几天", "多少钱": a quantity asked for in a unit the answer must name (钱 is counted in 元); "那几天"
# and "这几年" point at days, they ask for none
_ASKED_UNIT = re.compile(r"(?:多少|(?<![那这前后头近])几)(?:个)?(分贝|米|厘米|毫米|元|块钱|钱|万元|吨|天|日|小时|分钟|公里|亩|辆|年)")
# a reading (今天的空气质量指数是多少, 去年实际测出来是多少): a measurement, never in a text
_LIVE_DATA = re.compile(r"(今天|今日|昨天|明天|实时|此刻|这会儿|当前)[^，。？?]{0,12}(指数|浓度|空气质量|天气|AQI|aqi|PM|pm|温度|多少|几级|咋样|怎么样)|"
                        r"(实际|实测|测出来|测出|测得|监测到)[^，。？?]{0,10}(指数|浓度|多少|几级|数值)")
_UNIT_SAID = {"钱": "元", "块钱": "元", "万元": "元", "日": "日", "天": "日"}
_TAKES_EFFECT = re.compile(rf"{_WHEN}[^，。？?]{{0,8}}(施行|生效|起效)|(施行|生效)(于|是)?{_WHEN}|(施行|生效)(的)?(日期|时间)|"
                           r"take effect|took effect|in force|effective", re.I)
_STARTS_APPLYING = re.compile(rf"{_WHEN}[^，。？?]{{0,8}}(实施|实行|执行|开始)|(实施|实行)(的)?(日期|时间)")
_TEXT_WORD = re.compile(r"(?<![违方办执守合依想做说看用])法(?!规)|条例|办法|规定|决定|细则|文件|政策")
_LAW = re.compile(r"法律|(?<![违方办执守合依想做说看用])法(?!规)|罚|法律责任|条款|第.{1,5}条|施行|条例")
_PLAN_HINT = re.compile(r"方案|我市|全市|行动|任务|县区")
_HOME_CITY = re.compile("|".join([*places()["home"], *places()["home_short"], *places()["our_city"]]))
# a name that can only be a text's: 《…》 or a city's 条例 / 办法 (not "法律有规定吗")
_NAMES_A_TEXT = re.compile(r"^.{2,4}?[省市县].{2,}(?:条例|办法|规定)$")
# 信阳市鲇鱼山水库饮用水水源保护条例 -> 信阳, 鲇鱼山水库: the city a local text applies in, and the site it protects
_TITLE_PLACE = re.compile(r"^(.{2,4}?)(?:省|市|县)(.*?)(?=城市|饮用水|水源|河湖|建设|扬尘|大气|水污染|噪声|固体|土壤|环境|生态|"
                          r"保护|管理|防治|条例|办法|规定|$)")
_PLACE_NAME = re.compile(r"^.+(?:山|水库|湖|河|渠|池|泉|湿地|公园|景区|保护区|园区|开发区|新区|港|岛|林场)$")  # 湿地 alone: a topic
_PARTS = re.compile(r"[，,。？?！!；;：:、\s]+")
_ASKS = re.compile(r"吗|呢|么|多少|几(?:[时号月年天成级种类条项次倍棵辆吨岁]|个[局部单任方地])|啥|什么|怎么|怎样|如何|咋|谁|哪|"
                   r"是否|是不是|多[粗大高长宽深远久重]|能不能|可不可以|行不行|中不中|有没有|[罚行中能]不$|没$")  # 几个同学 tells, 几年 asks
_OVERDUE = re.compile(r"逾期|已经?到期|过期|超期|没完成|未完成")
_HISTORY = re.compile(r"(修正|修订|修改|废止|取代)(前|之前|以前)|旧版|原版|老版|之前的版本|历史版本|上一版")
# about the document itself: when or by whom it was issued
_ISSUANCE = re.compile(r"(什么时候|何时|哪天|哪年|哪一年|什么时间)(印发|发布|出台|发文)|(印发|发布|出台|发文)(时间|日期|单位|机关|部门)|"
                       r"(谁|哪个(部门|单位|机关))(印发|发布|出台)|(印发|发布|出台)的?[?？]?$")
_YEAR = re.compile(r"(20\d{2})\s*年?")
_SHORT_YEAR = re.compile(r"(?<![\d.])(1[5-9]|2\d|3[0-5])年(?![代内来])")
_CN_DIGIT_VALUES = {d: str(n) for n, d in enumerate("零一二三四五六七八九")} | {"〇": "0"}
_CN_SHORT_YEAR = re.compile(r"(?<![一二三四五六七八九十百千〇零])二([〇零一二三四五六七八九])年(?![代内来])")
_PLAN_REF = re.compile(rf"([{CN_DIGITS}]{{1,3}})\s*[(（]\s*([{CN_DIGITS}]{{1,3}})\s*[)）]\s*(\d{{1,2}})?")
_TASK_NO = re.compile(r"任务\s*(\d{1,2})(?!\d)|第\s*(\d{1,2})\s*(?:项|条任务|个任务|号任务)")
_ARTICLE = re.compile(rf"第([{CN_DIGITS}\d]{{1,6}})条")
_FOLLOW_UP = re.compile(r"^(那|那么|它|它们|这个|这项|该|其|此|上述|还有|另外)|呢[?？]?$")

@lru_cache(maxsize=1024)  # asked of the same few titles for every clause of every search
def title_place(title: str) -> tuple[str, str] | None:
    """(city, site) of a local text's title, the site empty unless it names a place (鲇鱼山水库, not 机动车和非道路移动
    机械排气污染); None for a national one."""
    match = _TITLE_PLACE.match(title)
    if not match:
        return None
    site = match.group(2)
    return match.group(1), site if _PLACE_NAME.search(site) else ""


def elsewhere(title: str, doc: str, q: Query) -> str | None:
    """The city of another city's text that the question does not name (its rules apply there only), else None."""
    place = title_place(title)
    if place is None or is_home(title) or doc in q.named_docs:
        return None
    return place[0]


def is_home(title: str) -> bool:
    """A text of the city the knowledge base serves."""
    place = title_place(title)
    return place is not None and bool(_HOME_CITY.search(place[0]))


@cache
def _cities() -> tuple[re.Pattern, dict[str, str]]:
    """One pattern for the other cities' Chinese and English names, and English name -> Chinese."""
    names = places()["other_cities"]
    english = {name.lower(): city for city, name in names.items()}
    alternation = "|".join(sorted([*names, *(re.escape(n) for n in english)], key=len, reverse=True))
    return re.compile(rf"({alternation})", re.I), english


def other_city(text: str) -> str | None:
    """Another city the question names (郑州, Zhengzhou), in Chinese; a generic 城市/全市 never counts."""
    pattern, english = _cities()
    match = pattern.search(text)
    return english.get(match.group(1).lower(), match.group(1)) if match else None


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def clean(question: str, max_chars: int) -> tuple[str, str | None]:
    """(cleaned question, problem) — problem is a Chinese message when the input cannot be used."""
    text = unicodedata.normalize("NFKC", question or "")
    text = _CONTROL.sub(" ", _INVISIBLE.sub("", text))
    text = re.sub(r"<[^>]{0,200}>", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return "", "请输入问题，例如：开封市2025年PM2.5目标是多少？"
    if len(text) > max_chars:
        return text[:max_chars], f"问题太长（{len(text)}字），请精简到{max_chars}字以内再问。"
    if not re.search(r"[\u4e00-\u9fffA-Za-z]", text):
        return text, "没有看懂这个问题，请用中文描述您想了解的政策内容。"
    return _t2s().convert(text), None


@dataclass(frozen=True)
class Concept:
    """A topic word of a question and the forms that count as finding it in a text."""

    word: str
    forms: tuple[str, ...]  # the word, its synonyms and the official terms for it
    parts: tuple[tuple[str, ...], ...] = ()  # forms of its shorter words: partial credit when no form is found

    @classmethod
    def of(cls, word: str, parts: list[str] = ()) -> Concept:
        # only shorter words the vocabulary knows stand in for a word (偷偷排: 偷排); 养老 says nothing of 养老金
        known = [forms for forms in (tuple(alternatives(p)) for p in parts) if len(forms) > 1]
        return cls(word, tuple(alternatives(word)), tuple(known))


@dataclass
class Query:
    text: str
    kind: str = "general"
    role: str | None = None
    departments: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # the words that name the question's topic
    expanded: list[str] = field(default_factory=list)  # more words to search for: synonyms and official terms
    concepts: list[Concept] = field(default_factory=list)  # what relevance is measured on
    plan_ref: str | None = None
    task_no: int | None = None
    article: str | None = None
    law_hint: bool = False
    plan_hint: bool = False
    home_city: bool = False  # names the city the knowledge base is about
    asked_unit: str | None = None  # 多少分贝 / 几天 / 多少钱: the unit the answer's number must be in
    asking: list[str] = field(default_factory=list)  # the parts that ask (罚多少啊), not the story before them
    live_data: bool = False  # today's reading of a measurement, which no text holds
    doc_titles: list[str] = field(default_factory=list)  # words ending in 法/条例/方案… that may name a document
    named_docs: set[str] = field(default_factory=set)
    repealed: tuple[str, str] | None = None  # (repealing document, title) of a text the question names that is repealed
    missing_text: str | None = None  # a text the question names that the knowledge base does not hold
    other_city: str | None = None
    injection: bool = False
    english: bool = False
    follow_up: bool = False
    overdue: bool = False
    history: bool = False  # asks about a superseded version ("修正前", "旧版")
    slot: str | None = None  # what it asks for: an amount, a body, a date … (answering.slots)
    slot_confidence: float = 0.0
    other_slots: list[str] = field(default_factory=list)  # the other data it asks for (啥时候完成？谁牵头？)


def _expand(tokens: list[str], text: str) -> list[str]:
    """Words to search for besides the question's: glossary groups it mentions (English phrases too), official terms."""
    extra = []
    lowered = text.lower()
    for group in glossary()["synonyms"]:
        if any(word.lower() in lowered for word in group):
            extra += [w.lower() for w in group]
    extra += [alt for token in tokens for alt in alternatives(token)]
    return [t for t in dict.fromkeys(extra) if t not in tokens]


def name_documents(q: Query, docs) -> None:
    """Resolve 'X法' words against the documents' titles (a named document's own title words stop counting), and
    another city named in the question against the city a document's title starts with (平顶山 -> 平顶山市…条例).
    A name that is none of them is kept: a text repealed by one of them, or one the knowledge base does not hold."""
    docs = list(docs)
    by_title: set[str] = set()
    for word in q.doc_titles:
        repealed = next(((doc.id, title) for doc in docs for title in doc.repeals if plain_title(title) in word), None)
        # 环境噪声污染防治法 is the repealed text, though the title of the law repealing it (噪声污染防治法) is in it too
        if repealed and not any(len(plain_title(doc.title)) >= len(plain_title(repealed[1]))
                                and plain_title(doc.title) in word for doc in docs):
            q.repealed = repealed
            continue
        named = _resolve(word, docs)
        if named:
            by_title |= named
        elif _NAMES_A_TEXT.search(word) or f"《{word}》" in q.text:
            q.missing_text = word
    if by_title:
        titles = [doc.title for doc in docs if doc.id in by_title]
        title_words = {t for title in titles for t in tokenize(title)}
        q.tokens = [t for t in q.tokens if t not in title_words] or q.tokens
        q.concepts = [c for c in q.concepts if not any(c.word in title for title in titles)] or q.concepts
    for doc in docs:
        place = title_place(doc.title)
        if place is None or is_home(doc.title):
            continue
        city, site = place
        # the city, or three characters of the site (鲇鱼山): a two-character site (河道) is too common a word
        named = [f"{city}市", city] if city in q.text else []  # 新乡市 as much as 新乡
        named += [site[i:i + 3] for i in range(len(site) - 2) if site[i:i + 3] in q.text]
        if named:
            q.named_docs.add(doc.id)
            q.concepts = [c for c in q.concepts if not any(c.word in name for name in named)] or q.concepts
    q.named_docs |= by_title


def _resolve(word: str, docs: list) -> set[str]:
    """Documents whose title holds the longest tail of a 'X法' word (土壤污染防治法, not just 污染防治法); a word that
    starts with a city names only that city's texts."""
    place = title_place(word)
    if place is not None:  # 开封市烟花爆竹管理条例 is not 开封市河湖保护管理条例: all of it after the city must match
        # 开封城市饮用水…条例 drops the city's 市: its 城市 is the title's, not a city 开封城
        cities = [place[0]] + ([place[0][:-1]] if place[0].endswith("城") else [])
        for city in cities:
            rest = word[len(city) + (city == place[0]):]
            named = {doc.id for doc in docs if (title_place(doc.title) or ("",))[0] == city and rest in doc.title}
            if named:
                return named
        return set()
    for tail in (word[i:] for i in range(len(word) - 3)):
        named = {doc.id for doc in docs if tail in doc.title}
        if named:
            return named
    for shortened in _shortened_titles(word):
        named = {doc.id for doc in docs if shortened.search(doc.title)}
        if named:
            return named
    return set()


def _shortened_titles(word: str) -> list[re.Pattern]:
    """How a title's short name finds it (环保法 -> 环境保护法, 大气法 -> 大气污染防治法, 河湖条例 -> 河湖保护管理条例, and
    in everyday words 尾气条例 -> 排气污染防治条例): the name's characters in order, a few apart, then the kind of text
    it is; a name of under two characters before the kind (水法, a law of its own) says too little."""
    m = re.fullmatch(r"(.+?)(法|条例|办法|规定|方案)", word)
    if not m or len(m.group(1)) < 2:
        return []
    return [re.compile(".{0,2}".join(map(re.escape, name)) + ".{0,6}" + m.group(2) + "$")
            for name in dict.fromkeys([m.group(1), *alternatives(m.group(1))]) if len(name) >= 2]


_LOCATIVE = re.compile(r"(?:边|旁|里|上|下|内|外|前|后|中|口|头)$")


def _situated(concepts: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """Place words (池边, 楼下, 坝上: jieba's class s) stand for the place without its 边/下/上; a place of one
    character the vocabulary does not know (池) is only context and names no topic."""
    kept = []
    for word, parts in concepts:
        if word_class(word) == "s" and len(alternatives(word)) == 1:
            word = _LOCATIVE.sub("", word)
            if len(word) < 2 and len(alternatives(word)) == 1:
                continue
        kept.append((word, parts))
    return kept


def _full_years(text: str) -> str:
    """到25年 / 二五年 -> 到2025年: people drop the century."""
    text = _SHORT_YEAR.sub(lambda m: f"20{m.group(1)}年", text)
    return _CN_SHORT_YEAR.sub(lambda m: f"202{_CN_DIGIT_VALUES[m.group(1)]}年", text)


def analyse(text: str) -> Query:
    text = _full_years(text)
    q = Query(text=text)
    q.injection = bool(_INJECTION.search(text))
    q.english = not re.search(r"[\u4e00-\u9fff]", text)
    q.departments = find_departments(text)
    q.years = [int(y) for y in _YEAR.findall(text) if 2000 <= int(y) <= 2100]
    q.tokens = question_words(text)
    q.expanded = _expand(q.tokens, text)
    q.concepts = [Concept.of(word, parts) for word, parts in _situated(question_concepts(text))]
    if q.english:  # English words never match the Chinese texts: search on the glossary's Chinese terms
        q.tokens = [t for t in q.expanded if re.search(r"[\u4e00-\u9fff]", t)] + [t for t in q.tokens if t.isdigit()]
        q.expanded = []
        q.concepts = [Concept.of(word, parts) for word, parts in english_concepts(text)]
    q.law_hint = bool(_LAW.search(text))
    q.plan_hint = bool(_PLAN_HINT.search(text))
    q.home_city = bool(_HOME_CITY.search(text))
    q.asking = asking_parts(text)
    q.live_data = bool(_LIVE_DATA.search(text))
    if unit := _ASKED_UNIT.search(text):
        q.asked_unit = _UNIT_SAID.get(unit.group(1), unit.group(1))
    q.doc_titles = re.findall(r"《([^》]{2,40})》", text) + re.findall(
        r"[\u4e00-\u9fa5]{2,20}?(?:(?<!违)法|条例|办法|规定|方案)", text)
    q.overdue = bool(_OVERDUE.search(text))
    q.history = bool(_HISTORY.search(text))
    q.follow_up = bool(_FOLLOW_UP.search(text)) and len(text) <= 20
    q.other_city = other_city(text)
    if m := _PLAN_REF.search(text):
        q.plan_ref = f"{m.group(1)}({m.group(2)}){m.group(3) or ''}"
    elif m := _TASK_NO.search(text):
        q.task_no = int(m.group(1) or m.group(2))
    if m := _ARTICLE.search(text):
        q.article = f"第{m.group(1)}条" if not m.group(1).isdigit() else f"第{int_to_cn(int(m.group(1)))}条"
    for role, pattern in _ROLE_WORDS.items():
        if pattern.search(text):
            q.role = role
            break
    q.kind = _kind(q, text)
    return q


def asking_parts(text: str) -> list[str]:
    """The parts of a question that ask, split at its punctuation and spaces (俺是退休老头 天天早上去公园遛弯 …
    到2025年要降到多少): those holding a question word, else the last."""
    parts = [p for p in _PARTS.split(text) if p]
    return [p for p in parts if _ASKS.search(p)] or parts[-1:]


def _kind(q: Query, text: str) -> str:
    if _ISSUANCE.search(text):
        return "issuance"
    if _TAKES_EFFECT.search(text) or (_STARTS_APPLYING.search(text) and _TEXT_WORD.search(text)):
        return "effective"
    if _AGGREGATE.search(text) and (q.departments or q.years or q.overdue or "任务" in text):
        return "aggregate"
    if _PENALTY.search(text):
        return "penalty"
    if _DEFINITION.search(text):
        return "definition"
    if q.role:
        return "responsibility"
    if q.law_hint and not q.plan_hint:
        return "law"
    if _DEADLINE.search(text):
        return "deadline"
    if _TARGET.search(text):
        return "target"
    return "general"
