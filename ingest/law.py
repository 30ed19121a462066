"""Clause tree of a law-style document: 第X章 / 第X节 headings and 第X条 articles (markdown or plain text)."""
from __future__ import annotations

import re

from ingest.model import Clause, DocMeta
from ingest.statute import article_facts
from ingest.text import CN_DIGITS, cn_to_int, sentences

_CN = f"[{CN_DIGITS}]+"
_PART = re.compile(rf"^\s*#*\s*(第({_CN})([编章节]))\s*(.*?)\s*$")
# A chapter printed without its number (a bare 法律责任 or 附　则 line, as some web pages and documents print them).
_BARE_PART = re.compile(r"^\s*#*\s*([\u4e00-\u9fff][\u4e00-\u9fff\s　]{1,14})\s*$")
_CHAPTER_WORDS = re.compile(r"(?:总则|附则|罚则|责任|管理|措施|规定|规划|保护|治理|防治|监督|检查|处罚|奖惩|保障|利用|建设|修复|标准|制度)$")
# An article starts a line and is followed by a space; "依照本法第五十九条" inside a sentence never is.
_ARTICLE = re.compile(rf"^\s*(第({_CN})条)(?:[\s　]+|$)")


def count_articles(text: str) -> int:
    return sum(1 for line in text.splitlines() if _ARTICLE.match(line))


def parse_law(meta: DocMeta, text: str) -> list[Clause]:
    """Articles keep their （一）（二） items and following paragraphs; chapters only label the path."""
    clauses: list[Clause] = []
    parts: dict[str, str] = {}  # 编 / 章 / 节 -> the heading currently open
    preface: list[str] = []
    current: dict | None = None
    expected = 1
    for line in text.splitlines():
        part = _PART.match(line)
        article = _ARTICLE.match(line)
        if part and not article:
            kind = part.group(3)
            parts[kind] = f"{part.group(1)} {part.group(4)}".strip()
            for lower in "编章节"["编章节".index(kind) + 1:]:
                parts.pop(lower, None)
            _close(current, clauses, meta)
            current = None
            continue
        if bare := _bare_chapter(line, started=expected > 1):
            parts = {"章": bare}
            _close(current, clauses, meta)
            current = None
            continue
        # Only the next number in sequence opens an article, so a line quoting another article stays text.
        if article and cn_to_int(article.group(2)) == expected:
            _close(current, clauses, meta)
            expected += 1
            current = {"ref": article.group(1), "lines": [line], "path": [parts[k] for k in "编章节" if k in parts]}
            continue
        if current is not None:
            current["lines"].append(line)
        elif not clauses:
            preface.append(line)
    _close(current, clauses, meta)
    body = "\n".join(preface).strip()
    if body:
        clauses.insert(0, Clause(doc=meta.id, ref="序", heading="序", text=body, sentences=sentences(body),
                                 meta=meta))
    return clauses


def _bare_chapter(line: str, started: bool) -> str | None:
    """A chapter heading printed without 第X章: a short unpunctuated line named like a chapter (总则 only before the
    first article, where a document's own title line also stands)."""
    match = _BARE_PART.match(line)
    if not match:
        return None
    name = re.sub(r"[\s　]+", "", match.group(1))
    if name == "总则" or (started and _CHAPTER_WORDS.search(name) and len(name) <= 10):
        return name
    return None


def _close(current: dict | None, clauses: list[Clause], meta: DocMeta) -> None:
    if current is None:
        return
    body = "\n".join(current["lines"]).strip()
    ref = current["ref"]
    clauses.append(Clause(doc=meta.id, ref=ref, heading=ref, text=body, sentences=sentences(body),
                          path=current["path"] + [ref], level=3, article=article_facts(body), meta=meta))
