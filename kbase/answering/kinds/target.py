"""Quantitative targets: the sentence that states the asked number, with the parsed value of the asked metric."""
from __future__ import annotations

import re

from ingest.ledger import find_targets
from ingest.model import Target
from kbase.answering.context import Context, cite
from kbase.answering.query import Query
from kbase.answering.retrieve import Hit
from kbase.answering.wording import fmt_target
from kbase.model import Answer

_QUANTITY = re.compile(r"\d|[一二三四五六七八九十百千万亿]+(?:平方|万|亿|个|条|项|%)")


def answer_target(ctx: Context, q: Query, hits: list[Hit], needs_number: bool = False) -> Answer | None:
    """The sentence that states the asked number; None without one when `needs_number`."""
    scored = []
    for rank, hit in enumerate(hits[:3]):
        for sentence in hit.clause.sentences:
            numeric = 0.15 if _QUANTITY.search(sentence) else 0.0
            score = (ctx.closeness(q, sentence) + numeric) * (1.0 - 0.15 * rank)
            scored.append((score, hit.clause, sentence))
    if not scored:
        return None
    _, clause, sentence = max(scored, key=lambda s: s[0])
    if needs_number and not _QUANTITY.search(sentence):
        return None
    targets = [t for t in find_targets(clause.sentences) if t.text == sentence.strip()]
    summary = ""
    if targets:
        target = _asked_target(ctx, q, targets)
        if ctx.closeness(q, target.metric) >= 0.3 or len(targets) > 1:
            summary = f"{target.metric}：{fmt_target(target)}\n"
    unstated = [y for y in q.years if str(y) not in sentence]
    if unstated:  # "2024年PM2.5目标": the plan sets 2025's; say so rather than pass it off as 2024's
        summary = f"文件没有单独规定{unstated[0]}年的目标，所列为原文规定的目标。\n" + summary
    body = f"{summary}原文：「{sentence}」\n（依据《{clause.meta.title}》{clause.ref}）"
    return Answer(question=q.text, status="answered", answer=body, citations=[cite(clause, sentence)],
                  kind="target")


def _asked_target(ctx: Context, q: Query, targets: list[Target]) -> Target:
    """The target whose metric names what the question asks; words every metric shares don't decide."""
    concepts = [c for c in q.concepts if len(c.word) > 1]
    shared = {c for c in concepts if all(any(form in t.metric for form in c.forms) for t in targets)}
    telling = [c for c in concepts if c not in shared]
    return max(targets, key=lambda t: (ctx.retriever.coverage(telling, t.metric) if telling else 0.0,
                                       ctx.closeness(q, t.metric)))
