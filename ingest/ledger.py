"""The task ledger: for each numbered plan task, who leads, supports, shares and implements, by when, to what target."""
from __future__ import annotations

import datetime as dt
import re

from ingest.lexicon import canonical_unit, split_units
from ingest.model import Clause, Deadline, Target, Task

_ROLE_VERBS = {
    "牵头": "lead", "配合": "support", "参与": "support", "协助": "support",
    "按职责分工负责": "shared", "按职责分工落实": "shared", "负责落实": "implement", "负责落": "implement",
    "负责": "shared",
}
_VERB = re.compile("(" + "|".join(sorted(_ROLE_VERBS, key=len, reverse=True)) + ")$")
_ROLE_HINT = re.compile("牵头|配合|参与|协助|按职责分工|负责落")
_FILLER = re.compile(r"(?:等部门|等单位|等)$")


def role_blocks(text: str) -> list[str]:
    """The responsibility notes of a clause, one per paragraph that ends with one, brackets or not."""
    blocks = []
    for para in text.splitlines():
        para = para.strip().rstrip("。")
        if not para:
            continue
        tail_start = max(para.rfind("。"), para.rfind("("), para.rfind("（")) + 1
        tail = para[tail_start:].strip().rstrip(")）").strip()
        if _ROLE_HINT.search(tail):
            blocks.append(tail)
    return blocks


def parse_roles(block: str) -> dict[str, list[str]]:
    """'A牵头,B、C配合,D负责落实' -> {lead:[A], support:[B, C], implement:[D]}; units without a verb take the next one."""
    roles: dict[str, list[str]] = {"lead": [], "support": [], "shared": [], "implement": []}
    pending: list[str] = []
    for piece in re.split(r"[,，;；]", block):
        piece = piece.strip()
        verb = _VERB.search(piece)
        names = piece[: verb.start()] if verb else piece
        pending += [n for n in (_FILLER.sub("", x.strip()) for x in names.split("、")) if n]
        if verb:
            roles[_ROLE_VERBS[verb.group(1)]] += _units(pending)
            pending = []
    for role, units in roles.items():
        roles[role] = list(dict.fromkeys(units))
    roles["shared"] = [u for u in roles["shared"] if u not in roles["lead"]]
    return roles


def _units(names: list[str]) -> list[str]:
    units = [u for name in names for u in split_units(name)]
    # "龙亭区、祥符区、兰考县政府": the closing 政府 belongs to every place in the list.
    if units and units[-1].endswith("政府"):
        units = [u + "政府" if re.search(r"[县区市]$", u) else u for u in units]
    return [canonical_unit(u) for u in units]


_END_OF_YEAR = re.compile(r"(\d{4})\s*年(?:\s*年)?底(?:前|之前)?|(\d{4})\s*年(?:前|以前)")
_BY_YEAR = re.compile(r"(?:到|至|截至)\s*(\d{4})\s*年(?:底|末)?")
_MONTH = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?(?:底)?前")
# "比“十三五”期间降低5%" names a baseline, not a deadline
_FIVE_YEAR = re.compile(r"(?<![比较])(?<![比较][“\"])[“\"]?(十[一二三四五六七八九])五[”\"]?(?:期间|末|时期)")
_START = re.compile(r"(?:自|从)?\s*(\d{4})\s*年\s*起")
_PLAN_ENDS = {"十三": 2020, "十四": 2025, "十五": 2030}
_WHAT_END = re.compile(r"[。；;]")
_COMPLETION = re.compile(r"^(?:完工|完成|建成|投运|投用|竣工|到位|达标)")


def _time_phrases(sentence: str):
    """(start, end, date, kind) of every time phrase in a sentence."""
    hits = []
    for m in _MONTH.finditer(sentence):
        year, month, day = int(m.group(1)), int(m.group(2)), m.group(3)
        last = int(day) if day else (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        hits.append((m.start(), m.end(), dt.date(year, month, last), "deadline"))
    for pattern in (_END_OF_YEAR, _BY_YEAR):
        for m in pattern.finditer(sentence):
            year = int(next(g for g in m.groups() if g))
            hits.append((m.start(), m.end(), dt.date(year, 12, 31), "deadline"))
    for m in _FIVE_YEAR.finditer(sentence):
        prefix = m.group(1)[:2]
        if prefix in _PLAN_ENDS:
            hits.append((m.start(), m.end(), dt.date(_PLAN_ENDS[prefix], 12, 31), "deadline"))
    for m in _START.finditer(sentence):
        hits.append((m.start(), m.end(), dt.date(int(m.group(1)), 1, 1), "start"))
    hits.sort()
    kept = []
    for hit in hits:  # overlapping matches: the first, longest wins
        if kept and hit[0] < kept[-1][1]:
            continue
        kept.append(hit)
    return kept


def find_deadlines(sentences: list[str]) -> list[Deadline]:
    found = []
    for sentence in sentences:
        phrases = _time_phrases(sentence)
        for i, (start, end, date, kind) in enumerate(phrases):
            stop = phrases[i + 1][0] if i + 1 < len(phrases) else len(sentence)
            what = _WHAT_END.split(sentence[end:stop])[0].strip(" ,，、:：")
            if _COMPLETION.match(what) or len(what) < 6:  # "…专用线建设,2023年底前完工": the object precedes the date
                before = re.split(r"[。；;,，]", sentence[:start].rstrip(" ,，"))[-1].strip()
                before = re.sub(r"^\d+[.．、]", "", before)
                if before and not _time_phrases(before):
                    what = (before + "，" + what).strip("，")
            found.append(Deadline(date=date, text=sentence[start:end].strip(), what=what, kind=kind))
    return found


_UNITS = (r"微克/立方米|毫克/升|个百分点|万千瓦|万平方米|平方公里|万亩|万辆|亿级|亿元|万元|亿|%|倍|条|个|座|家|辆|吨|公里|天")
_NUMBER = rf"(\d+(?:\.\d+)?)\s*({_UNITS})"
_BEFORE = re.compile(r"(不低于|不高于|不少于|不超过|超过|低于|高于|达到|提高到|提高|提升到|到达|下降|降低|降至|控制在|减少|为|占比)\s*$")
_AFTER = re.compile(r"^\s*(以上|以下|以内|左右)")
_THRESHOLD = re.compile(r"^\s*及(?:以上|以下)")  # "30万千瓦及以上机组" qualifies a thing, sets no goal
_BASELINE = re.compile(r"(?:较|比)(?:\d{4}\s*年|[“\"]?十[一二三四五六七八九]五[”\"]?期间)$")
_GOAL_YEAR = re.compile(r"(?<![较比在])(?:到|至)?\s*(\d{4})\s*年(?!\s*基础)")
# a verb that makes what follows the number the thing measured: 努力建成150亿级新能源汽车产业集群
_ACTION = re.compile(r"(?:努力|力争|确保|争取|基本|全面)?(?:建成|建设|打造|形成|培育|实现|完成|新增|创建)")
_METRIC_CUT = re.compile(r"[,，;；。:：]|(?<![较比在])(?:到|至)?\d{4}\s*年(?:\s*年底|底)?(?:前|起)?")


def find_targets(sentences: list[str]) -> list[Target]:
    """Numbers with a unit that a sentence sets as a goal, with the metric they measure."""
    targets = []
    year_hint = None  # "到2025年,…。…60%考核断面…": a goal year carries over to the next sentences
    for sentence in sentences:
        for m in re.finditer(_NUMBER, sentence):
            value, unit = float(m.group(1)), m.group(2)
            head = sentence[: m.start()]
            before = _BEFORE.search(head)
            after = _AFTER.match(sentence[m.end():])
            years = _GOAL_YEAR.findall(head)
            year_hint = int(years[-1]) if years else year_hint
            if unit == "天" or _THRESHOLD.match(sentence[m.end():]) or (year_hint is None and not before and not after):
                continue
            comparator = " ".join(x for x in ((before.group(1) if before else None), (after.group(1) if after else None)) if x and x != "为") or None
            metric_zone = head[: before.start()] if before else head
            metric = _METRIC_CUT.split(metric_zone)[-1].strip(" 的") if metric_zone else ""
            metric = _BASELINE.sub("", metric)
            if not metric or _ACTION.fullmatch(metric):  # "60%考核断面…", "努力建成150亿级…集群": it follows the number
                metric = re.split(r"[,，;；。]", sentence[m.end():])[0].lstrip("以上下内").strip()
            elif metric.endswith("基础上") and targets and targets[-1].text == sentence.strip():
                metric = targets[-1].metric  # "或在2020年基础上提高5个百分点": the same measure, relative
            elif re.search(r"[县区市]$", metric) and targets and targets[-1].text == sentence.strip():
                # "收集率不低于75%,兰考县、尉氏县不低于55%": places listed after a measure share it
                metric += re.split(r"[)）的]", targets[-1].metric)[-1]
            targets.append(Target(metric=metric, value=value, unit=unit, year=year_hint, comparator=comparator,
                                  text=sentence.strip()))
    return targets


def extract_tasks(clauses: list[Clause]) -> list[Task]:
    """One Task per numbered task (third-level clause) of every plan."""
    tasks = []
    for clause in clauses:
        if clause.meta.is_statute or clause.level != 3 or not clause.ref[-1:].isdigit():
            continue
        roles: dict[str, list[str]] = {"lead": [], "support": [], "shared": [], "implement": []}
        for block in role_blocks(clause.text):
            for role, units in parse_roles(block).items():
                roles[role] += [u for u in units if u not in roles[role]]
        roles["shared"] = [u for u in roles["shared"] if u not in roles["lead"]]
        body = [s for s in clause.sentences if not _ROLE_HINT.search(s) or len(s) > 80]
        tasks.append(Task(doc=clause.doc, ref=clause.ref, title=clause.title or clause.heading, **roles,
                          deadlines=find_deadlines(body), targets=find_targets(body)))
    return tasks
