"""When a text takes effect: its own 施行 article, with the metadata's date of the version in force."""
from __future__ import annotations

import datetime as dt
from functools import cache

from ingest.statute import document_effective
from ingest.text import fmt_date
from kbase.answering.context import Context, cite
from kbase.answering.kinds.issuance import answer_issuance
from kbase.answering.kinds.not_found import not_found
from kbase.answering.query import Query
from kbase.answering.retrieve import visible_docs
from kbase.answering.session import Session
from kbase.model import Answer, Audience, Citation

MAX_TEXTS_NAMED_ALIKE = 3
UNNAMED = "问题没有说明是哪部法律、法规或文件。请写明名称再问，例如“大气污染防治法什么时候施行”。"


def answer_effective(ctx: Context, q: Query, audience: Audience, session: Session | None, today: dt.date) -> Answer:
    docs = visible_docs(ctx.index, audience, today, history=q.history)
    naming = [c for c in q.concepts if "施行" not in c.forms]  # "take effect" is what is asked, not a name

    @cache
    def fit(doc: str) -> float:  # how much of the question the text's title holds (soil pollution prevention law)
        return ctx.retriever.coverage(naming, ctx.index.docs[doc].title)

    def best_first(found) -> list[str]:  # ids break ties: the same answer whatever order the index keeps
        return sorted(found, key=lambda doc: (-fit(doc), doc))

    # a named city or issuer may have several texts: the one whose title the question describes (管大气污染的那个条例)
    candidates = best_first(d for d in q.named_docs if d in docs)
    if not candidates and session is not None and session.context():
        candidates = [session.context()[0].split("::")[0]]
    if not candidates and naming:
        candidates = [d for d in best_first(docs) if fit(d) >= 0.5]
    if not candidates:
        hits = ctx.retriever.search(q, audience, today=today)
        # 这个法什么时候施行, asked out of the blue, names no text: every text's 施行 article fits it alike
        candidates = [hits[0].clause.doc] if hits and ctx.relevant(q, hits[0]) and ctx.retriever.coverage(
            naming, ctx.retriever.headed(hits[0].clause)) > 0 else []
    if not candidates and not ctx.retriever.weighed(naming):
        return not_found(ctx, q, UNNAMED)
    # a question that names several texts alike (驻马店的条例) is answered for each of them, not for one at random
    named = [d for d in candidates if fit(d) == fit(candidates[0])][:MAX_TEXTS_NAMED_ALIKE]
    stated = [found for d in named if (found := _stated(ctx, d))]
    if not stated:  # a plan or a text without a 施行 article: its metadata, cited to its opening
        return answer_issuance(ctx, q, audience, session, today)
    return Answer(question=q.text, status="answered", answer="\n\n".join(body for body, _ in stated),
                  citations=[citation for _, citation in stated], kind="effective")


def _stated(ctx: Context, doc: str) -> tuple[str, Citation] | None:
    """What a text's own 施行 article says, with the date of the version in force; None when it has none."""
    found = document_effective([c for c in ctx.index.clauses.values() if c.doc == doc])
    if found is None:
        return None
    clause, date = found
    meta = clause.meta
    quote = next(s for s in clause.sentences if clause.article.effective in s)
    body = f"《{meta.title}》自{fmt_date(date)}起施行。"
    if meta.effective and meta.effective > date:  # an amended text: the article keeps the first date
        amended = meta.amended or meta.issued
        body += (f"现行文本{'于' + fmt_date(amended) + '修正，' if amended else ''}"
                 f"自{fmt_date(meta.effective)}起施行。")
    body += f"\n原文：「{quote}」\n（依据《{meta.title}》{clause.ref}）"
    return body, cite(clause, quote)


def answer_repealed(ctx: Context, q: Query) -> Answer | None:
    """A text the question names that a document of the base repeals: the article that repeals it."""
    doc_id, title = q.repealed
    clause = next((c for c in ctx.index.clauses.values() if c.doc == doc_id and c.article and title in c.article.repeals),
                  None)
    if clause is None:
        return None
    meta = clause.meta
    quote = next(s for s in clause.sentences if title in s)
    when = f"，自{fmt_date(meta.effective)}起" if meta.effective else ""
    body = (f"《{title}》已被《{meta.title}》废止{when}不再施行，现行规定以《{meta.title}》为准。\n"
            f"原文：「{quote}」\n（依据《{meta.title}》{clause.ref}）")
    return Answer(question=q.text, status="answered", answer=body, citations=[cite(clause, quote)], kind="effective")
