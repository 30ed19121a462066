"""Clause tree of a plan-style document: 一、 / (一) / 1. headings, as messy web pages print them."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.model import Clause, DocMeta
from ingest.text import CN_DIGITS, cn_to_int, int_to_cn, sentences

_CN = f"[{CN_DIGITS}]+"
# level, pattern; the number is group 1, the rest of the line group 2
_HEADINGS = (
    (1, re.compile(rf"^\s*({_CN})\s*[、.．]\s*(.*?)\s*$")),
    (2, re.compile(rf"^\s*[(（]\s*({_CN})\s*[)）]\s*[、.．]?\s*(.*?)\s*$")),
    (3, re.compile(r"^\s*(\d{1,2})\s*(?:[.．](?!\d)|、)\s*(.*?)\s*$")),
)

# Where a run-together title ends and its body begins: the body's first words.
_BODY_OPENERS = re.compile(
    r"(?:研究制定|学习借鉴|强力推进|建立完善|建立健全|按照|围绕|聚焦|结合|依托|对照|根据|通过|"
    r"把(?!握)|以(?![上下及来后前内外])|推进|加快|加强|加大|实施|完善|健全|严格|坚持|深入|持续|全面|"
    r"积极|大力|着力|制定|组织|各级|各县|各地|主要领导|\d{4}年|到\d{4}年|\d+(?:\.\d+)?(?:万|亿|%|个|家|座))")
TITLE_MIN, TITLE_MAX = 4, 24
# Lines a government web page wraps around the document: navigation, print and share links.
_PAGE_CHROME = re.compile(r"^\s*(?:•|【.*】|相关(?:文件|信息|链接)\s*[:：]?|扫一扫|您当前的位置|网站支持|打印|来源\s*[:：]|"
                          r"分享到|字号|上一篇|下一篇|【?关闭窗口】?)")


@dataclass
class _Open:
    level: int
    ref: str
    label: str
    start: int


def split_title(line: str) -> tuple[str, str]:
    """Split a heading line's words into (title, body); the body may be empty."""
    stop = line.find("。")
    opener = next((m.start() for m in _BODY_OPENERS.finditer(line, TITLE_MIN)), -1)
    cuts = [c for c in (stop, opener) if TITLE_MIN <= c <= TITLE_MAX and not re.search(r"[,，;；]", line[:c])]
    if cuts:
        cut = min(cuts)
        return line[:cut], line[cut + 1:] if cut == stop else line[cut:]
    if len(line) <= TITLE_MAX and not re.search(r"[,，;；]", line):
        return line, ""
    return "", line


def _heading(line: str) -> tuple[int, int, str, str] | None:
    """(level, number, label as printed, rest of the line) of a heading line."""
    for level, pattern in _HEADINGS:
        match = pattern.match(line)
        if match:
            return level, cn_to_int(match.group(1)), line[:match.start(2)].strip(), match.group(2).strip()
    return None


def _ref_part(level: int, number: int) -> str:
    if level == 1:
        return int_to_cn(number)
    if level == 2:
        return f"({int_to_cn(number)})"
    return str(number)


def parse_plan(meta: DocMeta, text: str) -> list[Clause]:
    """Clauses of a plan, each holding the verbatim slice of `text` from its heading to the next one."""
    found: list[tuple[int, int, str, str, int]] = []  # level, number, label, rest, line start
    last_number = {1: 0, 2: 0, 3: 0}
    offset = 0
    for line in text.splitlines(keepends=True):
        head = _heading(line)
        if head:
            level, number, label, rest = head
            # A numbered line counts when it continues the numbering at its level, or starts it.
            if number > last_number[level] and (found or number == 1):
                found.append((level, number, label, rest, offset))
                last_number[level] = number
                for deeper in range(level + 1, 4):
                    last_number[deeper] = 0
        offset += len(line)

    clauses: list[Clause] = []
    preface = text[: found[0][4]] if found else text
    if preface.strip():
        clauses.append(_clause(meta, "序", "序", None, preface.strip(), [], None, 0))
    stack: list[_Open] = []
    for i, (level, number, label, rest, start) in enumerate(found):
        end = found[i + 1][4] if i + 1 < len(found) else len(text)
        while stack and stack[-1].level >= level:
            stack.pop()
        parent = stack[-1].ref if stack else None
        ref = (parent or "") + _ref_part(level, number) if level > 1 else _ref_part(level, number)
        title, _body = split_title(rest)
        heading = label + (title or "")
        path = [o.label for o in stack] + [heading]
        clauses.append(_clause(meta, ref, heading, title or None, text[start:end].strip(), path, parent, level))
        stack.append(_Open(level, ref, heading, start))
    return clauses


def _trim_chrome(body: str) -> str:
    """Drop page-chrome lines from both ends of a clause's text (never from its middle)."""
    lines = body.strip().splitlines()
    while lines and (not lines[-1].strip() or _PAGE_CHROME.match(lines[-1])):
        lines.pop()
    while lines and (not lines[0].strip() or _PAGE_CHROME.match(lines[0])):
        lines.pop(0)
    return "\n".join(lines).strip()


def _clause(meta, ref, heading, title, body, path, parent, level) -> Clause:
    body = _trim_chrome(body)
    return Clause(doc=meta.id, ref=ref, heading=heading, title=title, text=body, sentences=sentences(body),
                  path=path, parent=parent, level=level, meta=meta)
