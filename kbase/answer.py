"""Extractive answers: the sentence that states the asked fact, quoted verbatim and cited, or an honest not_found."""
from __future__ import annotations

import datetime as dt
import re
import threading

from ingest.ledger import find_deadlines, find_targets, parse_roles, role_blocks
from ingest.model import Clause, Deadline, Task
from ingest.text import fmt_date, is_verbatim
from kbase.model import Answer, Audience, Citation
from kbase.query import Query, analyse, clean, name_documents
from kbase.render import fmt_target
from kbase.retrieve import Hit, Retriever, bigram_overlap, visible_docs
from kbase.session import Session
from kbase.versions import series, version_note

NOT_FOUND = "抱歉，现有文件中没有找到与这个问题直接相关的规定。"
INJECTION_REPLY = "我只回答知识库中政策文件和法律条文的问题，不执行其他指令。"
_QUANTITY = re.compile(r"\d|[一二三四五六七八九十百千万亿]+(?:平方|万|亿|个|条|项|%)")
_ITEM = re.compile(r"^[（(][一二三四五六七八九十]+[)）]")
ROLE_NAMES = {"lead": "牵头单位", "support": "配合/参与单位", "shared": "按职责分工负责", "implement": "负责落实"}


def cite(clause: Clause, quote: str) -> Citation:
    """A citation whose quote has been checked to be verbatim in the clause (and so in the source)."""
    if not is_verbatim(quote, clause.text):
        raise ValueError(f"quote not verbatim in {clause.key}: {quote[:40]}")
    return Citation(doc=clause.doc, title=clause.meta.title, ref=clause.ref, heading=clause.heading,
                    quote=quote, text=clause.text)


def deadline_status(date: dt.date, today: dt.date) -> str:
    if date < today:
        return f"已于{fmt_date(date)}到期"
    if date == today:
        return "今天到期"
    return f"还有{(date - today).days}天"


class Answerer:
    def __init__(self, index, settings):
        self.index = index
        self.settings = settings
        self.retriever = Retriever(index, settings)
        self.tasks_by_key = {f"{t.doc}::{t.ref}": t for t in index.tasks}
        self.versions = series(index.docs.values())
        self.children: dict[str, list[Clause]] = {}
        for clause in index.clauses.values():
            if clause.parent:
                self.children.setdefault(f"{clause.doc}::{clause.parent}", []).append(clause)

    def warm_up(self, vectors: bool) -> None:
        """Load the tokenizer and BM25 now; with `vectors`, also the vector store, in the background (a second
        of imports most questions never wait for: worth it in a long-running bot, not in a one-shot command)."""
        self.answer("开封市2025年细颗粒物浓度目标")
        if vectors:
            threading.Thread(target=self.retriever.warm_dense, name="warm-dense", daemon=True).start()

    def answer(self, question: str, audience: Audience = "staff", session: Session | None = None,
               today: dt.date | None = None) -> Answer:
        today = today or self.settings.current_date()
        text, problem = clean(question, self.settings.max_question_chars)
        if problem:
            return Answer(question=question, status="refused", answer=problem, kind="invalid")
        q = analyse(text)
        name_documents(q, self.index.docs.values())
        if q.injection:
            return Answer(question=question, status="refused", answer=INJECTION_REPLY, kind="injection")
        result = self._route(q, audience, session, today)
        result.question = question
        notes = dict.fromkeys(version_note(meta, self.versions[meta.series_id], today)
                              for meta in (self.index.docs.get(c.doc) for c in result.citations) if meta)
        result.answer += "".join(f"\n{note}" for note in notes if note)
        if session is not None:
            session.remember(result)
        return result

    def _route(self, q: Query, audience: Audience, session: Session | None, today: dt.date) -> Answer:
        if q.other_city and q.kind != "law":
            return self._not_found(q, f"知识库只收录开封市的政策文件和国家法律，没有关于{q.other_city}的规定。")
        direct = self._typed_ref(q, audience, today)
        if direct is not None:
            return self._by_kind(q, [Hit(direct, 1.0, 1.0)], today)
        if q.kind == "aggregate":
            return self._aggregate(q, audience, today)
        if q.kind == "issuance":
            return self._issuance(q, audience, session, today)
        within = set(session.context()) if session is not None and q.follow_up else None
        hits = self.retriever.search(q, audience, within=within, today=today)
        if not hits or (not within and not self._relevant(q, hits[0])):
            return self._not_found(q, NOT_FOUND, hits)
        if q.years and not within and not self._year_covered(q, hits[0].clause):
            return self._not_found(q, f"现有文件没有涉及{q.years[0]}年的相关规定。", hits)
        return self._by_kind(q, hits, today)

    def closeness(self, q: Query, text: str) -> float:
        """How well a sentence fits the question: its words, then their order."""
        return self.retriever.coverage(q.tokens, text) + 0.5 * bigram_overlap(q.text, text)

    def _relevant(self, q: Query, hit: Hit) -> bool:
        return hit.coverage >= self.settings.min_relevance  # English: over the glossary's Chinese terms

    def _year_covered(self, q: Query, clause: Clause) -> bool:
        meta = clause.meta
        first = meta.issued.year if meta.issued else None
        last = meta.expires.year if meta.expires else None
        for year in q.years:
            if str(year) in clause.text:
                continue
            if (first and year < first - 5) or (last and year > last):
                return False
        return True

    def _typed_ref(self, q: Query, audience: Audience, today: dt.date) -> Clause | None:
        docs = visible_docs(self.index, audience, today, history=q.history)
        wanted = None
        if q.plan_ref:
            wanted = lambda c: c.ref == q.plan_ref  # noqa: E731
        elif q.article:
            wanted = lambda c: c.ref == q.article and (not q.named_docs or c.doc in q.named_docs)  # noqa: E731
        elif q.task_no:
            wanted = lambda c: c.level == 3 and c.meta.kind != "law" and c.ref.endswith(f"){q.task_no}")  # noqa: E731
        if wanted is None:
            return None
        matches = [c for c in self.index.clauses.values() if c.doc in docs and wanted(c)]
        if q.article and len(matches) > 1:
            hits = self.retriever.search(q, audience, within={c.key for c in matches}, k=1, today=today)
            return hits[0].clause if hits else None
        return matches[0] if matches else None

    def _by_kind(self, q: Query, hits: list[Hit], today: dt.date) -> Answer:
        top = hits[0].clause
        children = self.children.get(top.key, [])
        if children and len(top.sentences) <= 1:  # a section heading: its answer is what it contains
            return self._outline(q, top, children)
        if q.kind == "responsibility" and role_blocks(top.text):
            return self._responsibility(q, top)
        if q.kind == "deadline":
            answer = self._deadline(q, top, today)
            if answer:
                return answer
        if q.kind == "target":
            answer = self._target(q, hits)
            if answer:
                return answer
        return self._passages(q, hits)

    # --- kinds -------------------------------------------------------------------------------

    def _responsibility(self, q: Query, clause: Clause) -> Answer:
        blocks = role_blocks(clause.text)
        paragraphs = [p for p in clause.text.splitlines() if p.strip()]
        best = max(blocks, key=lambda b: self.closeness(q, next((p for p in paragraphs if b in p), b)))
        roles = parse_roles(best)
        lines = [f"{ROLE_NAMES[r]}：{'、'.join(units)}" for r, units in roles.items() if units]
        asked = q.role if q.role in roles else "lead"
        if not roles[asked] and q.role not in roles:  # 由哪些部门负责: answer with whoever the note names first
            asked = next((r for r, units in roles.items() if units), asked)
        name = f"{clause.ref}「{clause.title or clause.heading}」"
        lead = (f"{name}的{ROLE_NAMES[asked]}是{'、'.join(roles[asked])}。" if roles[asked]
                else f"{name}未列出{ROLE_NAMES[asked]}。")
        body = f"{lead}\n" + "\n".join(lines) + f"\n（依据《{clause.meta.title}》{clause.ref}）"
        return Answer(question=q.text, status="answered", answer=body, citations=[cite(clause, best)],
                      kind="responsibility")

    def _deadline(self, q: Query, clause: Clause, today: dt.date) -> Answer | None:
        deadlines = [d for d in find_deadlines(clause.sentences) if d.kind == "deadline"]
        starts = [d for d in find_deadlines(clause.sentences) if d.kind == "start"]
        if not deadlines and not starts:
            return None
        candidates = deadlines or starts
        best = max(candidates, key=lambda d: (self.closeness(q, d.what), -candidates.index(d)))
        sentence = next(s for s in clause.sentences if best.text in s)
        if best.kind == "start":
            status = f"自{best.date.year}年起执行"
        else:
            status = f"截止日期{fmt_date(best.date)}，{deadline_status(best.date, today)}（以{fmt_date(today)}计）"
        body = f"{best.text}{best.what}。{status}。\n原文：「{sentence}」\n（依据《{clause.meta.title}》{clause.ref}）"
        return Answer(question=q.text, status="answered", answer=body, citations=[cite(clause, sentence)],
                      kind="deadline")

    def _target(self, q: Query, hits: list[Hit]) -> Answer | None:
        scored = []
        for rank, hit in enumerate(hits[:3]):
            for sentence in hit.clause.sentences:
                numeric = 0.15 if _QUANTITY.search(sentence) else 0.0
                score = (self.closeness(q, sentence) + numeric) * (1.0 - 0.15 * rank)
                scored.append((score, hit.clause, sentence))
        if not scored:
            return None
        _, clause, sentence = max(scored, key=lambda s: s[0])
        targets = [t for t in find_targets(clause.sentences) if t.text == sentence.strip()]
        summary = ""
        if targets:
            target = self._asked_target(q, targets)
            if self.closeness(q, target.metric) >= 0.3 or len(targets) > 1:
                summary = f"{target.metric}：{fmt_target(target)}\n"
        unstated = [y for y in q.years if str(y) not in sentence]
        if unstated:  # "2024年PM2.5目标": the plan sets 2025's; say so rather than pass it off as 2024's
            summary = f"文件没有单独规定{unstated[0]}年的目标，所列为原文规定的目标。\n" + summary
        body = f"{summary}原文：「{sentence}」\n（依据《{clause.meta.title}》{clause.ref}）"
        return Answer(question=q.text, status="answered", answer=body, citations=[cite(clause, sentence)],
                      kind="target")

    def _asked_target(self, q: Query, targets: list) -> object:
        """The target whose metric names what the question asks; words every metric shares don't decide."""
        words = [t for t in q.tokens if len(t) > 1]
        shared = {w for w in words if all(w in t.metric for t in targets)}
        telling = [w for w in words if w not in shared]
        return max(targets, key=lambda t: (self.retriever.coverage(telling, t.metric) if telling else 0.0,
                                           self.closeness(q, t.metric)))

    def _issuance(self, q: Query, audience: Audience, session: Session | None, today: dt.date) -> Answer:
        """Who issued a document and when, from its metadata, cited to the document's opening text."""
        docs = visible_docs(self.index, audience, today, history=q.history)
        candidates = [d for d in q.named_docs if d in docs]
        if not candidates and session is not None and session.context():
            candidates = [session.context()[0].split("::")[0]]
        if not candidates:
            hits = self.retriever.search(q, audience, today=today)
            candidates = [hits[0].clause.doc] if hits else []
        preface = self.index.clauses.get(f"{candidates[0]}::序") if candidates else None
        if preface is None:
            return self._not_found(q, NOT_FOUND)
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

    def _outline(self, q: Query, clause: Clause, children: list[Clause]) -> Answer:
        items = "\n".join(f"{i}. {c.heading}" for i, c in enumerate(children, 1))
        body = f"《{clause.meta.title}》{clause.heading}包括：\n{items}"
        citations = [cite(clause, clause.sentences[0] if clause.sentences else clause.text)]
        citations += [cite(c, c.sentences[0]) for c in children if c.sentences]
        return Answer(question=q.text, status="answered", answer=body, citations=citations, kind=q.kind)

    def _passages(self, q: Query, hits: list[Hit]) -> Answer:
        citations, quotes = [], []
        for rank, hit in enumerate(hits[: self.settings.max_citations]):
            if citations and hit.coverage < self.settings.min_relevance:
                continue
            chosen = self._best_sentences(q, hit.clause, 2 if rank == 0 else 1)
            citations += [cite(hit.clause, s) for s in chosen]
            quotes.append(f"《{hit.clause.meta.title}》{hit.clause.ref}：「{''.join(sorted(chosen, key=hit.clause.sentences.index))}」")
        body = "根据" + quotes[0] + ("\n另见：\n" + "\n".join(quotes[1:]) if len(quotes) > 1 else "")
        return Answer(question=q.text, status="answered", answer=body, citations=citations, kind=q.kind)

    def _best_sentence(self, q: Query, clause: Clause) -> str:
        return self._best_sentences(q, clause, 1)[0]

    def _best_sentences(self, q: Query, clause: Clause, n: int) -> list[str]:
        """The n sentences closest to the question; a runner-up must come close to the best."""
        sentences = [s for s in clause.sentences if s != clause.heading] or clause.sentences or [clause.text]
        ranked = sorted(sentences, key=lambda s: (-self.closeness(q, s), sentences.index(s)))
        best = self.closeness(q, ranked[0])
        chosen = [ranked[0]] + [s for s in ranked[1:n] if self.closeness(q, s) >= 0.5 * best > 0]
        # a law's item "（一）…的；" means nothing without the sentence that introduces the list
        if _ITEM.match(chosen[0]) and sentences[0] not in chosen:
            chosen.insert(0, sentences[0])
        return chosen

    # --- aggregates --------------------------------------------------------------------------

    def _aggregate(self, q: Query, audience: Audience, today: dt.date) -> Answer:
        docs = visible_docs(self.index, audience, today, history=False)
        tasks = [t for t in self.index.tasks if t.doc in docs]
        label = []
        if q.departments:
            roles = [q.role] if q.role in ROLE_NAMES else list(ROLE_NAMES)
            dept = q.departments[0]
            tasks = [t for t in tasks if any(dept in getattr(t, r) for r in roles)]
            label.append(f"{dept}{'牵头' if roles == ['lead'] else ROLE_NAMES[roles[0]] if len(roles) == 1 else '参与'}")
        if q.years:
            year = q.years[0]
            tasks = [t for t in tasks if any(d.date.year == year and d.kind == "deadline" for d in t.deadlines)]
            label.append(f"{year}年底前到期")
        if q.overdue:
            tasks = [t for t in tasks if any(d.kind == "deadline" and d.date < today for d in t.deadlines)]
            label.append(f"截至{fmt_date(today)}已到期")
        if not label:  # "黑臭水体消除行动有哪些任务": the tasks under the section the question names
            section = self._section(q, audience, today)
            if section is not None:
                tasks = [t for t in tasks if t.doc == section.doc and t.ref.startswith(section.ref)]
                label.append(section.heading)
        if not tasks:
            return self._not_found(q, f"没有找到符合条件（{'，'.join(label) or '任务'}）的任务。")
        lines, citations = [], []
        for task in tasks:
            clause = self.index.clauses[f"{task.doc}::{task.ref}"]
            detail = self._task_detail(task, q, today)
            lines.append(f"{len(lines) + 1}. {task.ref} {task.title}{detail}")
            quote = next((b for b in role_blocks(clause.text)), clause.sentences[0])
            citations.append(cite(clause, quote))
        body = f"共{len(tasks)}项任务（{'，'.join(label) or '全部'}）：\n" + "\n".join(lines)
        return Answer(question=q.text, status="answered", answer=body, citations=citations, kind="aggregate")

    def _section(self, q: Query, audience: Audience, today: dt.date) -> Clause | None:
        """The plan section (or task) a task-list question is about, if it names one clearly enough."""
        hits = self.retriever.search(q, audience, today=today)
        best = next((h for h in hits if h.clause.meta.kind != "law" and h.clause.ref != "序"), None)
        return best.clause if best and self._relevant(q, best) else None

    @staticmethod
    def _task_detail(task: Task, q: Query, today: dt.date) -> str:
        due: list[Deadline] = [d for d in task.deadlines if d.kind == "deadline"
                               and (not q.years or d.date.year in q.years) and (not q.overdue or d.date < today)]
        if due and (q.years or q.overdue):
            return "：" + "；".join(f"{d.text}{d.what}（{deadline_status(d.date, today)}）" for d in due)
        return f"（牵头：{'、'.join(task.lead) or '—'}）"

    def _not_found(self, q: Query, message: str, hits: list[Hit] | None = None) -> Answer:
        related = [cite(h.clause, self._best_sentence(q, h.clause)) for h in (hits or [])[:2]]
        body = message
        if related:
            body += "\n相关条款：" + "；".join(f"《{c.title}》{c.ref}" for c in related)
        return Answer(question=q.text, status="not_found", answer=body, related=related, kind=q.kind)
