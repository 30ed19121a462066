"""Checks an LLM draft against the clauses it was given, sentence by sentence, and decides what is served.

A sentence survives only if every clause it cites was sent, every quote in it is verbatim in those
clauses, every number, date and unit it states is in them (or in their ledger entries), and it does
not repeat our instructions. What survives is served in llm mode; otherwise the extractive answer is.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache

from ingest.model import Clause, Task
from kbase.llm.draft import Draft
from kbase.llm.facts import Evidence, locate_quote, normalise, states_facts, unsupported
from kbase.llm.prompt import instructions, load_prompt
from kbase.model import Answer, Citation

log = logging.getLogger("policybot.llm")

_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]*")
_LEADING_MARKERS = re.compile(r"^\s*((?:\[\d+\])+)")
_MARKER = re.compile(r"\[(\d+)\]")
_INLINE_QUOTE = re.compile(r"[「“\"]([^」”\"]{2,})[」”\"]")
_CLAUSE_SENTENCE = re.compile(r"[^。；;！？!?\n]+[。；;！？!?]?")
LEAK_WINDOW = 10  # characters of our instructions in a row that no clause says = a leak
UNRELATED_BELOW = 0.25  # a sentence sharing less of its wording with its clauses has nothing to do with them
GROUNDED_FROM = 0.5  # ... and one sharing this much restates them
_WORDING = re.compile(r"[\w%.]")


@dataclass
class Sentence:
    text: str
    cites: list[int]


def split_sentences(answer: str) -> list[Sentence]:
    """Sentences with their [n] markers; a marker written after the full stop stays with its sentence."""
    pieces: list[str] = []
    for match in _SENTENCE.finditer(answer):
        piece = match.group()
        lead = _LEADING_MARKERS.match(piece)
        if lead and pieces:
            pieces[-1] = pieces[-1].rstrip() + lead.group(1)
            piece = piece[lead.end():]
        if _MARKER.sub("", piece).strip(" \t,，。;；"):
            pieces.append(piece)
        elif pieces:
            pieces[-1] = pieces[-1].rstrip() + "".join(f"[{n}]" for n in _MARKER.findall(piece))
    return [Sentence(p, [int(n) for n in _MARKER.findall(p)]) for p in pieces]


@cache
def _instruction_text() -> str:
    return normalise(instructions())


def _leaks(sentence: str, evidence: Evidence) -> bool:
    text = normalise(_MARKER.sub("", sentence))
    return any(text[i:i + LEAK_WINDOW] in _instruction_text() and text[i:i + LEAK_WINDOW] not in evidence.text
               for i in range(len(text) - LEAK_WINDOW + 1))


def grounding(sentence: str, evidence: Evidence) -> float:
    """The share of the sentence's character pairs that occur in its clauses."""
    text = "".join(_WORDING.findall(normalise(_MARKER.sub("", sentence))))
    pairs = [text[i:i + 2] for i in range(len(text) - 1)]
    return sum(p in evidence.text for p in pairs) / len(pairs) if pairs else 0.0


def clause_evidence(clause: Clause, task: Task | None) -> Evidence:
    texts = [clause.text, clause.ref, clause.heading, clause.title or "", clause.meta.title]
    if task is None:
        return Evidence.gather(texts)
    return Evidence.gather(
        texts + [d.text for d in task.deadlines] + [t.text for t in task.targets],
        units=task.units,
        dates=[d.date.isoformat() for d in task.deadlines],
        values=[t.value for t in task.targets] + [t.year for t in task.targets if t.year],
    )


def _quote_in(quote: str, clauses: list[Clause]) -> str | None:
    return next((span for c in clauses if (span := locate_quote(quote, c.text))), None)


def _best_sentence(clause: Clause, claims: list[str]) -> str:
    """The clause sentence that shares most wording with the claims citing it (a verbatim quote)."""
    def bigrams(text: str) -> set[str]:
        text = normalise(_MARKER.sub("", text))
        return {text[i:i + 2] for i in range(len(text) - 1)}

    wanted = set().union(*map(bigrams, claims)) if claims else set()
    candidates = [m.group().strip() for m in _CLAUSE_SENTENCE.finditer(clause.text) if m.group().strip()]
    return max(candidates, key=lambda s: len(bigrams(s) & wanted), default=clause.text.strip())


@dataclass
class Verdict:
    answer: str
    citations: list[tuple[Clause, str]]
    dropped: list[tuple[str, list[str]]]

    @property
    def holds(self) -> bool:
        return bool(self.answer) and bool(self.citations)


def _problems(sentence: str, cited: list[Clause], support: Evidence, question: str) -> list[str]:
    """Why a sentence resting on the `cited` clauses cannot be served (empty = it can)."""
    problems = unsupported(sentence, support, question)
    problems += [f"「{q}」非原文" for q in _INLINE_QUOTE.findall(sentence)
                 if not (_quote_in(q, cited) or normalise(q) in support.text)]
    if _leaks(sentence, support):
        problems.append("复述指令")
    elif grounding(sentence, support) < UNRELATED_BELOW:
        problems.append("与条款无关")
    return problems


def verify(draft: Draft, question: str, clauses: list[Clause], tasks: dict[str, Task]) -> Verdict:
    """The draft's sentences that hold, renumbered, with a verbatim quote for each clause they rest on."""
    sentences = split_sentences(draft.answer)
    sent = range(1, len(clauses) + 1)
    evidence = {n: clause_evidence(clauses[n - 1], tasks.get(clauses[n - 1].key)) for n in sent}
    listed = list(dict.fromkeys(n for n, _ in draft.citations if n in sent))
    marked = [i for i, s in enumerate(sentences) if s.cites]

    def sources(i: int) -> list[int]:
        if sentences[i].cites:
            return sentences[i].cites
        if not marked:
            return listed
        # an unmarked sentence leans on the next marked one ("A。B[1]。"), else on the last
        return sentences[next((j for j in marked if j > i), marked[-1])].cites

    kept: list[tuple[Sentence, list[int], bool]] = []  # sentence, sources, substantive
    dropped: list[tuple[str, list[str]]] = []
    for i, sentence in enumerate(sentences):
        ns = sources(i)
        if problems := [f"[{n}] 未提供" for n in ns if n not in sent] or ([] if ns else ["无出处"]):
            dropped.append((sentence.text, problems))
            continue
        support = evidence[ns[0]]
        for n in ns[1:]:
            support = support | evidence[n]
        if problems := _problems(sentence.text, [clauses[n - 1] for n in ns], support, question):
            dropped.append((sentence.text, problems))
        else:
            substantive = states_facts(sentence.text) or grounding(sentence.text, support) >= GROUNDED_FROM
            kept.append((sentence, ns, substantive))

    if not any(substantive for *_, substantive in kept):
        return Verdict("", [], dropped)
    served = list(dict.fromkeys(n for _, ns, _ in kept for n in ns))
    citations = []
    for n in served:
        clause = clauses[n - 1]
        claims = [s.text for s, ns, _ in kept if n in ns]
        quote = (_quote_in_listed(draft, n, clause)
                 or next((span for text in claims for q in _INLINE_QUOTE.findall(text)
                          if (span := locate_quote(q, clause.text))), None)
                 or _best_sentence(clause, claims))
        citations.append((clause, quote))
    number = {n: k for k, n in enumerate(served, 1)}
    answer = "".join(_MARKER.sub(lambda m: f"[{number[int(m.group(1))]}]", s.text) for s, *_ in kept).strip()
    return Verdict(answer, citations, dropped)


def _quote_in_listed(draft: Draft, n: int, clause: Clause) -> str | None:
    return next((span for m, q in draft.citations if m == n and (span := locate_quote(q, clause.text))), None)


def not_found_answer(question: str, fallback: Answer) -> Answer:
    return Answer(question=question, status="not_found", answer=load_prompt("not_found"), mode="llm",
                  kind=fallback.kind, related=fallback.related)


def judge(draft: Draft, question: str, clauses: list[Clause], tasks: dict[str, Task], fallback: Answer) -> Answer:
    """The answer to serve for this draft: the verified llm answer, a not_found one, or the fallback."""
    if not draft.found:
        log.info("llm: the clauses do not answer %r", question)
        if fallback.status != "answered" or fallback.citations:
            return fallback
        return not_found_answer(question, fallback)
    verdict = verify(draft, question, clauses, tasks)
    for text, reasons in verdict.dropped:
        log.info("llm: dropped %r: %s", text, "; ".join(reasons))
    if not verdict.holds:
        log.info("llm: nothing verifiable left, serving the extractive answer")
        return fallback
    return Answer(
        question=question, status="answered", answer=verdict.answer, mode="llm", kind=fallback.kind,
        citations=[Citation(doc=c.doc, title=c.meta.title, ref=c.ref, heading=c.heading, quote=quote, text=c.text)
                   for c, quote in verdict.citations],
    )
