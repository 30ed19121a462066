"""Department names, aliases and policy terms (data in ingest/data), and the jieba tokenizer built on them."""
from __future__ import annotations

import json
import logging
import re
from functools import cache
from pathlib import Path

import jieba

from ingest.dictionary_cache import PrefixDictionary, dictionary_classes, make_tokenizer

DATA_DIR = Path(__file__).resolve().parent / "data"
# Suffixes that end the name of a responsible unit; a run-together list splits after them.
UNIT_SUFFIX = r"(?:委员会|管委会|政府|中心|专班|公司|车站|局|委(?!会|员)|办公室|办|厅|院)"
_PLACE_QUALIFIED = re.compile(r"^(?:中国|国家|省|河南|开封|黄河|各|相关)|[县区]|(?<!城)市(?!场)")
_STOPWORDS = frozenset("的 了 和 与 及 或 是 在 对 为 要 有 把 被 将 等 之 其 以 于 由 什么 哪些 哪个 多少 怎么 如何 吗 呢 啊 吧 谁 "
                       "请问 一下 时候 怎样 怎么样 哪里 降到 降至 升到 要求 规定 内容 情况 是什么 什么样 哪个 部门 包括 方面 几个 哪几个 哪几 请用 英文 中文 回答 告诉 解释 说明 介绍 , 。 、 ; : ? ! ( ) “ ” ‘ ’ 《 》 \" ' - — ？ ！ ， ： ； （ ） 【 】".split())


@cache
def _units() -> list[dict]:
    return json.loads((DATA_DIR / "departments.json").read_text(encoding="utf-8"))["units"]


@cache
def glossary() -> dict:
    return json.loads((DATA_DIR / "glossary.json").read_text(encoding="utf-8"))


@cache
def everyday() -> dict:
    """{"words": everyday word -> official terms, "frame": words that frame a question but name no topic}."""
    return json.loads((DATA_DIR / "everyday.json").read_text(encoding="utf-8"))


@cache
def places() -> dict:
    """{"home": …, "other_cities": {中文: English}, "home_waters": [the home city's named waters]}."""
    return json.loads((DATA_DIR / "places.json").read_text(encoding="utf-8"))


@cache
def alias_table() -> dict[str, str]:
    """Every spelling -> the canonical unit name."""
    table = {}
    for unit in _units():
        for spelling in [unit["name"], *unit["aliases"]]:
            table[spelling] = unit["name"]
    return table


_dictionary_folder: Path | None = None


def keep_dictionary_in(folder: Path) -> None:
    """Keep jieba's dictionary as a file in `folder` (a data dir), so that a process's first cut takes milliseconds
    instead of a second or more (ingest.dictionary_cache). Only a process's first tokenizer() call reads this."""
    global _dictionary_folder
    _dictionary_folder = Path(folder)


@cache
def tokenizer() -> jieba.Tokenizer:
    """jieba with the domain's words; a longer framing phrase (有个数没, 哪些地方) is a word too, so that it frames as a
    whole rather than leaving stray pieces (个数, 地方) that would count as topics."""
    jieba.setLogLevel(logging.WARNING)
    words = [(word, 200000) for word in
             [*alias_table(), *glossary()["terms"], *(w for group in glossary()["synonyms"] for w in group),
              *everyday()["words"], *(w for w in everyday()["frame"] if len(w) >= 3), *places()["home_waters"]]]
    return make_tokenizer(words, _dictionary_folder)


def tokenize(text: str) -> list[str]:
    """Search tokens: jieba words (lower-cased) without stopwords and whitespace."""
    return [w.lower() for w in tokenizer().lcut_for_search(text) if w.strip() and w not in _STOPWORDS]


@cache
def _frame_words() -> frozenset[str]:
    return frozenset(everyday()["frame"])


def question_words(text: str) -> list[str]:
    """The words of a question that name its topic: search tokens without the words that only frame a question."""
    return [w for w in tokenize(text) if w not in _frame_words()]


def question_concepts(text: str) -> list[tuple[str, list[str]]]:
    """The topic words of a question as written (jieba's accurate mode), each with its shorter search words."""
    concepts = []
    for word in _verbs_with_objects(tokenizer().lcut(text)):
        word = word.strip().lower()
        if word in _frame_words():
            continue
        word = _without_erhua(word)
        if not word or word in _STOPWORDS or word in _frame_words():
            continue
        parts = [p.lower() for p in tokenizer().lcut_for_search(word) if p != word and len(p) >= 2]
        concepts.append((word, [p for p in parts if p not in _frame_words()]))
    return concepts


def _verbs_with_objects(words: list[str]) -> list[str]:
    """洗个车, 钓个鱼: a spoken 个 between a verb and a one-character object splits the act the texts name in one
    word (清洗车辆, 垂钓); they are joined back (洗车). Before a longer object (烧个秸秆) the verb is left on its own, not
    glued to 个 as a word no text holds. 整个 and 这个 are no verbs."""
    joined: list[str] = []
    pending = ""
    for word in words:
        if pending and word.strip() and word not in _STOPWORDS:
            # a one-character object means little alone (车); a longer one is the topic itself (秸秆, 养猪场)
            joined += [pending + word] if len(word) == 1 else [pending, word]
            pending = ""
            continue
        if pending:
            joined.append(pending + "个")
            pending = ""
        if _is_verb_with_measure(word):
            pending = word[0]
        elif word == "个" and joined and len(joined[-1]) == 1 and word_class(joined[-1]) == "v":
            pending = joined.pop()
        else:
            joined.append(word)
    return joined + ([pending + "个"] if pending else [])


def _is_verb_with_measure(word: str) -> bool:
    return len(word) == 2 and word[1] == "个" and word_class(word[0]) == "v" and word_class(word) not in _DETERMINERS


_DETERMINERS = {"b", "r", "m", "q"}  # jieba's classes of 整个, 这个, 一个: a whole, a this, a count


_REAL_ER = {"婴儿", "幼儿", "女儿", "孤儿", "胎儿", "健儿", "儿女"}


def _without_erhua(word: str) -> str:
    """天儿 -> 天, 味儿 -> 味, 这片儿 -> 这片: the spoken 儿 is not part of the word (婴儿 and 女儿 keep theirs)."""
    return word[:-1] if len(word) >= 2 and word.endswith("儿") and word not in _REAL_ER else word


def vocabulary_forms() -> set[str]:
    """Every form the glossary and the everyday vocabulary can add to a question (lower-cased)."""
    forms = {w.lower() for group in glossary()["synonyms"] for w in group}
    forms |= {w.lower() for words in everyday()["words"].values() for w in words}
    return forms | {w.lower() for words in glossary()["english"].values() for w in words}


def load_dictionary() -> None:
    """The whole of jieba's dictionary in memory, for a long-running process (a file-backed one loads word by word)."""
    freq = tokenizer().FREQ
    if isinstance(freq, PrefixDictionary):
        freq.load_all()


@cache
def word_class(word: str) -> str | None:
    """jieba's part-of-speech tag of a dictionary word (n, v, nz …), None for a word not in its dictionary: from the
    data dir's dictionary file when there is one, else from jieba's dictionary (jieba.posseg would load its whole
    tagger, 0.6 s, for the few words asked about)."""
    freq = tokenizer().FREQ
    if isinstance(freq, PrefixDictionary):
        return freq.word_class(word)
    return _classes().get(word)


@cache
def _classes() -> dict[str, str]:
    return dictionary_classes(tokenizer())


def english_concepts(text: str) -> list[tuple[str, list[str]]]:
    """The topic words of an English question: the glossary's phrases it holds (good air quality), then its other
    words, without those that only frame a question."""
    lowered = " " + re.sub(r"[^a-z0-9.\-']+", " ", text.lower()) + " "
    known = {w.lower() for group in glossary()["synonyms"] for w in group} | set(glossary()["english"])
    phrases = []
    for phrase in sorted((w for w in known if " " in w), key=len, reverse=True):
        if f" {phrase} " in lowered or f" {phrase}s " in lowered:
            phrases.append(phrase)
            lowered = lowered.replace(f" {phrase}", " ")
    frame = set(glossary()["english_frame"])
    words = [_singular(w, known) for w in re.findall(r"[a-z][a-z0-9.\-']*|\d+(?:\.\d+)?", lowered)]
    return [(word, []) for word in dict.fromkeys([*phrases, *(w for w in words if w not in frame and len(w) > 1)])]


def _singular(word: str, known: set[str]) -> str:
    """pollutants -> pollutant when only the singular is known."""
    for ending in ("es", "s"):
        if word not in known and word.endswith(ending) and word[: -len(ending)] in known:
            return word[: -len(ending)]
    return word


@cache
def _synonyms() -> dict[str, list[str]]:
    """Word -> the words of every glossary group it is in (lower-cased)."""
    table: dict[str, list[str]] = {}
    for group in glossary()["synonyms"]:
        words = [w.lower() for w in group]
        for word in words:
            table.setdefault(word, []).extend(words)
    return table


@cache
def alternatives(word: str) -> tuple[str, ...]:
    """What counts as finding a question word in a text: the word, its glossary synonyms, its official terms."""
    found = [word, *_synonyms().get(word, ())]
    found += [w.lower() for w in everyday()["words"].get(word, [])]
    found += [w.lower() for w in glossary()["english"].get(word, [])]
    return tuple(dict.fromkeys(found))


def canonical_unit(name: str) -> str:
    """A unit as the ledger prints it: aliases resolved, a bare municipal department given its 市."""
    name = name.strip()
    if name in alias_table():
        return alias_table()[name]
    if re.search(UNIT_SUFFIX + "$", name) and not _PLACE_QUALIFIED.search(name) and name.endswith(("局", "委", "中心", "办")):
        return "市" + name
    return name


def resolve_department(query: str) -> str | None:
    """The canonical unit a user's spelling names (发改委 -> 市发展改革委), or None."""
    query = query.strip()
    table = alias_table()
    if query in table:
        return table[query]
    bare = query[1:] if query.startswith("市") and not query.startswith("市场") else query
    return table.get(bare)


def find_departments(text: str) -> list[str]:
    """Canonical units named anywhere in a text, the longest spelling at each place, in order of appearance."""
    seen: list[str] = []
    for match in _spellings().finditer(text):
        unit = alias_table()[match.group(0)]
        if unit not in seen:
            seen.append(unit)
    return seen


@cache
def _spellings() -> re.Pattern:
    """Every spelling of two or more characters, longest first, as one pattern."""
    spellings = sorted((s for s in alias_table() if len(s) >= 2), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, spellings)))


def split_units(run: str) -> list[str]:
    """'发展改革委工业和信息化局' -> two units: known names first, else split after unit suffixes."""
    run = run.strip()
    known = sorted(alias_table(), key=len, reverse=True)
    parts: list[str] = []
    rest = run
    while rest:
        hit = next((k for k in known if rest.startswith(k) and len(k) < len(rest) + 1), None)
        if hit and (len(hit) == len(rest) or re.match(UNIT_SUFFIX, rest[len(hit):]) is None):
            parts.append(hit)
            rest = rest[len(hit):]
            continue
        match = re.match(rf"(.+?{UNIT_SUFFIX})(?=.{{2,}}{UNIT_SUFFIX}$)", rest)
        if not match:
            parts.append(rest)
            break
        parts.append(match.group(1))
        rest = rest[match.end():]
    return [p for p in parts if p]
