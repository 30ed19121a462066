"""Telegram HTML for answers, clauses, tasks and sources: document text always escaped, split under the limit.

Pure functions (data in, strings out). Long text is cut only between blocks, then between sentences,
and every piece is wrapped in its own complete tags, so no message ever ends inside a tag.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from ingest.model import Clause, DocMeta, Task
from kbase.model import Answer, Citation

MESSAGE_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
CLAUSE_CALLBACK_PREFIX = "c"
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")
_FULLWIDTH = str.maketrans({"（": "(", "）": ")", "　": ""})


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), an upper bound for the parsed message."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Block:
    """One unit of a message: a ready-made HTML head plus plain body text, escaped and wrapped in `tag`."""

    head: str = ""
    body: str = ""
    tag: str = ""

    def html(self, body: str | None = None, with_head: bool = True) -> str:
        text = escape(self.body if body is None else body, quote=False)
        if self.tag and text:
            text = f"<{self.tag}>{text}</{self.tag.split()[0]}>"
        return (self.head if with_head else "") + text


def split_messages(blocks: list[Block], limit: int = MESSAGE_LIMIT - 96) -> list[str]:
    """Pack blocks into messages of at most `limit`; a block too long for one message is cut at sentences."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        for piece in _block_pieces(block, limit):
            joined = f"{current}\n\n{piece}" if current else piece
            if telegram_length(joined) <= limit:
                current = joined
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages


def _block_pieces(block: Block, limit: int) -> list[str]:
    whole = block.html()
    if telegram_length(whole) <= limit:
        return [whole]
    pieces: list[str] = []
    chunk = ""
    for part in _sentences(block.body, limit // 2):
        candidate = chunk + part
        if chunk and telegram_length(block.html(candidate, with_head=not pieces)) > limit:
            pieces.append(block.html(chunk, with_head=not pieces))
            candidate = part
        chunk = candidate
    pieces.append(block.html(chunk, with_head=not pieces))
    return pieces


def _sentences(text: str, max_chars: int) -> list[str]:
    """Sentences of `text`; a sentence longer than max_chars (counted escaped) is cut into slices."""
    out: list[str] = []
    for sentence in filter(None, _SENTENCE_END.split(text)):
        while telegram_length(escape(sentence, quote=False)) > max_chars:
            cut = max_chars // 5  # an escaped char is at most 5 units (&amp;)
            out.append(sentence[:cut])
            sentence = sentence[cut:]
        out.append(sentence)
    return out


def normalize_ref(ref: str) -> str:
    """A clause ref as users type it (full-width parentheses, spaces) turned into the contract's form."""
    return "".join(ref.translate(_FULLWIDTH).split())


def clause_callback(doc_index: int, ref: str) -> str | None:
    """callback_data for a citation button, or None when it would not fit Telegram's 64 bytes."""
    data = f"{CLAUSE_CALLBACK_PREFIX}:{doc_index}:{ref}"
    return data if len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT else None


def parse_clause_callback(data: str) -> tuple[int, str] | None:
    prefix, _, rest = (data or "").partition(":")
    index, _, ref = rest.partition(":")
    if prefix != CLAUSE_CALLBACK_PREFIX or not index.isdigit() or not ref:
        return None
    return int(index), ref


def citation_buttons(citations: list[Citation], doc_ids: list[str]) -> list[tuple[str, str]]:
    """(label, callback_data) for one "原文 <ref>" button per distinct cited clause."""
    buttons: list[tuple[str, str]] = []
    for citation in citations:
        if citation.doc not in doc_ids:
            continue
        data = clause_callback(doc_ids.index(citation.doc), citation.ref)
        if data and data not in (d for _, d in buttons):
            buttons.append((f"原文 {citation.ref}", data))
    return buttons


def _citation_blocks(label: str, citations: list[Citation]) -> list[Block]:
    blocks = []
    for number, citation in enumerate(citations, 1):
        head = (f"<b>【{number}】《{escape(citation.title, quote=False)}》{escape(citation.ref, quote=False)}</b>"
                f" {escape(citation.heading, quote=False)}\n")
        if number == 1:
            head = f"<b>{label}</b>\n{head}"
        blocks.append(Block(head=head, body=citation.quote, tag="blockquote expandable"))
    return blocks


def render_answer(answer: Answer) -> list[str]:
    """The answer text, then its sources (title, ref, quoted words), as HTML messages."""
    blocks = [Block(body=answer.answer)]
    if answer.citations:
        label = "相关条款（不是答案，仅供参考）：" if answer.status == "related" else "依据："
        blocks += _citation_blocks(label, answer.citations)
    elif answer.related:
        blocks += _citation_blocks("相关条款：", answer.related)
    return split_messages(blocks)


def render_clause(clause: Clause) -> list[str]:
    """A whole clause with its document title and heading."""
    head = (f"<b>《{escape(clause.meta.title, quote=False)}》{escape(clause.ref, quote=False)}</b>\n"
            f"<b>{escape(clause.heading, quote=False)}</b>\n")
    return split_messages([Block(head=head, body=clause.text)])


def _roles(task: Task) -> str:
    parts = [(label, units) for label, units in (
        ("牵头", task.lead), ("配合", task.support), ("按职责分工", task.shared), ("负责落实", task.implement)) if units]
    return "；".join(f"{label}：{'、'.join(units)}" for label, units in parts)


def render_tasks(tasks: list[Task], title: str, doc_titles: dict[str, str]) -> list[str]:
    """A task list under each document's title: ref and title, responsible units, deadlines."""
    blocks = [Block(head=f"<b>{escape(title, quote=False)}</b>（共 {len(tasks)} 项）")]
    for number, task in enumerate(tasks):
        deadlines = "；".join(f"{d.text}（{d.date.isoformat()}）：{d.what}" for d in task.deadlines)
        body = "\n".join(filter(None, [_roles(task), f"期限：{deadlines}" if deadlines else ""]))
        head = f"<b>{escape(task.ref, quote=False)}</b> {escape(task.title, quote=False)}\n"
        if number == 0 or tasks[number - 1].doc != task.doc:
            head = f"<b>《{escape(doc_titles.get(task.doc, task.doc), quote=False)}》</b>\n" + head
        blocks.append(Block(head=head, body=body))
    return split_messages(blocks)


def render_sources(docs: list[DocMeta]) -> list[str]:
    """The documents an audience can search, numbered."""
    blocks = [Block(head="<b>可查询的文件：</b>")]
    for number, doc in enumerate(docs, 1):
        details = "，".join(filter(None, [doc.issuer, doc.issued and f"{doc.issued.isoformat()} 发布",
                                          "内部" if doc.visibility == "internal" else ""]))
        blocks.append(Block(head=f"{number}. <b>《{escape(doc.title, quote=False)}》</b>\n",
                            body=f"{details}\n文件编号：{doc.id}"))
    return split_messages(blocks)
