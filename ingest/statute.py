"""What a law or regulation's articles say, as data: list items, penalties, cross-references, definitions, 施行 and 废止.

Pure functions over an article's text; every text field is a verbatim slice of it, so answers can quote them.
"""
from __future__ import annotations

import datetime as dt
import re

from ingest.model import ArticleFacts, Clause, Definition, DocMeta, Fine, Penalty
from ingest.text import CN_DIGITS, cn_to_int, plain_title, sentences

_CN = f"[{CN_DIGITS}]+"
ITEM = re.compile(rf"^\s*[（(]({_CN})[)）]")
_ARTICLE_HEAD = re.compile(rf"^第{_CN}条\s*")
_ARTICLE_REF = rf"第{_CN}条(?:第{_CN}款)?(?:第{_CN}项)?"
# "违反本条例第十六条规定" / "违反本法第二十条、第二十一条第二款规定": the duties a penalty enforces
_BREACH = re.compile(rf"违反本(?:法|条例|办法|规定|细则|决定)((?:{_ARTICLE_REF}[、和及或者，,]*)+)(?:的)?规定")
_ARTICLE_NO = re.compile(rf"第({_CN})条")
_ITEM_NO = re.compile(rf"^第{_CN}条(?:第{_CN}款)?第({_CN})项")
_AMOUNT = rf"[{CN_DIGITS}\d.]+[万亿]?元"
_FINE = re.compile(
    rf"(?:(?P<per>每[^，。；、\s]{{1,3}}?)(?:处以|处)?)?(?P<low>{_AMOUNT})(?:(?P<up>以上)(?P<high>{_AMOUNT})以下|(?P<bound>以上|以下))?的?罚款"
    rf"|(?P<times>(?:违法所得|货值金额|[^，。；\s]{{0,8}}?)[{CN_DIGITS}\d]+倍(?:以上[{CN_DIGITS}\d]+倍以下)?的?罚款)")
# "处十日以上十五日以下拘留；情节较轻的，处五日以上十日以下拘留": each with the condition printed before it
_DETENTION = re.compile(rf"(?:情节[^，。；：]{{1,6}}的[，,])?(?:处|并处)?(?:[{CN_DIGITS}\d]+日以上)?[{CN_DIGITS}\d]+日以下"
                        r"(?:的)?(?:行政)?拘留")
_PARTY = re.compile(r"^(?:并)?对([^，；。]{1,30}?)(?:可以)?(?:并)?处(?:以)?$")
_PUNISHES = re.compile(r"罚款|处分|拘留|没收|吊销|责令|予以处罚|追究刑事责任|处罚")
_AUTHORITY = re.compile(r"(?<![交经自理缘])由([^，。；：]{2,40}?)(?:(?:依照|依据|按照|根据)[^，。；：]{0,20}?|依法)?"
                        r"(?:责令|处以|处|给予|没收|予以|吊销|对|采取)")
_MEASURE = re.compile(r"(?<!自)责令[^，。；、：]{2,16}?(?=[，。；、：]|并|$)|没收[^，。；、：]{2,12}?(?=[，。；、：]|并|$)|"
                      r"吊销[^，。；、：]{2,14}?(?=[，。；、：]|$)|强制拆除|查封、扣押|行政拘留|给予[^，。；：]{0,4}处分|"
                      r"依法追究刑事责任|追究刑事责任|采取补救措施|恢复原状|赔偿损失|"
                      r"依照[^，。；：]{2,30}?(?:予以处罚|处罚|处理)")
_CONDUCT = re.compile(r"^(.{2,120}?)的(?:[，,；;：:。]|$)")
_DEFINED = re.compile(r"(?:本(?:法|条例|办法|规定|细则)(?:中)?|前款|前两款|本条)所称(?:的)?([^，,：:。；]{1,30}?)[，,]?(?:是指|指)")
_DEFINED_ITEM = re.compile(rf"^[（(]{_CN}[)）]([^，,：:。；]{{1,20}})[，,：:]?(?:是指|指)")
_NAMED = re.compile(r"[（(]以下(?:简称|统称)[“\"]?([^）)”\"]{1,12})[”\"]?[）)]")
_EFFECTIVE = re.compile(rf"本(?:法|条例|办法|规定|细则|决定|规则)(?:自)?((?:\d{{4}}|[{CN_DIGITS}]{{4}})年[\d{CN_DIGITS}]{{1,3}}月"
                        rf"[\d{CN_DIGITS}]{{1,3}}日|公布之日|发布之日|印发之日)起?施行")
_REPEALS = re.compile(r"《([^》]{2,60})》(?:[^。《]{0,30}?)同时废止")


def article_facts(text: str) -> ArticleFacts:
    """The facts of one article (its text starts with 第X条)."""
    paragraphs = [p.strip() for p in text.splitlines() if p.strip()]
    items = [p for p in paragraphs if ITEM.match(p)]
    first_item = paragraphs.index(items[0]) if items else 0
    chapeau = _ARTICLE_HEAD.sub("", paragraphs[first_item - 1]) if first_item else None
    breach = _breached(text)
    return ArticleFacts(chapeau=chapeau, items=items, refers_to=breach,
                        penalties=_penalties(paragraphs, chapeau, breach), definitions=_definitions(sentences(text)),
                        effective=_effective_text(text), repeals=_REPEALS.findall(text))


def _breached_item(text: str) -> str | None:
    """违反本条例第十五条第二项规定 -> （二）."""
    span = _BREACH.search(text)
    item = _ITEM_NO.match(span.group(1)) if span else None
    return f"（{item.group(1)}）" if item else None


def _breached(text: str) -> list[str]:
    refs = [f"第{n}条" for span in _BREACH.findall(text) for n in _ARTICLE_NO.findall(span)]
    return list(dict.fromkeys(refs))


def _penalties(paragraphs: list[str], chapeau: str | None, breach: list[str]) -> list[Penalty]:
    """One penalty per sentence that imposes one; items of a list article inherit what their chapeau imposes, and a
    sentence without its own authority (逾期不改正的，处…) inherits the one before it in its paragraph."""
    chapeau_punishes = bool(chapeau and _PUNISHES.search(chapeau))
    article_item = _breached_item("\n".join(paragraphs))
    found = []
    for number, paragraph in enumerate(paragraphs):
        if chapeau and paragraph.endswith(chapeau):
            continue
        marker = ITEM.match(paragraph)
        item = marker.group(0).strip() if marker else None
        in_list = item is not None and chapeau_punishes
        authority = _authority(chapeau) if in_list else None
        for sentence in sentences(paragraph):
            fines = _fines(sentence)
            detention = _DETENTION.findall(sentence) or (_DETENTION.findall(chapeau) if in_list else [])
            if not fines and not _PUNISHES.search(sentence) and not in_list:
                continue
            authority = _authority(sentence) or authority
            body = _ARTICLE_HEAD.sub("", ITEM.sub("", sentence)).strip()
            found.append(Penalty(
                text=sentence, item=item, paragraph=number, conduct=_conduct(body), authority=authority,
                measures=_measures(sentence) + (_measures(chapeau) if in_list else []),
                fines=fines or (_fines(chapeau) if in_list else []), detention=detention,
                chapeau=chapeau if in_list else None,
                refers_to=breach, duty_item=_breached_item(sentence) or article_item))
    return [p for p in found if p.fines or p.measures or p.detention]


def _fines(text: str) -> list[Fine]:
    fines = []
    for m in _FINE.finditer(text):
        party = _party(text[:m.start()])
        if m.group("times"):
            fines.append(Fine(text=m.group("times"), party=party))
            continue
        phrase = m.group(0)
        low = _yuan(m.group("low"))
        if m.group("up"):
            fines.append(Fine(text=phrase, low=low, high=_yuan(m.group("high")), per=m.group("per"), party=party))
        elif m.group("bound") == "以下":
            fines.append(Fine(text=phrase, high=low, per=m.group("per"), party=party))
        else:
            fines.append(Fine(text=phrase, low=low, high=None if m.group("bound") else low, per=m.group("per"),
                              party=party))
    return fines


def _party(before: str) -> str | None:
    """对单位处一万元…，对个人处五百元…: whom the fine that follows is for, said just before it in its clause."""
    clause = re.split(r"[，,；;。：:]", before)[-1]
    found = _PARTY.search(clause)
    return found.group(1) if found else None


def _yuan(amount: str) -> float | None:
    """十万元 -> 100000; 5万元 -> 50000."""
    number = re.sub(r"[,，\s]", "", amount).removesuffix("元")
    if not number:
        return None
    try:
        import cn2an
        return float(cn2an.cn2an(number.replace("〇", "零").replace("两", "二"), "smart"))
    except (ValueError, KeyError):
        return None


def _conduct(body: str) -> str:
    """What a penalty sentence punishes: the '…的' clause, without the breached article."""
    body = re.sub(rf"^违反本(?:法|条例|办法|规定|细则|决定)(?:(?:{_ARTICLE_REF})[、和及或者，,]*)*(?:的)?规定(?:的)?[，,]?", "",
                  body)
    body = re.sub(r"^有下列(?:行为|情形)之一的[，,]?", "", body)
    if not body or body.startswith("由"):
        return ""  # the conduct is the breached article's (违反本条例第三十一条第一项规定的，由…)
    match = _CONDUCT.match(body)
    return (match.group(1) if match else body.split("，")[0]).strip()


def _authority(text: str | None) -> str | None:
    match = _AUTHORITY.search(text or "")
    return match.group(1).strip() if match else None


def _measures(text: str | None) -> list[str]:
    return list(dict.fromkeys(m.group(0) for m in _MEASURE.finditer(text or "")))


def _definitions(said: list[str]) -> list[Definition]:
    found = []
    for sentence in said:
        for pattern in (_DEFINED, _DEFINED_ITEM, _NAMED):
            for term in pattern.findall(sentence):
                found.append(Definition(term=term.strip(), text=sentence))
    return found


def _effective_text(text: str) -> str | None:
    match = _EFFECTIVE.search(text)
    return match.group(1) if match else None


def document_effective(clauses: list[Clause]) -> tuple[Clause, dt.date] | None:
    """The article that says when the text takes effect, and that date."""
    for clause in reversed(clauses):  # 施行 is in the last articles
        if clause.article and clause.article.effective:
            date = effective_date(clause.article.effective, clause.meta.issued)
            if date:
                return clause, date
    return None


def with_text_facts(meta: DocMeta, clauses: list[Clause]) -> DocMeta:
    """A document's metadata completed from its own articles: the 施行 date when none was given, what it repeals."""
    found = document_effective(clauses)
    effective = meta.effective or (found[1] if found else None)
    repealed = list(dict.fromkeys(title for c in clauses if c.article for title in c.article.repeals))
    return meta.model_copy(update={"effective": effective, "repeals": repealed})


def mark_repealed(docs: list[DocMeta]) -> list[DocMeta]:
    """Documents that another document of the base repeals, marked with who repealed them and when."""
    by_title = {plain_title(d.title): d for d in docs}
    marks = {}
    for doc in docs:
        for title in doc.repeals:
            if (repealed := by_title.get(plain_title(title))) is not None and repealed.id != doc.id:
                marks[repealed.id] = {"repealed_by": doc.id, "repealed_on": doc.effective or doc.issued}
    return [d.model_copy(update=marks[d.id]) if d.id in marks else d for d in docs]


def effective_date(phrase: str | None, issued: dt.date | None) -> dt.date | None:
    """2017年7月1日 -> 2017-07-01; 自公布之日 -> the issue date."""
    if not phrase:
        return None
    if phrase.endswith("之日"):
        return issued
    year, month, day = re.findall(rf"[\d{CN_DIGITS}]+", phrase)[:3]
    digits = "".join(str("零一二三四五六七八九".index(c)) if c in "零一二三四五六七八九" else "0" if c == "〇" else c
                     for c in year)
    try:
        return dt.date(int(digits), cn_to_int(month), cn_to_int(day))
    except ValueError:
        return None
