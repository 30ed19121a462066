"""Who issued a document and when, from its metadata, cited to the document's opening text."""
from __future__ import annotations

import datetime as dt

from ingest.text import fmt_date
from kbase.answering.context import Context, cite
from kbase.answering.kinds.not_found import not_found
from kbase.answering.query import Query
from kbase.answering.retrieve import visible_docs
from kbase.answering.session import Session
from kbase.model import Answer, Audience


def answer_issuance(ctx: Context, q: Query, audience: Audience, session: Session | None, today: dt.date) -> Answer:
    docs = visible_docs(ctx.index, audience, today, history=q.history)
    candidates = [d for d in q.named_docs if d in docs]
    if not candidates and session is not None and session.context():
        candidates = [session.context()[0].split("::")[0]]
    if not candidates:
        hits = ctx.retriever.search(q, audience, today=today)
        candidates = [hits[0].clause.doc] if hits else []
    preface = ctx.index.clauses.get(f"{candidates[0]}::序") if candidates else None
    if preface is None:
        return not_found(ctx, q)
    meta = preface.meta
    verb = "印发" if meta.kind == "plan" else "公布（现行文本）"
    facts = [f"由{meta.issuer}" if meta.issuer else "", f"于{fmt_date(meta.issued)}{verb}" if meta.issued else verb]
    if meta.doc_number:
        facts.append(f"，文号{meta.doc_number}")
    if meta.effective and meta.effective != meta.issued:
        facts.append(f"，自{fmt_date(meta.effective)}起施行")
    if meta.expires:
        facts.append(f"，有效期至{fmt_date(meta.expires)}")
    marks = [m for m in (meta.issued and f"{meta.issued.year}年{meta.issued.month}月{meta.issued.day}",
                         meta.issued and meta.issued.isoformat(), meta.issuer) if m]
    quote = next((s for m in marks for s in preface.sentences if m in s), preface.sentences[0])
    body = f"《{meta.title}》{''.join(facts)}。\n原文：「{quote}」"
    return Answer(question=q.text, status="answered", answer=body, citations=[cite(preface, quote)],
                  kind="issuance")
