"""Document versions: which version of each document is in force on a date, and how to say so."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from ingest.model import DocMeta
from ingest.text import fmt_date


def starts(meta: DocMeta) -> dt.date:
    return meta.effective or meta.issued or dt.date.min


def series(docs: Iterable[DocMeta]) -> dict[str, list[DocMeta]]:
    """Versions grouped by series, oldest first."""
    groups: dict[str, list[DocMeta]] = defaultdict(list)
    for meta in docs:
        groups[meta.series_id].append(meta)
    return {key: sorted(versions, key=starts) for key, versions in groups.items()}


def in_force(docs: Iterable[DocMeta], today: dt.date) -> set[str]:
    """Ids of the version of each document in force today (the latest that has taken effect, else the first);
    a document another one has repealed is in force no longer."""
    docs = list(docs)
    current = set()
    for versions in series(docs).values():
        started = [v for v in versions if starts(v) <= today]
        current.add((started[-1] if started else versions[0]).id)
    return {doc.id for doc in docs if doc.id in current and not repealed(doc, today)}


def repealed(meta: DocMeta, today: dt.date) -> bool:
    return meta.repealed_by is not None and (meta.repealed_on is None or meta.repealed_on <= today)


def version_note(meta: DocMeta, versions: list[DocMeta], today: dt.date, repealer: DocMeta | None = None) -> str | None:
    """A sentence on which version a citation comes from, given all versions of its document (oldest first) and
    the document that repealed it, if one did."""
    if repealed(meta, today):
        by = f"《{repealer.title}》" if repealer else "新的文件"
        when = f"{fmt(meta.repealed_on)}起" if meta.repealed_on else ""
        return f"注意：《{meta.title}》已被{by}废止（{when}），以上条文已不再施行。"
    if len(versions) < 2:
        return None
    if meta.id in in_force(versions, today):
        return f"《{meta.title}》有{len(versions)}个版本，以上依据{fmt(starts(meta))}起施行的现行版本。"
    later = next((v for v in versions if starts(v) > starts(meta)), None)
    until = f"，{fmt(starts(later))}起已被新版本取代" if later else ""
    return f"注意：以上依据的是《{meta.title}》{fmt(starts(meta))}起施行的旧版本{until}。"


def fmt(date: dt.date) -> str:
    return fmt_date(date) if date != dt.date.min else "发布之日"
