"""What a conduct costs: the penalty sentence with its amount and authority, found from the conduct in the question.

A duty article ("禁止设置排污口") seldom states its penalty; the penalty article refers back to it ("违反本条例第十六条
规定…处十万元以上五十万元以下罚款"), so the search starts from the clauses found and follows those references backwards.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.model import Clause, Penalty
from kbase.answering.context import Context, cite
from kbase.answering.query import Query, elsewhere, is_home
from kbase.answering.retrieve import Hit
from kbase.model import Answer, Citation

_FOLLOW_UP = re.compile(r"^(逾期|拒不|情节严重|构成犯罪|再次|屡次|造成)")
_SANCTION_WORD = re.compile(r"罚|处分|拘留|没收|吊销|责任|处理|处置|违法|犯法")
_MONEY_ASKED = re.compile(r"多少|几|钱|罚款|金额|数额|how much|fine", re.I)
_CANDIDATE_HITS = 8
_HOME_MARGIN = 0.7  # the city's own rule leads when it scores at least this share of the best
_ALSO_MARGIN = 0.7  # another text's penalty is cited beside the answer when it scores at least this share


@dataclass
class _Candidate:
    penalty: Penalty
    clause: Clause
    via: Clause | None  # the duty article the question matched, when the penalty was reached from it
    score: float
    fit: float  # the score before the rank of the hit it came from


def answer_penalty(ctx: Context, q: Query, hits: list[Hit]) -> Answer | None:
    """None when no penalty is found near the clauses found (the general answer takes over). The city's own rule (of
    the home city, or one the city added) leads when it fits nearly as well as a national law's; the best penalty of
    another text is cited beside it."""
    candidates = sorted(_candidates(ctx, q, hits), key=lambda c: -c.score)
    if not candidates:
        return None
    best = candidates[0]
    # of the city's own rules that fit nearly as well, one it added leads a bundled one: the deployment chose it to
    # answer from. Fits are compared without the rank of the hit they came from: a national article's general words
    # rank it above the local article that names the very conduct
    close = [c for c in candidates if _local(c.clause) and c.fit >= _HOME_MARGIN * best.fit]
    home = next((c for c in close if c.clause.meta.origin == "added"), None) or next(iter(close), None)
    if home is not None and not q.named_docs:
        best = home
    lines, citations = _stated(ctx, q, best)
    other = next((c for c in candidates if c.clause.doc != best.clause.doc and _applies(c.clause, q)), None)
    if other is not None and other.score >= _ALSO_MARGIN * best.score:
        also_lines, also_citations = _stated(ctx, q, other, duty=False)
        lines += ["", "另见：", *also_lines]
        citations += also_citations
    return Answer(question=q.text, status="answered", answer="\n".join(lines), citations=citations, kind="penalty")


def _stated(ctx: Context, q: Query, candidate: _Candidate, duty: bool = True) -> tuple[list[str], list[Citation]]:
    """The lines that state a penalty (conduct, amounts, authority, measures, the sentences quoted) and their citations."""
    penalty, clause = candidate.penalty, candidate.clause
    chain = _chain(clause, penalty)
    measures = list(dict.fromkeys(m for p in chain for m in p.measures))
    lines = [f"违法行为：{penalty.conduct}"] if penalty.conduct else []
    if any(p.fines for p in chain):
        lines.append("罚款：" + "；".join(f"{_condition(p, penalty)}{f'对{f.party}处' if f.party else ''}{f.text}"
                                        for p in chain for f in p.fines))
    if any(p.detention for p in chain):
        lines.append("拘留：" + "；".join(f"{_condition(p, penalty)}{d}" for p in chain for d in p.detention))
    if penalty.authority:
        lines.append(f"处罚机关：{penalty.authority}")
    if measures:
        lines.append("其他措施：" + "、".join(measures))
    quotes = ([penalty.chapeau] if _needs_chapeau(penalty) else []) + _joined(clause, [p.text for p in chain])
    citations = [cite(clause, quote) for quote in dict.fromkeys(quotes)]
    lines.append("原文：" + "".join(f"「{c.quote}」" for c in citations))
    lines.append(f"（依据《{clause.meta.title}》{clause.ref}）")
    enforced = _duty(ctx, q, candidate) if duty else None
    if enforced is not None:
        citations.append(enforced)
        lines.append(f"该处罚针对{enforced.ref}的规定：「{enforced.quote}」")
    return lines, citations


def _candidates(ctx: Context, q: Query, hits: list[Hit]) -> list[_Candidate]:
    """Penalties of the clauses found and of the articles that enforce them, scored by how well the conduct and its
    context (the list it is in, the duty it enforces) fit the question."""
    money = bool(_MONEY_ASKED.search(q.text))
    conduct_words = [c for c in q.concepts if not _SANCTION_WORD.search(c.word)]
    found: list[_Candidate] = []
    for rank, hit in enumerate(hits[:_CANDIDATE_HITS]):
        prior = 1.0 - 0.08 * rank
        sources = [(hit.clause, None)] + [(ctx.index.clauses[key], hit.clause)
                                          for key in ctx.enforced_by.get(hit.clause.key, [])]
        for clause, via in sources:
            if clause.article is None:
                continue
            for penalty in clause.article.penalties:
                if _FOLLOW_UP.match(penalty.conduct):
                    continue  # a sanction for not complying with the first one: it comes with its lead sentence
                duty = via or _enforced(ctx, clause, penalty)
                chain = _chain(clause, penalty)
                duty_text = _duty_text(duty, penalty) if duty else ""
                context = " ".join([p.text for p in chain] + [penalty.chapeau or ""] + ([duty_text] if duty else []))
                if conduct_words and ctx.retriever.coverage(conduct_words, context) < 0.2:
                    continue  # its list matched the question's 罚多少, not the conduct asked about (炸鱼)
                fit = 0.6 * ctx.closeness(q, context) + 0.4 * ctx.closeness(q, penalty.conduct or duty_text)
                if not any(p.fines or p.detention for p in chain):
                    fit *= 0.6 if money else 0.75
                if _local(clause) or clause.doc in q.named_docs:
                    fit *= 1.1  # the local rule is the one that applies where it exists
                elif not _applies(clause, q):
                    fit *= 0.8  # another city's rule, asked without naming that city
                found.append(_Candidate(penalty, clause, via, fit * prior, fit))
    return found


def _local(clause: Clause) -> bool:
    """The city's own rule: a text of the home city, or one the city added to the base."""
    return is_home(clause.meta.title) or clause.meta.origin == "added"


def _applies(clause: Clause, q: Query) -> bool:
    """A national law applies everywhere; a local rule in its own city, or where the question names it."""
    return elsewhere(clause.meta.title, clause.doc, q) is None


def _enforced(ctx: Context, clause: Clause, penalty: Penalty) -> Clause | None:
    return next((ctx.index.clauses[key] for ref in penalty.refers_to
                 if (key := f"{clause.doc}::{ref}") in ctx.index.clauses), None)


def _chain(clause: Clause, penalty: Penalty) -> list[Penalty]:
    """A penalty and the ones after it in its paragraph: sanctions for not complying (逾期不改正的，处…) and variants
    (使用者为个人的，可以处…), each said with its condition."""
    penalties = clause.article.penalties
    return [penalty] + [p for p in penalties[penalties.index(penalty) + 1:] if p.paragraph == penalty.paragraph]


def _joined(clause: Clause, sentences: list[str]) -> list[str]:
    """Sentences that follow each other in the clause as one quote, else one quote each."""
    joined = "".join(sentences)
    return [joined] if joined in clause.text else sentences


def _needs_chapeau(penalty: Penalty) -> bool:
    """An item states its conduct; its amount or its authority may be in the sentence that opens its list."""
    if not penalty.chapeau:
        return False
    fine_elsewhere = any(f not in penalty.text for f in [*(f.text for f in penalty.fines), *penalty.detention])
    return fine_elsewhere or (penalty.authority is not None and penalty.authority not in penalty.text)


def _condition(penalty: Penalty, lead: Penalty) -> str:
    return "" if penalty is lead else f"{penalty.conduct}的，"


def _duty_text(duty: Clause, penalty: Penalty) -> str:
    """The duty's words for the penalised conduct: its list's chapeau and the item with the same number, else all."""
    marker = penalty.duty_item or penalty.item
    if marker and duty.article:
        same = next((item for item in duty.article.items if item.startswith(marker)), None)
        if same:
            return f"{duty.article.chapeau or ''} {same}"
    return duty.text


def _duty(ctx: Context, q: Query, best: _Candidate) -> Citation | None:
    """The article whose duty the penalty enforces, quoted where it fits the question best."""
    duty = best.via or _enforced(ctx, best.clause, best.penalty)
    if duty is None or duty.key == best.clause.key:
        return None
    sentences = [s for s in duty.sentences if s != duty.heading] or duty.sentences
    return cite(duty, max(sentences, key=lambda s: (ctx.closeness(q, s), -sentences.index(s))))
