"""One named row of numbers per draft answer: how the retrievers ranked its clause, how much of the question the clause
holds, what the question asks for and whether the answer's kind module could answer it, what kind of text it cites.
No thresholds here: the model weighs them."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ingest.model import Clause
from kbase.answering.decide.model import NO_RIVAL
from kbase.answering.query import Query, elsewhere, is_home
from kbase.answering.retrieve import Hit, bigram_overlap
from kbase.model import Answer

SLOTS = ("contact", "place", "amount", "sanction", "body", "date", "definition", "permission", "procedure", "number")
KINDS = ("penalty", "responsibility", "deadline", "target", "definition", "law", "general")
_MISSING_RANK = 30


@dataclass
class Draft:
    """An answer about to be given, with what the relevance rule and the kind module said of it."""

    answer: Answer
    hits: list[Hit]  # the lead first
    lead_rank: int  # where the lead stood in the fused ranking
    gate: bool  # the words, or the words and the vector search together, vouch for the lead
    vouched: bool  # the words alone vouch for it
    typed: bool  # the kind module answered (not the closest-sentences fallback)
    unknown_topic: bool  # the asking part names a thing no document mentions
    follow_up: bool = False
    lead_score: float = 0.0  # the lead ranker's log-odds that the lead is a clause that answers the question
    lead_margin: float = 0.0  # …less the likeliest other hit's: below 0, the ranker would have led with another
    added_rival: float = -NO_RIVAL  # the likeliest other hit of an added text's log-odds less the lead's
    candidates: list[tuple[Clause, dict[str, float]]] = field(default_factory=list)  # the best hits, ranker's rows

    @property
    def quotes(self) -> str:
        """The answer's quoted sentences, run together: what the slot and coverage checks read."""
        return "".join(c.quote for c in self.answer.citations)


def _rank(rank: int | None) -> float:
    return float(_MISSING_RANK if rank is None else rank)


def features(q: Query, draft: Draft, measures: dict[str, float]) -> dict[str, float]:
    """The draft's row; `measures` are what the retriever says of it (heading and quote coverage, the heaviest word
    the clause lacks, how far its vector similarity is from the best)."""
    lead = draft.hits[0]
    following = draft.hits[1] if len(draft.hits) > 1 else None
    meta = lead.clause.meta
    row = {
        "coverage": lead.coverage,
        "coverage_next": following.coverage if following else 0.0,
        "score_margin": (lead.score - following.score) / lead.score if following and lead.score > 0 else 1.0,
        "dense_first": float(lead.dense_rank == 0),
        "dense_top3": float(lead.dense_rank is not None and lead.dense_rank < 3),
        "dense_rank_log": math.log1p(_rank(lead.dense_rank)),
        "dense_similarity": lead.dense,
        "lexical_first": float(lead.lexical_rank == 0),
        "lexical_rank_log": math.log1p(_rank(lead.lexical_rank)),
        "both_first": float(lead.dense_rank == 0 and lead.lexical_rank == 0),
        "lead_rank_log": math.log1p(draft.lead_rank),
        "gate": float(draft.gate),
        "vouched": float(draft.vouched),
        "unknown_topic": float(draft.unknown_topic),
        "typed": float(draft.typed),
        "slot_confidence": q.slot_confidence,
        "other_data_asked": float(len(q.other_slots)),
        "statute": float(meta.is_statute),
        "named_match": float(bool(q.named_docs) and lead.clause.doc in q.named_docs),
        "named_other": float(bool(q.named_docs) and lead.clause.doc not in q.named_docs),
        "elsewhere": float(elsewhere(meta.title, lead.clause.doc, q) is not None),
        "home": float(is_home(meta.title)),
        "added_text": float(meta.origin == "added"),  # added to the bundled base (a city's own regulation)
        "concepts_log": math.log1p(len(q.concepts)),
        "question_chars_log": math.log1p(len(q.text)),
        "quote_bigrams": bigram_overlap(q.text, draft.quotes),
        **measures,
        "english": float(q.english),
        "citations": float(len(draft.answer.citations)),
        "years_asked": float(bool(q.years)),
        "lead_score": draft.lead_score,
        "lead_margin": draft.lead_margin,
        # on an extended base, a question about the city's own rule draws a national article as readily: an added
        # text's clause the ranker finds nearly as likely says the question may be about it
        "added_rival": draft.added_rival,
    }
    return row | asked(q)


def asked(q: Query) -> dict[str, float]:
    """What the question asks for and what kind it reads as, one-hot."""
    return {**{f"slot_{slot}": float(q.slot == slot) for slot in SLOTS},
            **{f"kind_{kind}": float(q.kind == kind) for kind in KINDS}}


def candidate_features(q: Query, hits: list[Hit], rank: int, measures: dict[str, float]) -> dict[str, float]:
    """One of the best hits as a possible lead: how each retriever ranked it against the others, how much of the
    question it holds, whether it states what was asked, what kind of text it is and whether the question names it.
    `measures` are the retriever's (heading coverage, the heaviest word it lacks, whether it states the slot)."""
    hit = hits[rank]
    meta = hit.clause.meta
    best_dense = max(h.dense for h in hits)
    return {
        "rank_log": math.log1p(rank),
        "score_share": hit.score / hits[0].score if hits[0].score > 0 else 0.0,
        "coverage": hit.coverage,
        "coverage_lead": hit.coverage - max(h.coverage for h in hits),
        "dense_similarity": hit.dense,
        "dense_gap": best_dense - hit.dense,
        "dense_rank_log": math.log1p(_rank(hit.dense_rank)),
        "lexical_rank_log": math.log1p(_rank(hit.lexical_rank)),
        "statute": float(meta.is_statute),
        "added_text": float(meta.origin == "added"),
        "home": float(is_home(meta.title)),
        "elsewhere": float(elsewhere(meta.title, hit.clause.doc, q) is not None),
        "named_match": float(bool(q.named_docs) and hit.clause.doc in q.named_docs),
        "named_other": float(bool(q.named_docs) and hit.clause.doc not in q.named_docs),
        "level": float(hit.clause.level),
        "chars_log": math.log1p(len(hit.clause.text)),
        "extended_base": measures.pop("extended_base"),
        **measures,
        **asked(q),
    }

