"""How answers word dates, deadlines and targets."""
from __future__ import annotations

import datetime as dt

from ingest.model import Target
from ingest.text import fmt_date

_AFTER_WORDS = {"以上", "以下", "以内", "左右"}


def deadline_status(date: dt.date, today: dt.date) -> str:
    if date < today:
        return f"已于{fmt_date(date)}到期"
    if date == today:
        return "今天到期"
    return f"还有{(date - today).days}天"


def fmt_target(target: Target) -> str:
    """提高到16%以上（2025年）: the comparator word before or after the value, as Chinese puts it."""
    words = (target.comparator or "").split()
    before = "".join(w for w in words if w not in _AFTER_WORDS)
    after = "".join(w for w in words if w in _AFTER_WORDS)
    return f"{before}{target.value:g}{target.unit}{after}" + (f"（{target.year}年）" if target.year else "")
