"""The dispatcher: a question is cleaned and analysed, routed by kind, and answered by one module of kinds/."""
from __future__ import annotations

import datetime as dt
import math
import threading

from ingest.lexicon import load_dictionary
from ingest.model import Clause
from kbase.answering.context import Context, states_unit
from kbase.answering.decide.features import Draft, candidate_features, features
from kbase.answering.decide.model import NO_RIVAL, StaleModel, shipped_model
from kbase.answering.kinds.aggregate import answer_aggregate
from kbase.answering.kinds.authority import answer_authority
from kbase.answering.kinds.compound import answer_the_rest
from kbase.answering.kinds.deadline import answer_deadline, dates_for_other_things, mentions_time
from kbase.answering.kinds.definition import answer_definition, named_definition
from kbase.answering.kinds.effective import answer_effective, answer_repealed
from kbase.answering.kinds.issuance import answer_issuance
from kbase.answering.kinds.not_found import not_found
from kbase.answering.kinds.passages import answer_outline, answer_passages
from kbase.answering.kinds.penalty import answer_penalty
from kbase.answering.kinds.related import answer_related
from kbase.answering.kinds.responsibility import answer_responsibility
from kbase.answering.kinds.target import answer_target
from kbase.answering.query import Query, analyse, clean, elsewhere, name_documents
from kbase.answering.retrieve import Hit, visible_docs
from kbase.answering.session import Session
from kbase.answering.slots import asked_slot, fills, other_data_asked
from kbase.model import Answer, Audience
from kbase.store.versions import version_note

INJECTION_REPLY = "我只回答知识库中政策文件和法律条文的问题，不执行其他指令。"


class Answerer(Context):
    warming: threading.Thread | None = None  # the background warm-up of a long-running process
    drafts: list | None = None  # when a list, every draft with its features is kept here and given as is (training)
    def warm_up(self, vectors: bool) -> None:
        """Load the tokenizer and BM25 now; with `vectors`, also the vector store and the whole word dictionary, in
        the background (a second of work most questions never wait for: worth it in a long-running bot, not in a
        one-shot command)."""
        self.answer("开封市2025年细颗粒物浓度目标")
        if vectors:
            self.warming = threading.Thread(target=self._warm_in_background, name="warm", daemon=True)
            self.warming.start()

    def _warm_in_background(self) -> None:
        self.retriever.warm_dense()
        load_dictionary()
        self.retriever.count_known_words()

    def answer(self, question: str, audience: Audience = "staff", session: Session | None = None,
               today: dt.date | None = None) -> Answer:
        today = today or self.settings.current_date()
        text, problem = clean(question, self.settings.max_question_chars)
        if problem:
            return Answer(question=question, status="refused", answer=problem, kind="invalid")
        q = analyse(text)
        q.slot, q.slot_confidence = asked_slot(q.text, q.asking)
        q.other_slots = other_data_asked(q.slot, q.asking)
        name_documents(q, self.index.docs.values())
        if q.injection:
            return Answer(question=question, status="refused", answer=INJECTION_REPLY, kind="injection")
        result = self._route(q, audience, session, today)
        result.question = question
        docs = self.index.docs
        notes = dict.fromkeys(version_note(meta, self.versions[meta.series_id], today, docs.get(meta.repealed_by or ""))
                              for meta in (docs.get(c.doc) for c in result.citations) if meta)
        result.answer += "".join(f"\n{note}" for note in notes if note)
        if result.status == "answered" and (note := _scope_note(q, result)):
            result.answer += f"\n{note}"
        if session is not None:
            session.remember(result)
        return result

    def _route(self, q: Query, audience: Audience, session: Session | None, today: dt.date) -> Answer:
        # national laws apply in every city; a city's own rules only where the base holds a text of that city
        if q.other_city and not q.law_hint and not any(q.other_city in d.title for d in self.index.docs.values()):
            return not_found(self, q, f"知识库没有关于{q.other_city}的政策文件，只收录开封市的文件、法规和国家法律。")
        if q.repealed and (repealed := answer_repealed(self, q)):
            return repealed
        if q.live_data:
            return not_found(self, q, "知识库只收录政策文件和法律条文，没有空气质量等监测数据。")
        if q.missing_text and not q.named_docs:
            return not_found(self, q, f"知识库中没有《{q.missing_text}》，无法回答与它有关的问题。")
        direct = self._typed_ref(q, audience, today)
        if direct is not None:
            hits = [Hit(direct, 1.0, 1.0)]
            return self._by_kind(q, hits, today) or answer_passages(self, q, hits)
        if q.kind == "aggregate":
            return answer_aggregate(self, q, audience, today)
        if q.kind == "issuance":
            return answer_issuance(self, q, audience, session, today)
        if q.kind == "effective":
            return answer_effective(self, q, audience, session, today)
        within = set(session.context()) if session is not None and q.follow_up else None
        hits = self.retriever.search(q, audience, within=within, today=today)
        if q.kind == "definition" and (defined := named_definition(self, q, hits, audience, today)):
            return defined  # the question names a term a text defines: no other relevance is needed
        if not hits:
            return not_found(self, q)
        return self._decide(q, self.draft(q, hits, within, today))

    def draft(self, q: Query, hits: list[Hit], within: set[str] | None, today: dt.date) -> Draft:
        """The answer the best clause gives, before anything decides whether to give it: the clause the relevance
        rule vouches for leads (else the best ranked; a follow-up keeps the clause it continues), and the module of
        the question's kind answers from it. The lead ranker scores the best hits: how likely the lead is to be a
        clause that answers, and how far another hit looks likelier, are for the decision to weigh."""
        lead_rank, gate, scores, candidates = 0, True, [], []
        if not within:
            relevant = [h for h in hits[: self.settings.relevance_candidates] if self.relevant(q, h)]
            gate = bool(relevant)
            lead_rank = hits.index(relevant[0]) if relevant else 0
            best = hits[: self.settings.lead_candidates]
            candidates = [(h.clause, candidate_features(q, best, rank, self.candidate_measures(q, h)))
                          for rank, h in enumerate(best)]
            if (ranker := shipped_model().lead) is not None:
                scores = ranker.score_many([row for _, row in candidates]).tolist()
            hits = [hits[lead_rank]] + [h for h in hits if h is not hits[lead_rank]]
        vouched = self.vouched_by_words(q, hits[0])
        answer = None
        if q.kind == "definition":
            answer = answer_definition(self, q, hits)
        answer = answer or self._by_kind(q, hits, today, exact=not within and not vouched)
        typed = answer is not None
        if answer is None or (q.asked_unit and not any(states_unit(q.asked_unit, c.quote) for c in answer.citations)
                              and states_unit(q.asked_unit, hits[0].clause.text)):
            answer = answer_passages(self, q, hits)  # the clause states the unit, in a sentence the kind's answer left out
        if q.other_slots:
            answer = answer_the_rest(self, q, hits[0].clause, answer, today)
        unknown = any(w in part for w in self.retriever.unknown_topics(q.concepts) for part in q.asking)
        others = [s for rank, s in enumerate(scores) if rank != lead_rank]
        lead_score = scores[lead_rank] if scores else 0.0
        added = [s for rank, s in enumerate(scores) if rank != lead_rank and candidates[rank][0].meta.origin == "added"]
        rival = max(-NO_RIVAL, min(NO_RIVAL, max(added) - lead_score)) if added else -NO_RIVAL
        return Draft(answer, hits, lead_rank, gate, vouched, typed, unknown, bool(within), lead_score,
                     lead_score - max(others, default=0.0), rival, candidates)

    def states_what_was_asked(self, q: Query, draft: Draft) -> bool:
        """The quotes fill the slot asked (an amount, a body, a date, a phone number, an address …) and every other
        datum asked, in the unit asked, for a year the clause covers."""
        return (fills(q.slot, draft.quotes) and all(fills(slot, draft.quotes) for slot in q.other_slots) and (not q.asked_unit or states_unit(q.asked_unit, draft.quotes))
                and (not q.years or draft.follow_up or _year_covered(q, draft.hits[0].clause)))

    def _decide(self, q: Query, draft: Draft) -> Answer:
        """Answered when the quotes state what was asked and the model finds the draft likely enough to be right;
        below that, the nearest clauses as leads (related) when the model or the relevance rule sees any; else
        not_found."""
        row = features(q, draft, self.measures(q, draft))
        states = self.states_what_was_asked(q, draft)
        if self.drafts is not None:  # training: every draft, whatever would be decided
            self.drafts.append((draft, row, states))
            return draft.answer
        model = shipped_model().decision
        if model is None:
            raise StaleModel("no answer/abstain model is shipped: python -m kbase.bench.train_decision")
        probability = round(model.probability(row), 3)
        threshold = (self.settings.answer_threshold if self.settings.answer_threshold is not None
                     else model.threshold_for(row))
        # a follow-up continues the clause of an answer already given: the model knows no follow-ups to weigh it by
        if (probability >= threshold or draft.follow_up) and states:
            draft.answer.confidence = probability
            return draft.answer
        if draft.gate or probability >= self.settings.related_min_probability:
            return answer_related(self, q, draft.hits, probability)
        return not_found(self, q)

    def measures(self, q: Query, draft: Draft) -> dict[str, float]:
        """What the retriever can say of the draft beyond its ranks: how much of the question the heading and the
        quoted sentences hold, and how heavy the heaviest word of the question is that the clause lacks."""
        clause = draft.hits[0].clause
        first = draft.answer.citations[0] if draft.answer.citations else None
        heading = _heading(clause)
        best_dense = max((h.dense for h in draft.hits), default=0.0)
        return {"heading_coverage": self.retriever.coverage(q.concepts, heading),
                "quote_coverage": self.retriever.coverage(q.concepts, draft.quotes),
                # a plan task's heading names the task and its quote the departments: together they answer 谁牵头
                "headed_quote_coverage": self.retriever.coverage(q.concepts, heading + draft.quotes),
                # several sentences of the clause state what was asked (an amount each for 个人 and 单位): the quote
                # may be the wrong one of them
                "slot_sentences_log": math.log1p(sum(fills(q.slot, s) for s in clause.sentences)),
                "sentences_log": math.log1p(len(clause.sentences)),
                "missing_weight": self.missing_weight(q, clause),
                # on a base a city extended, a question about its own text draws a bundled law's article as readily
                "extended_base": float(self.index.extended),
                "added_text_near": float(any(h.clause.meta.origin == "added" for h in draft.hits[1:4])),
                # a kind's module may answer from another clause than the lead (a penalty article, the city's own rule)
                "cites_lead": float((first.doc, first.ref) == (clause.doc, clause.ref)) if first else 0.0,
                "cited_added": float(first is not None and self.index.docs[first.doc].origin == "added"),
                "dense_gap": best_dense - draft.hits[0].dense}

    def candidate_measures(self, q: Query, hit: Hit) -> dict[str, float]:
        """What the retriever and the slot check say of a possible lead: whether the words or the words and the
        vectors vouch for it, how much of the question its heading holds, the heaviest word it lacks, and whether
        its text states what was asked."""
        clause = hit.clause
        return {"relevant": float(self.relevant(q, hit)),
                "vouched": float(self.vouched_by_words(q, hit)),
                "heading_coverage": self.retriever.coverage(q.concepts, _heading(clause)),
                "missing_weight": self.missing_weight(q, clause),
                "states_slot": float(fills(q.slot, clause.text)),
                "states_other_data": float(all(fills(slot, clause.text) for slot in q.other_slots)),
                "extended_base": float(self.index.extended)}

    def missing_weight(self, q: Query, clause: Clause) -> float:
        """The weight of the heaviest word of the question the clause lacks, as a share of the heaviest of all."""
        weighed = self.retriever.weighed(q.concepts)
        heaviest = max((w for _, w in weighed), default=1.0)
        text = self.retriever.headed(clause)
        lacking = [w for c, w in weighed if not any(form in text for form in c.forms)]
        return max(lacking, default=0.0) / heaviest if heaviest else 0.0

    def _typed_ref(self, q: Query, audience: Audience, today: dt.date) -> Clause | None:
        docs = visible_docs(self.index, audience, today, history=q.history)
        wanted = None
        if q.plan_ref:
            wanted = lambda c: c.ref == q.plan_ref  # noqa: E731
        elif q.article:
            wanted = lambda c: c.ref == q.article and (not q.named_docs or c.doc in q.named_docs)  # noqa: E731
        elif q.task_no:
            wanted = lambda c: c.level == 3 and not c.meta.is_statute and c.ref.endswith(f"){q.task_no}")  # noqa: E731
        if wanted is None:
            return None
        matches = [c for c in self.index.clauses.values() if c.doc in docs and wanted(c)]
        if q.article and len(matches) > 1:
            hits = self.retriever.search(q, audience, within={c.key for c in matches}, k=1, today=today)
            return hits[0].clause if hits else None
        return matches[0] if matches else None

    def _by_kind(self, q: Query, hits: list[Hit], today: dt.date, exact: bool = False) -> Answer | None:
        """The answer of the question's kind, None where its module finds none; with `exact` (the clause was found by
        meaning more than by words) a date or a number must be where one is asked for."""
        top = hits[0].clause
        children = self.children.get(top.key, [])
        if children and len(top.sentences) <= 1:  # a section heading: its answer is what it contains
            return answer_outline(q, top, children)
        answer = None
        if q.kind == "penalty":
            answer = answer_penalty(self, q, hits)
        elif q.kind == "responsibility":
            answer = answer_responsibility(self, q, top) or answer_authority(self, q, hits)
        elif q.kind == "deadline":
            answer = answer_deadline(self, q, top, today)
            if answer is None and dates_for_other_things(self, q, top):
                return None
        elif q.kind == "target":
            answer = answer_target(self, q, hits, needs_number=exact)
        if answer is None and exact and (q.kind == "target" or q.kind == "deadline" and not mentions_time(top.text)):
            return None
        return answer




def _scope_note(q: Query, answer: Answer) -> str | None:
    """Another city's rule leading an answer to a question that did not name that city says where it applies."""
    lead = answer.citations[0] if answer.citations else None
    city = elsewhere(lead.title, lead.doc, q) if lead else None
    return f"注：《{lead.title}》是{city}市的规定，只在{city}市适用。" if city else None


def _heading(clause: Clause) -> str:
    """A clause's heading, or for an article headed by its number only, its first words."""
    return clause.heading if clause.heading != clause.ref else clause.text[:30]


def _year_covered(q: Query, clause: Clause) -> bool:
    """A year asked about is one the clause names or, for a plan, within its period; a law sets no target for a year
    it does not name (到2030年…要到多少)."""
    meta = clause.meta
    first = meta.issued.year if meta.issued else None
    last = meta.expires.year if meta.expires else None
    for year in q.years:
        if str(year) in clause.text:
            continue
        if (first and year < first - 5) or (last and year > last) or (q.kind == "target" and meta.is_statute):
            return False
    return True
